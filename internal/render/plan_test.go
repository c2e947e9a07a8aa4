package render

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func testFork(group string) Tree {
	return Tree{
		"values-global.yaml":          []byte("global:\n  pattern: p\n  extraValueFiles: [/extra-global.yaml]\nmain:\n  clusterGroupName: hub\n  git: {repoURL: https://git.example/p.git, revision: main}\n"),
		"values-hub.yaml":             []byte(group),
		"values-Azure.yaml":           []byte("from: azure\n"),
		"values-Azure-4.17.yaml":      []byte("from: azure-version\n"),
		"values-Azure-hub.yaml":       []byte("from: azure-hub\n"),
		"values-4.17-hub.yaml":        []byte("from: version-hub\n"),
		"extra-global.yaml":           []byte("from: extra-global\n"),
		"overrides/values-Azure.yaml": []byte("from: shared\n"),
		"charts/a/Chart.yaml":         []byte("apiVersion: v2\nname: a\nversion: 0.1.0\n"),
		"charts/a/values-app.yaml":    []byte("from: app-extra\n"),
		"charts/a/templates/cm.yaml":  []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: {{ .Release.Namespace }}\ndata:\n  from: {{ .Values.from | quote }}\n  list: {{ .Values.list | quote }}\n  num: {{ printf \"%T\" .Values.num | quote }}\n  str: {{ printf \"%T\" .Values.str | quote }}\n"),
	}
}

const testGroup = `clusterGroup:
  name: hub
  sharedValueFiles: ['/overrides/values-{{ $.Values.global.clusterPlatform }}.yaml']
  applications:
    vault: {name: vault, chart: hashicorp-vault, chartVersion: 0.1.*}
    off: {name: off, path: charts/a, disabled: true}
    a:
      name: a
      namespace: ns-a
      path: charts/a
      extraValueFiles: [values-app.yaml]
      overrides:
        - {name: list, value: "x,y"}
        - {name: num, value: "42"}
        - {name: str, value: "42", forceString: true}
`

// The value files follow the clustergroup chart's order, then sharedValueFiles (through tpl)
// and extraValueFiles (relative to the chart); applications from Helm repositories and
// disabled ones are not rendered.
func TestPlanFollowsClusterGroupChart(t *testing.T) {
	facts := OfflineFacts("Azure")
	facts.ClusterVersion = "4.17"
	plans, err := planFork(testFork(testGroup), facts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 || plans[0].Name != "a" || plans[0].Namespace != "ns-a" {
		t.Fatalf("plans: %+v", plans)
	}
	want := []string{"values-global.yaml", "values-hub.yaml", "values-Azure.yaml", "values-Azure-4.17.yaml", "values-Azure-hub.yaml", "values-4.17-hub.yaml", "extra-global.yaml", "overrides/values-Azure.yaml", "charts/a/values-app.yaml"}
	if !reflect.DeepEqual(plans[0].ValueFiles, want) {
		t.Errorf("value files:\n got %v\nwant %v", plans[0].ValueFiles, want)
	}
	objs, err := RenderApp(testFork(testGroup), plans[0])
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if err := objs[0].Node.Decode(&struct {
		Data *map[string]string `yaml:"data"`
	}{&got}); err != nil {
		t.Fatal(err)
	}
	// The last value file wins; overrides are --set (typed) or --set-string; commas stay in
	// one value as Argo CD escapes them.
	if got["from"] != "app-extra" || got["list"] != "x,y" || got["num"] != "int64" || got["str"] != "string" {
		t.Errorf("rendered data: %v", got)
	}
}

func TestPlanErrors(t *testing.T) {
	cases := map[string]string{
		"has no Chart.yaml in the fork":               "clusterGroup:\n  applications:\n    x: {name: x, path: charts/missing}\n",
		"path: missing":                               "clusterGroup:\n  applications:\n    x: {name: x}\n",
		"leaves the repository":                       "clusterGroup:\n  applications:\n    x: {name: x, path: charts/a, extraValueFiles: [../../../etc/passwd]}\n",
		"chartVersion: set on an application":         "clusterGroup:\n  applications:\n    x: {name: x, path: charts/a, chartVersion: 0.1.0}\n",
		"is used by another application":              "clusterGroup:\n  applications:\n    x: {name: a, path: charts/a}\n    y: {name: a, path: charts/a}\n",
		"overlay: \"nope\" has no kustomization.yaml": "clusterGroup:\n  applications:\n    x: {name: x, path: charts/a, plugin: {name: p, parameters: [{name: overlay, string: nope}]}}\n",
	}
	for want, group := range cases {
		_, err := planFork(testFork(group), OfflineFacts("Azure"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error containing %q, got %v", want, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "values-hub.yaml: clusterGroup.applications.") {
			t.Errorf("error does not name the file and field: %v", err)
		}
	}
}

func TestEscapeSetValue(t *testing.T) {
	for in, want := range map[string]string{"a,b": `a\,b`, `a\,b`: `a\,b`, "{a,b}": "{a,b}", "plain": "plain", "": ""} {
		if got := EscapeSetValue(in); got != want {
			t.Errorf("EscapeSetValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// planFork plans the main clusterGroup of t.
func planFork(t Tree, facts Facts) ([]AppPlan, error) {
	p, err := ReadPattern(t)
	if err != nil {
		return nil, err
	}
	return p.Plan(t, facts)
}

// The operator's value files for the clustergroup chart: the group's files at the top, or under
// variants/<group>/ when the fork has a variants folder (HasVariantsFolderLayout).
func TestClusterGroupPlanValueFiles(t *testing.T) {
	tree := testFork(testGroup)
	facts := Facts{ClusterPlatform: "Azure", ClusterVersion: "4.17"}
	plan := func() []string {
		p, err := ReadPattern(tree)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := p.ClusterGroupPlan(tree, facts, "cg", PatternCR{})
		if err != nil {
			t.Fatal(err)
		}
		return plan.ValueFiles
	}
	want := []string{"values-global.yaml", "values-hub.yaml", "values-Azure.yaml", "values-Azure-4.17.yaml", "values-Azure-hub.yaml", "values-4.17-hub.yaml", "overrides/values-Azure.yaml"}
	if got := plan(); !reflect.DeepEqual(got, want) {
		t.Errorf("top-level layout: %v", got)
	}
	tree["variants/hub/values-Azure.yaml"] = []byte("from: variant\n")
	tree["variants/hub/values-"+PlaceholderClusterName+".yaml"] = []byte("from: cluster\n")
	want = []string{"values-global.yaml", "variants/hub/values-Azure.yaml", "variants/hub/values-" + PlaceholderClusterName + ".yaml"}
	if got := plan(); !reflect.DeepEqual(got, want) {
		t.Errorf("variants layout: %v", got)
	}
}

// Select is the one rule for choosing a clusterGroup: the main one, or a group the main one's
// managedClusterGroups name whose values file is in the fork; a values file alone does not
// make a group (the ACM policy only deploys the clustergroup chart for managed groups).
func TestSelect(t *testing.T) {
	tree := Tree{
		"values-global.yaml": []byte("global:\n  pattern: p\nmain:\n  clusterGroupName: hub\n"),
		"values-hub.yaml":    []byte("clusterGroup:\n  name: hub\n  managedClusterGroups:\n    spoke:\n      name: spoke\n    gone:\n      name: gone\n"),
		"values-spoke.yaml":  []byte("clusterGroup:\n  name: spoke\n"),
		"values-edge.yaml":   []byte("clusterGroup:\n  name: edge\n"),
	}
	for _, tc := range []struct{ group, want, err string }{
		{"", "hub", ""},
		{"hub", "hub", ""},
		{"spoke", "spoke", ""},
		{"edge", "", `clusterGroup "edge" is not one of the fork's clusterGroups (hub, gone, spoke)`},
		{"gone", "", `values-hub.yaml: clusterGroup.managedClusterGroups names "gone", but values-gone.yaml is not in the fork; add it or remove the entry`},
	} {
		p, err := Select(tree, tc.group)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Select(%q): %v, want %s", tc.group, err, tc.err)
			}
			continue
		}
		if err != nil || p.ClusterGroup != tc.want || p.Spoke() != (tc.want != "hub") {
			t.Errorf("Select(%q): %v %v", tc.group, p, err)
		}
	}
	// The list reader and the selector agree on the rule.
	delete(tree, "values-hub.yaml")
	tree["values-hub.yaml"] = []byte("clusterGroup:\n  name: hub\n  managedClusterGroups:\n    spoke:\n      name: spoke\n")
	ps, err := ReadPatterns(tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"", "hub", "spoke", "edge"} {
		a, errA := Select(tree, g)
		b, errB := SelectGroup(ps, g)
		if fmt.Sprint(errA) != fmt.Sprint(errB) || (a == nil) != (b == nil) || a != nil && a.ClusterGroup != b.ClusterGroup {
			t.Errorf("group %q: Select %v %v, SelectGroup %v %v", g, a, errA, b, errB)
		}
	}
}
