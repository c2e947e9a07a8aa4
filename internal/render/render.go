package render

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/pattern-gen/pattern-gen/internal/manifest"
)

// App is one rendered application.
type App struct {
	Plan    AppPlan
	Objects []manifest.Object // sorted by manifest.Object.ID
}

// ObjectPath is where an object of the application goes in a render written to files, and how
// problems name it: grouped by clusterGroup, then application.
func (p AppPlan) ObjectPath(o manifest.Object) string {
	return p.Group + "/" + p.Name + "/" + o.FileName()
}

// HelmTemplateArgs is the `helm template` command line, without the program name, that renders
// the plan's chart as RenderApp does, for the fork checked out in root. The cross-check against
// the real CLI and the speed comparison with it run this.
func (p AppPlan) HelmTemplateArgs(root string) []string {
	args := []string{"template", p.Name, filepath.Join(root, p.Path), "--namespace", p.Namespace, "--include-crds", "--kube-version", p.KubeVersion}
	for _, f := range p.ValueFiles {
		args = append(args, "-f", filepath.Join(root, f))
	}
	for _, prm := range p.Params {
		flag := "--set"
		if prm.ForceString {
			flag = "--set-string"
		}
		args = append(args, flag, prm.Name+"="+EscapeSetValue(prm.Value))
	}
	return args
}

// Values merges the plan's value files and parameters as `helm template -f ... --set ...` does.
func Values(t Tree, plan AppPlan) (map[string]any, error) {
	vals := map[string]any{}
	for _, f := range plan.ValueFiles {
		m, err := readValues(t, f, true)
		if err != nil {
			return nil, fmt.Errorf("application %s: %w", plan.Name, err)
		}
		mergeValues(vals, m)
	}
	for _, p := range plan.Params {
		set := p.Name + "=" + EscapeSetValue(p.Value)
		parse := strvals.ParseInto
		if p.ForceString {
			parse = strvals.ParseIntoString
		}
		if err := parse(set, vals); err != nil {
			return nil, fmt.Errorf("application %s: parameter %s: %w", plan.Name, p.Name, err)
		}
	}
	return vals, nil
}

// EscapeSetValue escapes commas the way Argo CD does before passing a parameter to --set, so a
// value such as "a,b" stays one value; a {list} is passed as it is.
func EscapeSetValue(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		return v
	}
	var b strings.Builder
	for i, r := range v {
		if r == ',' && (i == 0 || v[i-1] != '\\') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// RenderApp renders one application: its chart with Helm in-process, then its overlay, if any,
// with kustomize in-process.
func RenderApp(t Tree, plan AppPlan) ([]manifest.Object, error) {
	vals, err := Values(t, plan)
	if err != nil {
		return nil, err
	}
	out, err := helmTemplate(t.Sub(plan.Path), plan, vals)
	if err != nil {
		return nil, fmt.Errorf("application %s: helm template %s: %w", plan.Name, plan.Path, err)
	}
	source := plan.Path
	if plan.Overlay != "" {
		if out, err = kustomizeBuild(t, plan.Overlay, out); err != nil {
			return nil, fmt.Errorf("application %s: kustomize build %s: %w", plan.Name, plan.Overlay, err)
		}
		source = plan.Overlay
	}
	objs, err := manifest.Split(source, out)
	if err != nil {
		return nil, fmt.Errorf("application %s: %w", plan.Name, err)
	}
	manifest.Sort(objs)
	return objs, nil
}

// helmTemplate renders a chart as `helm template --include-crds` does (an install with the
// cluster taken away), through Helm's chart loader, values and template engine. It does not go
// through action.Install: that drags Helm's release storage, registry and kube clients into the
// plugin's start-up for nothing a client-only render uses.
func helmTemplate(chartFiles Tree, plan AppPlan, vals map[string]any) ([]byte, error) {
	files := make([]*loader.BufferedFile, 0, len(chartFiles))
	for _, p := range chartFiles.Paths() {
		files = append(files, &loader.BufferedFile{Name: p, Data: chartFiles[p]})
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ValidateReleaseName(plan.Name); err != nil {
		return nil, fmt.Errorf("release name %q: %w", plan.Name, err)
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
	opts := chartutil.ReleaseOptions{Name: plan.Name, Namespace: plan.Namespace, Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, false)
	if err != nil {
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

// OverlayInput is the file, beside an overlay's kustomization.yaml, in which the renderer puts
// the chart's output; the overlay lists it under resources.
const OverlayInput = "chart.yaml"

func kustomizeBuild(t Tree, overlay string, chartOutput []byte) ([]byte, error) {
	fsys := filesys.MakeFsInMemory()
	for p, data := range t { // order does not matter in a filesystem; no sort on this hot path
		if err := fsys.MkdirAll(path.Join("/", path.Dir(p))); err != nil {
			return nil, err
		}
		if err := fsys.WriteFile(path.Join("/", p), data); err != nil {
			return nil, err
		}
	}
	if err := fsys.WriteFile(path.Join("/", overlay, OverlayInput), chartOutput); err != nil {
		return nil, err
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, path.Join("/", overlay))
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}
