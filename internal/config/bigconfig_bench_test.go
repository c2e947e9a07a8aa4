package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/config"
)

// bigConfig is a config just under the 1 MiB limit whose azure.tags (the one map-typed field)
// or top level (unknown fields) holds n keys.
func bigConfig(n int, tags bool) []byte {
	var b strings.Builder
	b.WriteString(head)
	indent := ""
	if tags {
		b.WriteString("azure:\n  tags:\n")
		indent = "    "
	}
	for i := range n {
		fmt.Fprintf(&b, "%sk%06d: v\n", indent, i)
	}
	return []byte(b.String())
}

// BenchmarkLoadBigConfig loads configs of 40,000 keys in azure.tags (valid) or as unknown
// top-level fields (40,000 problems), about 1 MiB each, in time linear in the keys.
func BenchmarkLoadBigConfig(b *testing.B) {
	for _, tc := range []struct {
		name string
		tags bool
	}{{"tags", true}, {"unknown", false}} {
		data := bigConfig(40000, tc.tags)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, err := config.Load("big.yaml", data)
				if (err == nil) != tc.tags {
					b.Fatalf("error %v", err != nil)
				}
			}
		})
	}
}
