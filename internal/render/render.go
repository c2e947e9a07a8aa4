package render

import (
	"fmt"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
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

func helmTemplate(chartFiles Tree, plan AppPlan, vals map[string]any) ([]byte, error) {
	var files []*loader.BufferedFile
	for _, p := range chartFiles.Paths() {
		files = append(files, &loader.BufferedFile{Name: p, Data: chartFiles[p]})
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	// The same settings as `helm template`: an install with the cluster taken away.
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.DryRunOption = "true"
	install.ClientOnly = true
	install.Replace = true
	install.IncludeCRDs = true
	install.ReleaseName = plan.Name
	install.Namespace = plan.Namespace
	if plan.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(plan.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", plan.KubeVersion, err)
		}
		install.KubeVersion = kv
	}
	rel, err := install.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
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
