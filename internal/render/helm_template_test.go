package render

import (
	"strings"
	"testing"
)

// helmDepsChart is a chart whose Chart.yaml lists dependencies a and b; subs are the subcharts
// present in charts/.
func helmDepsChart(subs ...string) Tree {
	t := Tree{
		"Chart.yaml": []byte("apiVersion: v2\nname: x\nversion: 0.1.0\ndependencies:\n" +
			"  - {name: a, version: 0.1.0, repository: https://charts.example}\n" +
			"  - {name: b, version: 0.1.0, repository: https://charts.example, alias: bee}\n"),
		"templates/cm.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
	}
	for _, s := range subs {
		t["charts/"+s+"/Chart.yaml"] = []byte("apiVersion: v2\nname: " + s + "\nversion: 0.1.0\n")
		t["charts/"+s+"/templates/cm.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}-{{ .Values.n | default 0 }}\n")
	}
	return t
}

// A dependency that Chart.yaml lists and charts/ lacks fails as `helm template` does, naming
// the chart; with every dependency present the chart renders. With PATTERN_GEN_HELM set, the
// real helm template agrees on each case.
func TestHelmMissingDependencies(t *testing.T) {
	const cliWords = "found in Chart.yaml, but missing in charts/ directory: "
	for _, tc := range []struct {
		name    string
		subs    []string
		missing string // "" renders
	}{
		{"all present", []string{"a", "b"}, ""},
		{"one missing", []string{"a"}, "b"},
		{"both missing", nil, "a, b"},
		{"other subchart only", []string{"c"}, "a, b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := helmDepsChart(tc.subs...)
			out, err := helmTemplate(tree, helmTestPlan, map[string]any{})
			switch want := helmTestDir + "/Chart.yaml: " + cliWords + tc.missing + "; run `helm dependency build " + helmTestDir + "` and commit what it puts in charts/"; {
			case tc.missing == "" && err != nil:
				t.Fatal(err)
			case tc.missing == "" && (!strings.Contains(string(out), "name: a-0") || !strings.Contains(string(out), "name: bee-0")):
				t.Errorf("subcharts did not render:\n%s", out)
			case tc.missing != "" && (err == nil || err.Error() != want):
				t.Errorf("error:\n got %v\nwant %s", err, want)
			}
			if helmCLIPath() == "" {
				return
			}
			_, cliErr := helmCLITemplate(t, tree, helmTestPlan)
			switch {
			case tc.missing == "" && cliErr != nil:
				t.Errorf("helm template fails: %v", cliErr)
			case tc.missing != "" && (cliErr == nil || !strings.HasSuffix(cliErr.Error(), cliWords+tc.missing)):
				t.Errorf("helm template: got %v, want it to fail with %q", cliErr, cliWords+tc.missing)
			}
		})
	}
}

// Helm's engine without a cluster client and with DNS off: getHostByName returns "" and lookup
// an empty map, whatever the template asks.
func TestHelmEngineReachesNothing(t *testing.T) {
	for _, tc := range []struct{ name, expr, want string }{
		{"getHostByName", `{{ getHostByName "localhost" | quote }}`, `""`},
		{"lookup", `{{ lookup "v1" "Secret" "openshift-config" "pull-secret" | toJson | quote }}`, `"{}"`},
		{"lookup list", `{{ lookup "v1" "Namespace" "" "" | toJson | quote }}`, `"{}"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := helmTestChart("")
			tree["templates/cm.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: " + tc.expr + "\n")
			out, err := helmTemplate(tree, helmTestPlan, map[string]any{})
			if err != nil {
				t.Fatal(err)
			}
			if want := "  v: " + tc.want + "\n"; !strings.Contains(string(out), want) {
				t.Errorf("got:\n%s\nwant a line %q", out, want)
			}
		})
	}
}
