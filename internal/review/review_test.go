package review

import (
	"fmt"
	"strings"
	"testing"
)

func cm(name, value string) Object {
	return Object{App: "app", ID: "core/ConfigMap/ns/" + name, Kind: "ConfigMap", Name: "ns/" + name,
		Data: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name}, "data": map[string]any{"k": value}}}
}

func TestMarkdownSizeCap(t *testing.T) {
	var base, head []Object
	for i := 0; i < 50; i++ {
		base = append(base, cm(fmt.Sprintf("cm%02d", i), "old"))
		head = append(head, cm(fmt.Sprintf("cm%02d", i), "new"))
	}
	r, err := Compare("a", "b", base, head)
	if err != nil {
		t.Fatal(err)
	}
	md := r.Markdown(4000)
	if len(md) > 4000 {
		t.Errorf("markdown is %d bytes, over the 4000 cap", len(md))
	}
	if !strings.Contains(md, "object diffs left out to stay under 4000 bytes") || !strings.Contains(md, "| app | 0 | 50 | 0 |") {
		t.Errorf("markdown:\n%s", md)
	}
	if full := r.Markdown(1 << 20); strings.Contains(full, "left out") || strings.Count(full, "```diff") != 50 {
		t.Error("a large cap should keep every diff")
	}
}

func TestSecretsAreRedactedInEveryFormat(t *testing.T) {
	secret := func(v string) Object {
		return Object{App: "app", ID: "core/Secret/ns/s", Kind: "Secret", Name: "ns/s",
			Data: map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"},
				"data": map[string]any{"same": "c2FtZQ==", "changed": v}, "stringData": map[string]any{"plain": v}}}
	}
	r, err := Compare("a", "b", []Object{secret("b2xkLXZhbHVl")}, []Object{secret("bmV3LXZhbHVl")})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := r.JSON()
	for _, out := range []string{r.Text(), r.Markdown(1 << 20), js} {
		for _, leak := range []string{"b2xkLXZhbHVl", "bmV3LXZhbHVl", "c2FtZQ=="} {
			if strings.Contains(out, leak) {
				t.Errorf("secret value %s in output:\n%s", leak, out)
			}
		}
	}
	if d := r.Changes[0].Diff; !strings.Contains(d, "+  changed: '<redacted: changed>'") || strings.Contains(d, "same: '<redacted: changed>'") {
		t.Errorf("diff:\n%s", d)
	}
	// Unchanged secrets do not show at all.
	r, _ = Compare("a", "b", []Object{secret("x")}, []Object{secret("x")})
	if !r.Empty() {
		t.Error("an unchanged Secret shows as changed")
	}
}

// An object that goes from one clusterGroup's application to the same application of another
// is one "moved" change, with its diff; the same ID in a different application is not a move.
func TestMovedBetweenClusterGroups(t *testing.T) {
	cm := func(v string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": v}}
	}
	obj := func(group, app, v string) Object {
		return Object{Group: group, App: app, ID: "/ConfigMap/ns/c", Kind: "ConfigMap", Name: "ns/c", Data: cm(v)}
	}
	base := []Object{obj("hub", "a", "1"), obj("hub", "b", "1"), obj("hub", "x", "1")}
	head := []Object{obj("spoke", "a", "1"), obj("spoke", "b", "2"), obj("spoke", "y", "1")}
	res, err := Compare("base", "head", base, head)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Change{}
	for _, c := range res.Changes {
		got[string(c.Status)+" "+c.App] = c
	}
	if c, ok := got["moved spoke/a"]; !ok || c.From != "hub/a" || c.Diff != "(moved from hub/a unchanged)\n" {
		t.Errorf("unchanged move: %+v", c)
	}
	if c, ok := got["moved spoke/b"]; !ok || !strings.Contains(c.Diff, "-  k: \"1\"") || !strings.Contains(c.Diff, "+  k: \"2\"") || !strings.Contains(c.Diff, "base:hub/b/ConfigMap/ns/c") {
		t.Errorf("changed move: %+v", c)
	}
	if _, ok := got["removed hub/x"]; !ok {
		t.Errorf("x is not reported removed: %v", res.Changes)
	}
	if _, ok := got["added spoke/y"]; !ok {
		t.Errorf("y is not reported added: %v", res.Changes)
	}
	if len(res.Changes) != 4 || res.Summary() != "1 added, 0 changed, 1 removed, 2 moved in 4 applications" {
		t.Errorf("summary %q, %d changes", res.Summary(), len(res.Changes))
	}
	js, err := res.JSON()
	if err != nil || !strings.Contains(js, `"from": "hub/a"`) || !strings.Contains(js, `"status": "moved"`) {
		t.Errorf("JSON: %v\n%s", err, js)
	}
}
