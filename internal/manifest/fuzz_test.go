package manifest

import (
	"testing"
)

// FuzzSplit: any stream is split or rejected without a panic; what splits re-encodes to a
// stream that splits into the same objects.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Secret, metadata: {name: s}}]\n"))
	f.Add([]byte("---\n---\n# only comments\n"))
	f.Add([]byte("kind: X\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		objs, err := Split("f", stream)
		if err != nil {
			return
		}
		out, err := Stream(objs)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := Split("f", out)
		if err != nil {
			t.Fatalf("re-encoded stream does not split: %v\n%s", err, out)
		}
		if len(again) != len(objs) {
			t.Fatalf("%d objects became %d", len(objs), len(again))
		}
		for i := range objs {
			if objs[i].ID() != again[i].ID() {
				t.Fatalf("object %d: %s became %s", i, objs[i].ID(), again[i].ID())
			}
		}
	})
}
