package render

import (
	"fmt"
	"strings"
	"testing"
)

// bigValues is a values file with one mapping of n keys, about 27 bytes a key (40,000 keys:
// 1 MiB), the case where yaml.v3's pairwise duplicate-key check took seconds.
func bigValues(n int) []byte {
	var b strings.Builder
	b.WriteString("bulk:\n")
	for i := range n {
		fmt.Fprintf(&b, "  key%05d: value%05d-pad\n", i, i)
	}
	return []byte(b.String())
}

// BenchmarkReadValues decodes a 1 MiB values file of 40,000 keys and one of 50,000 keys
// (issue 12's target: a 1 MiB values file in under 2 s; yaml.Unmarshal took 5 s and 30 s).
func BenchmarkReadValues(b *testing.B) {
	for _, n := range []int{40000, 50000} {
		t := Tree{"values-big.yaml": bigValues(n)}
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(t["values-big.yaml"])))
			for b.Loop() {
				m, err := readValues(t, "values-big.yaml", true)
				if err != nil {
					b.Fatal(err)
				}
				if len(m["bulk"].(map[string]any)) != n {
					b.Fatal("keys lost")
				}
			}
		})
	}
}
