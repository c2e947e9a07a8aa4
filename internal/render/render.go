package render

import (
	"fmt"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/strvals"

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
