package render

import (
	"fmt"
	"strconv"
)

// Defaults of the patterns operator where the fork does not say: the namespace its Pattern
// lives in, where the GitOps subscription is, and the cluster-wide Argo CD's namespace.
const (
	PatternNamespace   = "openshift-operators"
	GitOpsSubNamespace = "openshift-operators"
	VPArgoNamespace    = "openshift-gitops"
)

// ClusterGroupPlan is how the Validated Patterns operator has the clustergroup chart (at
// chartPath in t) rendered for p's clusterGroup (validatedpatterns/patterns-operator,
// internal/controller/argo.go at 1bf5a2c3: applicationName, commonApplicationSpec,
// newApplicationValueFiles, newApplicationParameters). The Application, and so the Helm
// release, is <pattern>-<clusterGroup>, deployed into the Pattern's namespace; the value files
// are values-global.yaml, values-<clusterGroup>.yaml and the platform and version ones (those
// missing are skipped, IgnoreMissingValueFiles), then the shared value files; the parameters
// are the operator's global.* ones. Only the hub's group is installed this way; a spoke's
// comes from the hub's ACM policy.
func (p *Pattern) ClusterGroupPlan(t Files, facts Facts, chartPath, patternNamespace string) (AppPlan, error) {
	if p.Spoke() {
		return AppPlan{}, fmt.Errorf("clusterGroup %s is a spoke's: its clustergroup application comes from the hub's ACM policy", p.ClusterGroup)
	}
	plan := AppPlan{Group: p.ClusterGroup, Name: ClusterGroupAppName, Release: p.Name + "-" + p.ClusterGroup,
		Namespace: patternNamespace, Path: chartPath, KubeVersion: facts.KubeVersion}
	files := []string{"values-global.yaml", "values-" + p.ClusterGroup + ".yaml"}
	if pf := facts.ClusterPlatform; pf != "" {
		files = append(files, "values-"+pf+".yaml", "values-"+pf+"-"+facts.ClusterVersion+".yaml", "values-"+pf+"-"+p.ClusterGroup+".yaml")
	}
	files = append(files, "values-"+facts.ClusterVersion+"-"+p.ClusterGroup+".yaml")
	root := mergeValues(map[string]any{}, p.root)
	for _, f := range p.shared {
		out, err := tplValueFile(f, root)
		if err != nil {
			return plan, err
		}
		fp, err := forkPath("", out)
		if err != nil {
			return plan, err
		}
		files = append(files, fp)
	}
	for _, f := range files {
		if t.Has(f) {
			plan.ValueFiles = append(plan.ValueFiles, f)
		}
	}
	local := facts.LocalClusterDomain
	if local == "" {
		local = facts.HubClusterDomain
	}
	multi := truthy(p.Dig("main", "multiSourceConfig", "enabled"))
	plan.Params = []Param{
		{Name: "global.pattern", Value: p.Name},
		{Name: "global.namespace", Value: patternNamespace},
		{Name: "global.repoURL", Value: p.RepoURL},
		{Name: "global.originURL", Value: ""},
		{Name: "global.targetRevision", Value: p.Revision},
		{Name: "global.hubClusterDomain", Value: facts.HubClusterDomain},
		{Name: "global.localClusterDomain", Value: local},
		{Name: "global.clusterDomain", Value: facts.ClusterDomain},
		{Name: "global.clusterVersion", Value: facts.ClusterVersion},
		{Name: "global.clusterPlatform", Value: facts.ClusterPlatform},
		{Name: "global.localClusterName", Value: PlaceholderClusterName},
		{Name: "global.privateRepo", Value: "false"},
		{Name: "global.multiSourceSupport", Value: strconv.FormatBool(multi)},
		{Name: "global.multiSourceRepoUrl", Value: str(p.Dig("main", "multiSourceConfig", "helmRepoUrl"))},
		{Name: "global.experimentalCapabilities", Value: ""},
		{Name: "global.gitOpsSubNamespace", Value: GitOpsSubNamespace},
		{Name: "global.vpArgoNamespace", Value: VPArgoNamespace},
		{Name: "global.multiSourceTargetRevision", Value: str(p.Dig("main", "multiSourceConfig", "clusterGroupChartVersion"))},
	}
	return plan, nil
}

// ClusterGroupAppName names the clustergroup chart's objects in a render or review.
const ClusterGroupAppName = "clustergroup"

// PlaceholderClusterName stands for the cluster's name, which only the cluster knows.
const PlaceholderClusterName = "cluster-provided-name"
