package render

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
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
	args := []string{"template", cmp.Or(p.Release, p.Name), filepath.Join(root, p.Path), "--namespace", p.Namespace, "--include-crds", "--kube-version", p.KubeVersion}
	for _, f := range p.ValueFiles {
		args = append(args, "-f", filepath.Join(root, f))
	}
	// --set-json applies after the values files and before --set, as Argo CD's inline values
	// do. Set key by key a second level deep, so that a map merges into what the value files
	// gave, as a values file does (deeper maps replace).
	for _, k := range slices.Sorted(maps.Keys(p.Values)) {
		m, ok := p.Values[k].(map[string]any)
		if !ok || len(m) == 0 {
			js, _ := json.Marshal(p.Values[k])
			args = append(args, "--set-json", escapeSetKey(k)+"="+string(js))
			continue
		}
		for _, k2 := range slices.Sorted(maps.Keys(m)) {
			js, _ := json.Marshal(m[k2])
			args = append(args, "--set-json", escapeSetKey(k)+"."+escapeSetKey(k2)+"="+string(js))
		}
	}
	for _, prm := range p.Params {
		switch {
		case prm.Literal:
			args = append(args, "--set-literal", prm.Name+"="+prm.Value)
		case prm.ForceString:
			args = append(args, "--set-string", prm.Name+"="+EscapeSetValue(prm.Value))
		default:
			args = append(args, "--set", prm.Name+"="+EscapeSetValue(prm.Value))
		}
	}
	return args
}

// escapeSetKey escapes one key of a --set path: its dots, brackets, commas and equals signs.
func escapeSetKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		if strings.ContainsRune(`\.[],=`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Values merges the plan's value files and parameters as `helm template -f ... --set ...
// --set-string ... --set-literal ...` does: value files in order, then every --set, every
// --set-string, every --set-literal (Helm applies the flags by kind, not in command-line order).
func Values(t Tree, plan AppPlan) (map[string]any, error) {
	vals := map[string]any{}
	for _, f := range plan.ValueFiles {
		m, err := readValues(t, f, true)
		if err != nil {
			return nil, fmt.Errorf("application %s: %w", plan.Name, err)
		}
		mergeValues(vals, m)
	}
	mergeValues(vals, plan.Values) // a null removes the key, as in a values file
	for _, kind := range []func(Param) bool{
		func(p Param) bool { return !p.Literal && !p.ForceString },
		func(p Param) bool { return !p.Literal && p.ForceString },
		func(p Param) bool { return p.Literal },
	} {
		for _, p := range plan.Params {
			if !kind(p) {
				continue
			}
			if err := setParam(vals, p); err != nil {
				return nil, fmt.Errorf("application %s: parameter %s: %w", plan.Name, p.Name, err)
			}
		}
	}
	return vals, nil
}

// setParam sets one parameter into vals: a literal by its dotted name, the value as it is;
// any other through Helm's --set parser, escaped as Argo CD escapes it.
func setParam(vals map[string]any, p Param) error {
	switch {
	case p.Literal:
		return setLiteral(vals, p.Name, p.Value)
	case p.ForceString:
		return strvals.ParseIntoString(p.Name+"="+EscapeSetValue(p.Value), vals)
	default:
		return strvals.ParseInto(p.Name+"="+EscapeSetValue(p.Value), vals)
	}
}

// setLiteral sets vals[a][b]...[z] = value for the name a.b...z, creating maps on the way, as
// --set-literal does. Literal names are pattern-gen's own, plain dotted keys: anything Helm
// would read as an index or escape is refused rather than interpreted.
func setLiteral(vals map[string]any, name, value string) error {
	keys := strings.Split(name, ".")
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, "[]\\=,") {
			return fmt.Errorf("not a plain dotted name; a literal parameter takes keys without '[', ']', '\\', '=' or ','")
		}
	}
	m := vals
	for _, k := range keys[:len(keys)-1] {
		switch next := m[k].(type) {
		case map[string]any:
			m = next
		case nil:
			child := map[string]any{}
			m[k] = child
			m = child
		default:
			return fmt.Errorf("%s is already set to a value that is not a map", k)
		}
	}
	m[keys[len(keys)-1]] = value
	return nil
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
