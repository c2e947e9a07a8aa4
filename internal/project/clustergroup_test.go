package project

import (
	"reflect"
	"testing"
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
