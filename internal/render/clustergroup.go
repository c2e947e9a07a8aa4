package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/strvals"
	sigsyaml "sigs.k8s.io/yaml"
)

// Defaults of the patterns operator where the fork does not say: the namespace its Pattern
// lives in, where the GitOps subscription is, and the cluster-wide Argo CD's namespace.
const (
	PatternNamespace   = "openshift-operators"
	GitOpsSubNamespace = "openshift-operators"
	VPArgoNamespace    = "openshift-gitops"
	// DefaultHelmRepoURL is the Validated Patterns chart repository, the operator's default
	// multiSourceConfig.helmRepoUrl.
	DefaultHelmRepoURL = "https://charts.validatedpatterns.io/"
	// DefaultClusterGroupChartVersion is the clustergroup chart version the operator uses
	// when the Pattern names none, for a fork whose common/ is slimmed, as pattern-gen's are
	// (getClusterGroupChartVersion).
	DefaultClusterGroupChartVersion = "0.9.*"
)

// PatternCR is what the fork's Pattern resource (bootstrap/pattern.yaml) says that the patterns
// operator passes to the clustergroup chart.
type PatternCR struct {
	Namespace                string
	TargetRevision           string
	OriginRepo               string
	PrivateRepo              bool // gitSpec.tokenSecret is set
	MultiSource              *bool
	HelmRepoURL              string
	ClusterGroupGitRepoURL   string // the chart from git instead (rendered from --clustergroup-chart all the same)
	ClusterGroupChartVersion string
	ExperimentalCapabilities string
	ExtraValueFiles          []string
	ExtraParameters          []Param
}

