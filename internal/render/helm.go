package render

import (
	"cmp"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// helmTemplate renders a chart as `helm template --include-crds` does (an install with the
// cluster taken away), through Helm's chart loader, values and template engine. It does not go
// through action.Install: that drags Helm's release storage, registry and kube clients into the
// plugin's start-up for nothing a client-only render uses.
//
// Where Helm would reach outside the chart, it does not: values schemas are checked by
// valuesSchemas, whose $refs resolve only inside each schema, instead of by Helm's validation,
// which fetches http(s) and opens file references. The engine has no cluster client (lookup
// returns an empty map) and no DNS (getHostByName returns "").
func helmTemplate(chartFiles Tree, plan AppPlan, vals map[string]any) ([]byte, error) {
	files, err := helmChartFiles(plan.Path, chartFiles)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	if err := checkDependencies(plan.Path, ch); err != nil {
		return nil, err
	}
	release := cmp.Or(plan.Release, plan.Name)
	if err := chartutil.ValidateReleaseName(release); err != nil {
		return nil, fmt.Errorf("release name %q: %w", release, err)
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	if plan.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(plan.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", plan.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	opts := chartutil.ReleaseOptions{Name: release, Namespace: plan.Namespace, Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, true)
	if err != nil {
		return nil, err
	}
	coalesced, _ := top["Values"].(chartutil.Values)
	if err := newValuesSchemas(plan.Path, files).validate(ch, coalesced); err != nil {
		return nil, err
	}
	if want := ch.Metadata.KubeVersion; want != "" && !chartutil.IsCompatibleRange(want, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", want, caps.KubeVersion.String())
	}
	rendered, err := engine.Render(ch, top)
	if err != nil {
		return nil, err
	}
	for name := range rendered {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(rendered, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(rendered, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, crd := range ch.CRDObjects() {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", crd.Filename, crd.File.Data)
	}
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	for _, h := range hooks {
		fmt.Fprintf(&b, "\n---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return []byte(b.String()), nil
}
