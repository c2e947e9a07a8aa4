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
