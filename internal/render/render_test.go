package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pattern-gen/pattern-gen/internal/manifest"
)

// literalChart renders the whole of .Values.global as one JSON string, so that any value a
// parameter sets, wanted or not, shows in the output.
func literalChart() Tree {
	return Tree{
		"charts/l/Chart.yaml":           []byte("apiVersion: v2\nname: l\nversion: 0.1.0\n"),
		"charts/l/values.yaml":          []byte("global:\n  kept: from-values\n"),
		"charts/l/templates/cm.yaml":    []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: l\ndata:\n  global: {{ .Values.global | toJson | quote }}\n"),
		"charts/l/templates/types.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: types\ndata:\n  n: {{ printf \"%T\" .Values.global.n | quote }}\n"),
	}
}

// Values a plugin derives may hold anything Helm's --set parser treats specially: as literal
// parameters each arrives as exactly one string, and sets nothing else.
func TestLiteralParams(t *testing.T) {
	values := []string{
		`a\\,global.x=y`, `a\,global.x=y`, `a,global.x=y`, `{a,b}`, `a=b`, `[0]`, `"quoted"`, `null`, `true`, `10`, "two\nlines", ``,
	}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			plan := AppPlan{Name: "l", Path: "charts/l", Params: []Param{{Name: "global.coco.azure.value", Value: v, Literal: true}}}
			vals, err := Values(literalChart(), plan)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"global": map[string]any{"coco": map[string]any{"azure": map[string]any{"value": v}}}}
			if d := cmp.Diff(want, vals); d != "" {
				t.Errorf("literal %q (-want +got):\n%s", v, d)
			}
		})
	}
	// Why: through --set, even with Argo CD's escaping, the first value sets a second one.
	vals, err := Values(literalChart(), AppPlan{Name: "l", Params: []Param{{Name: "global.v", Value: `a\\,global.x=y`, ForceString: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if g := vals["global"].(map[string]any); g["x"] != "y" {
		t.Errorf("--set-string no longer splits %q (update this test's reason): %v", `a\\,global.x=y`, g)
	}
}

// Helm applies --set, then --set-string, then --set-literal, whatever the command-line order.
func TestValuesOrderFollowsHelm(t *testing.T) {
	plan := AppPlan{Name: "l", Params: []Param{
		{Name: "a", Value: "literal", Literal: true},
		{Name: "a", Value: "string", ForceString: true},
		{Name: "a", Value: "set"},
		{Name: "b", Value: "string", ForceString: true},
		{Name: "b", Value: "set"},
	}}
	vals, err := Values(Tree{}, plan)
	if err != nil {
		t.Fatal(err)
	}
	if vals["a"] != "literal" || vals["b"] != "string" {
		t.Errorf("values %v", vals)
	}
}

func TestLiteralParamErrors(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"global.list[0]", "not a plain dotted name"},
		{"global..x", "not a plain dotted name"},
		{`global\.x`, "not a plain dotted name"},
		{"global.kept.x", "kept is already set to a value that is not a map"},
	} {
		_, err := Values(literalChart(), AppPlan{Name: "l", ValueFiles: []string{"charts/l/values.yaml"}, Params: []Param{{Name: tc.name, Value: "v", Literal: true}}})
		if err == nil || !strings.Contains(err.Error(), "application l: parameter "+tc.name+": "+tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

// The real helm, given HelmTemplateArgs, renders what RenderApp does for every kind of
// parameter, the literal values above included.
func TestHelmTemplateArgsWithRealHelm(t *testing.T) {
	helm := os.Getenv("PATTERN_GEN_HELM")
	if helm == "" {
		if os.Getenv("PATTERN_GEN_REQUIRE_TOOLS") != "" {
			t.Fatal("PATTERN_GEN_HELM is not set; run the tests with `make test`")
		}
		t.Skip("PATTERN_GEN_HELM is not set: skipping the cross-check with the real helm (make test builds it)")
	}
	tree := literalChart()
	dir := t.TempDir()
	for p, data := range tree {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan := AppPlan{Name: "l", Namespace: "ns", Path: "charts/l", KubeVersion: "v1.30.0", ValueFiles: []string{"charts/l/values.yaml"}, Params: []Param{
		{Name: "global.n", Value: "42"},
		{Name: "global.list", Value: "x,y"},
		{Name: "global.s", Value: "42", ForceString: true},
		{Name: "global.lit1", Value: `a\\,global.x=y`, Literal: true},
		{Name: "global.lit2", Value: `{a,b}=c\`, Literal: true},
		{Name: "global.coco.azure.initdata", Value: "H4sIAAAAAAAC/w==", Literal: true},
	}}
	var stderr bytes.Buffer
	cmd := exec.Command(helm, plan.HelmTemplateArgs(dir)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(plan.HelmTemplateArgs(dir), " "), err, stderr.String())
	}
	want, err := manifest.Split("helm", out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RenderApp(tree, plan)
	if err != nil {
		t.Fatal(err)
	}
	manifest.Sort(want)
	if len(want) != len(got) {
		t.Fatalf("helm rendered %d objects, RenderApp %d", len(want), len(got))
	}
	for i := range want {
		w, _ := want[i].Decode()
		g, _ := got[i].Decode()
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf("%s (-helm +RenderApp):\n%s", want[i].ID(), d)
		}
	}
	if g := got[0].String("data", "global"); !strings.Contains(g, `"lit1":"a\\\\,global.x=y"`) || strings.Contains(g, `"x":`) {
		t.Errorf("the literal did not arrive as one string: %s", g)
	}
}
