package project

import (
	"context"
	"reflect"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

// List entries are named stably: by their name, their only key (a labelled namespace), or
// themselves; a name taken already gets a suffix, never another entry's name.
func TestEntriesNames(t *testing.T) {
	named, order := entries([]any{
		"vault",
		map[string]any{"hello-openshift": map[string]any{"labels": map[string]any{"a": "b"}}},
		map[string]any{"name": "foo"},
		map[string]any{"name": "foo (2)"},
		map[string]any{"name": "foo"},
		map[string]any{"image": "x", "playbook": "y"},
	})
	want := []any{"vault", "hello-openshift", "foo", "foo (2)", "foo (3)", "[5]"}
	if !reflect.DeepEqual(order, want) || len(named) != 6 {
		t.Fatalf("order %v, named %v", order, named)
	}
}

// A fork's own files where the chart goes for rendering are dropped: they could add objects
// to, or redefine helpers of, the chart whose output review shows.
func TestChartFolderInForkIsDropped(t *testing.T) {
	chart, _, err := ReadClusterGroupChart("../../../shared/reference/clustergroup-chart-0.9.55")
	if err != nil {
		t.Skipf("no reference copy of the chart: %v", err)
	}
	_, tree, err := Scaffold(context.Background(), ScaffoldOptions{Origin: forkrepo.URL})
	if err != nil {
		t.Fatal(err)
	}
	tree[chartPrefix+"/templates/planted.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: planted\n  namespace: default\n")
	patterns, err := render.ReadPatterns(tree)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := clusterGroupChartApps(tree, patterns, patterns, config.PluginEnv{}, &clusterGroupChart{files: chart, cr: patternCR(tree)})
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || len(apps[0].Objects) < 10 {
		t.Fatalf("%d apps", len(apps))
	}
	for _, o := range apps[0].Objects {
		if o.Name == "planted" {
			t.Fatal("a fork file under the chart's folder was rendered with the chart")
		}
	}
}
