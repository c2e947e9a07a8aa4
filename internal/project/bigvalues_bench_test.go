package project_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

// BenchmarkRenderBigValues renders the default fork whose values-global.yaml carries a mapping
// of 40,000 keys (1 MiB) or 50,000 keys, which every application receives: decoding stays
// linear (issue 12: yaml.v3's duplicate-key check made this take 5 s and 30 s per read).
func BenchmarkRenderBigValues(b *testing.B) {
	_, base, err := project.Scaffold(context.Background(), project.ScaffoldOptions{RepoURL: forkrepo.URL})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{40000, 50000} {
		var bulk strings.Builder
		bulk.WriteString("\nbulk:\n")
		for i := range n {
			fmt.Fprintf(&bulk, "  key%05d: value%05d-pad\n", i, i)
		}
		tree := render.Tree{}
		for k, v := range base {
			tree[k] = v
		}
		tree["values-global.yaml"] = append(append([]byte{}, base["values-global.yaml"]...), bulk.String()...)
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := project.RenderTree(tree, config.PluginEnv{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