// ClusterGroupPlan is how the Validated Patterns operator has the clustergroup chart (at
// chartPath in t) rendered for p's clusterGroup (validatedpatterns/patterns-operator,
// internal/controller/argo.go at 1bf5a2c3: applicationName, commonApplicationSpec,
// newApplicationValueFiles, getSharedValueFiles, newApplicationParameters). The Application,
// and so the Helm release, is <pattern>-<clusterGroup>, deployed into the Pattern's namespace;
// the value files are values-global.yaml, values-<clusterGroup>.yaml, the platform, version
// and cluster-name ones (under variants/<clusterGroup>/ when the fork has a variants folder;
// those missing are skipped, IgnoreMissingValueFiles), the Pattern's
// extraValueFiles, then the shared value files, templated with the merged values and the
// parameters; the parameters are the operator's global.* ones, the operator's defaults where
// the Pattern is silent (and global.vpNewFolderDir with a variants folder), then the Pattern's
// extraParameters of new names (one with a name the operator sets is ignored there,
// updateHelmParameter); the inline values are extraParametersNested, the Pattern's
// extraParameters by name (newApplicationValues), null when there are none. Only the hub's
// group is installed this way; a spoke's comes from the hub's ACM policy.
func (p *Pattern) ClusterGroupPlan(t Files, facts Facts, chartPath string, cr PatternCR) (AppPlan, error) {
	if p.Spoke() {
		return AppPlan{}, fmt.Errorf("clusterGroup %s is a spoke's: its clustergroup application comes from the hub's ACM policy", p.ClusterGroup)
	}
	ns := cr.Namespace
	if ns == "" {
		ns = PatternNamespace
	}
	plan := AppPlan{Group: p.ClusterGroup, Name: ClusterGroupAppName, Release: p.Name + "-" + p.ClusterGroup,
		Namespace: ns, Path: chartPath, KubeVersion: facts.KubeVersion}
	// newApplicationValueFiles: the group's files, under variants/<group>/ when the fork has a
	// variants folder (HasVariantsFolderLayout).
	g, pf, ver := p.ClusterGroup, facts.ClusterPlatform, facts.ClusterVersion
	dir := ""
	if t, ok := t.(Tree); ok && hasFolder(t, "variants/") {
		dir = "variants/" + g + "/"
	}
	plan.Params = operatorParams(p, facts, cr, ns, dir != "")
	plan.Values = map[string]any{"extraParametersNested": nil}
	if nested := nestedParameters(cr.ExtraParameters); nested != nil {
		plan.Values["extraParametersNested"] = nested
	}
	files := []string{"values-global.yaml", dir + "values-" + g + ".yaml", dir + "values-" + pf + ".yaml", dir + "values-" + pf + "-" + ver + ".yaml",
		dir + "values-" + pf + "-" + g + ".yaml", dir + "values-" + ver + "-" + g + ".yaml", dir + "values-" + PlaceholderClusterName + ".yaml"}
	for _, f := range cr.ExtraValueFiles {
		fp, err := forkPath("", "/"+f)
		if err != nil {
			return plan, err
		}
		files = append(files, fp)
	}
	// The shared value files are templated with the values of the files above and the
	// parameters, as the operator does before it lists them.
	root := map[string]any{}
	for _, f := range files {
		if t, ok := t.(Tree); ok {
			if m, err := readValues(t, f, false); err == nil {
				mergeValues(root, m)
			}
		}
	}
	for _, prm := range plan.Params {
		if err := strvals.ParseInto(prm.Name+"="+EscapeSetValue(prm.Value), root); err != nil {
			return plan, fmt.Errorf("parameter %s: %w", prm.Name, err)
		}
	}
	shared, _ := Dig(root, "clusterGroup", "sharedValueFiles").([]any)
	for _, s := range shared {
		f, ok := s.(string)
		if !ok {
			continue
		}
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
	return plan, nil
}

// SpokeClusterGroupPlan is how the hub's ACM policy has the clustergroup chart rendered on the
// spokes of p's group (validatedpatterns/acm-chart v0.1.27, the range pattern-gen's forks pin:
// templates/policies/application-policies.yaml and the acm.app.policies.* helpers): the
// Application <pattern>-<group> in openshift-gitops, into the namespace of the same name; the
// value files values-global.yaml, values-<group>.yaml, the spoke's platform and version ones and
// values-<localClusterName>.yaml (those missing skipped), then the managed group's
// extraValueFiles; the parameters of acm.app.policies.helmparameters, the hub's values and the
// spoke's own facts (its hub templates look them up on the spoke), clusterGroup.name, the hub's
// extraParametersNested (which the clustergroup chart passes the acm application as strings),
// then the group's helmOverrides; the inline values are those extraParametersNested. hub is
// the hub's clustergroup plan, whose parameters are the hub's global.* values. No
// sharedValueFiles: the policy lists none.
func (p *Pattern) SpokeClusterGroupPlan(t Files, facts Facts, chartPath string, hub SpokeHub, g ManagedGroup) (AppPlan, bool, error) {
	// global.deletePattern is the hub's: the acm application has it from the hub's values.
	deletePattern := str(hub.Pattern.Dig("global", "deletePattern"))
	switch deletePattern {
	case "DeleteSpoke":
		return AppPlan{}, false, nil // the policy is not made: nothing is rendered on the spokes
	case "DeleteSpokeChildApps":
		deletePattern = "DeleteChildApps"
	}
	name := p.Name + "-" + g.Name
	plan := AppPlan{Group: p.ClusterGroup, Name: ClusterGroupAppName, Release: name, Namespace: name, Path: chartPath, KubeVersion: facts.KubeVersion}
	hubValue := func(n string) string {
		for _, prm := range hub.Plan.Params {
			if prm.Name == n {
				return prm.Value
			}
		}
		return ""
	}
	local := facts.LocalClusterDomain
	localName := "" // (split "." domain)._1
	if parts := strings.Split(local, "."); len(parts) > 1 {
		localName = parts[1]
	}
	files := []string{"values-global.yaml", "values-" + g.Name + ".yaml"}
	pf, ver := facts.ClusterPlatform, facts.ClusterVersion
	files = append(files, "values-"+pf+".yaml", "values-"+pf+"-"+ver+".yaml", "values-"+pf+"-"+g.Name+".yaml", "values-"+ver+"-"+g.Name+".yaml", "values-"+localName+".yaml")
	multiSource := hubValue("global.multiSourceSupport") == "true"
	for _, f := range g.ExtraValueFiles {
		rest, inFork := strings.CutPrefix(f, "$patternref/")
		if multiSource && !inFork {
			continue // resolved against the chart's source, which does not hold it
		}
		fp, err := forkPath("", "/"+rest)
		if err != nil {
			return plan, false, fmt.Errorf("clusterGroup.managedClusterGroups %s: extraValueFiles: %w", g.Name, err)
		}
		files = append(files, fp)
	}
	for _, f := range files {
		if t.Has(f) && !slices.Contains(plan.ValueFiles, f) {
			plan.ValueFiles = append(plan.ValueFiles, f)
		}
	}
	for _, n := range []string{"global.repoURL", "global.originURL", "global.targetRevision"} {
		plan.Params = append(plan.Params, Param{Name: n, Value: hubValue(n)})
	}
	plan.Params = append(plan.Params,
		Param{Name: "global.namespace", Value: name}, // $ARGOCD_APP_NAMESPACE, which Argo CD expands
		Param{Name: "global.pattern", Value: hubValue("global.pattern")},
		Param{Name: "global.hubClusterDomain", Value: hubValue("global.hubClusterDomain")},
		Param{Name: "global.localClusterDomain", Value: local},
		Param{Name: "global.clusterDomain", Value: strings.ReplaceAll(local, "apps.", "")},
		Param{Name: "global.clusterVersion", Value: ver},
		Param{Name: "global.localClusterName", Value: localName},
		Param{Name: "global.clusterPlatform", Value: pf})
	for _, n := range []string{"global.multiSourceSupport", "global.multiSourceRepoUrl", "global.multiSourceTargetRevision", "global.privateRepo", "global.experimentalCapabilities"} {
		plan.Params = append(plan.Params, Param{Name: n, Value: hubValue(n)})
	}
	plan.Params = append(plan.Params,
		Param{Name: "global.deletePattern", Value: deletePattern},
		Param{Name: "global.gitOpsSubNamespace", Value: hubValue("global.gitOpsSubNamespace")},
		Param{Name: "clusterGroup.name", Value: g.Name})
	// The hub's chart passes its extraParametersNested to the acm application as
	// {{ printf "%s" $v | quote }}: strings from here on, a non-string as fmt's %s shows it.
	nested, _ := hub.Plan.Values["extraParametersNested"].(map[string]any)
	var spokeNested any // null when there are none, as the policy's empty mapping reads
	if len(nested) > 0 {
		m := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(nested)) {
			v := fmt.Sprintf("%s", nested[k])
			m[k] = v
			plan.Params = append(plan.Params, Param{Name: k, Value: v})
		}
		spokeNested = m
	}
	plan.Values = map[string]any{"extraParametersNested": spokeNested}
	plan.Params = append(plan.Params, g.HelmOverrides...)
	return plan, true, nil
}

// hasFolder says whether t holds a file under the folder prefix (ending in "/").
func hasFolder(t Tree, prefix string) bool {
	for f := range t {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// nestedParameters are the Pattern's extraParameters as the operator's extraParametersNested
// values, nil when there are none. The operator writes each as a "name: value" line that Helm
// reads with sigs.k8s.io/yaml (YAML 1.1, through JSON): each value is read the same way, so
// true, yes, 3 and [1, 2] come out as Helm has them.
func nestedParameters(extra []Param) map[string]any {
	if len(extra) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, e := range extra {
		var v any
		if err := sigsyaml.Unmarshal([]byte(e.Value), &v); err != nil {
			v = e.Value
		}
		out[e.Name] = v
	}
	return out
}

// SpokeHub is what a spoke's clustergroup plan takes from the hub: its clusterGroup and the
// plan of its own clustergroup chart, whose parameters are the hub's global.* values.
type SpokeHub struct {
	Pattern *Pattern
	Plan    AppPlan
}

// ManagedGroup returns the hub's managedClusterGroups entry for the spoke group name.
func (p *Pattern) ManagedGroup(name string) (ManagedGroup, bool) {
	for _, g := range p.managed {
		if g.Name == name {
			return g, true
		}
	}
	return ManagedGroup{}, false
}

// operatorParams are the parameters newApplicationParameters gives the clustergroup chart.
func operatorParams(p *Pattern, facts Facts, cr PatternCR, ns string, variants bool) []Param {
	local := facts.LocalClusterDomain
	if local == "" {
		local = facts.HubClusterDomain
	}
	revision := cr.TargetRevision
	if revision == "" {
		revision = "HEAD"
	}
	multi := true
	if cr.MultiSource != nil {
		multi = *cr.MultiSource
	}
	repo := cr.HelmRepoURL
	if repo == "" {
		repo = DefaultHelmRepoURL
	}
	version := cr.ClusterGroupChartVersion
	if version == "" {
		version = DefaultClusterGroupChartVersion
	}
	params := []Param{
		{Name: "global.pattern", Value: p.Name},
		{Name: "global.namespace", Value: ns},
		{Name: "global.repoURL", Value: p.RepoURL},
		{Name: "global.originURL", Value: cr.OriginRepo},
		{Name: "global.targetRevision", Value: revision},
		{Name: "global.hubClusterDomain", Value: facts.HubClusterDomain},
		{Name: "global.localClusterDomain", Value: local},
		{Name: "global.clusterDomain", Value: facts.ClusterDomain},
		{Name: "global.clusterVersion", Value: facts.ClusterVersion},
		{Name: "global.clusterPlatform", Value: facts.ClusterPlatform},
		{Name: "global.localClusterName", Value: PlaceholderClusterName},
		{Name: "global.privateRepo", Value: strconv.FormatBool(cr.PrivateRepo)},
		{Name: "global.multiSourceSupport", Value: strconv.FormatBool(multi)},
		{Name: "global.multiSourceRepoUrl", Value: repo},
		{Name: "global.experimentalCapabilities", Value: cr.ExperimentalCapabilities},
		{Name: "global.gitOpsSubNamespace", Value: GitOpsSubNamespace},
		{Name: "global.vpArgoNamespace", Value: VPArgoNamespace},
		{Name: "global.multiSourceTargetRevision", Value: version},
	}
	if variants {
		params = append(params, Param{Name: "global.vpNewFolderDir", Value: "true"})
	}
	for _, extra := range cr.ExtraParameters {
		taken := false
		for _, prm := range params {
			taken = taken || prm.Name == extra.Name
		}
		if !taken {
			params = append(params, extra)
		}
	}
	return params
}

// ClusterGroupAppName names the clustergroup chart's objects in a render or review.
const ClusterGroupAppName = "clustergroup"

// PlaceholderClusterName stands for the cluster's name, which only the cluster knows.
const PlaceholderClusterName = "cluster-provided-name"
