package manifest

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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

// FuzzDecodeMap: DecodeMap gives what yaml.Unmarshal gives a map[string]any, and fails where
// it fails. The only allowed difference is the alias budget, which is stricter than yaml.v3's.
func FuzzDecodeMap(f *testing.F) {
	for _, in := range decodeCorpus {
		f.Add([]byte(in))
	}
	f.Add([]byte("a: 1\na: 2\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var want map[string]any
		wantErr, panicked := unmarshalNoPanic(in, &want)
		got, err := DecodeMap(in)
		if panicked {
			return // yaml.v3 panics on some keys (a map key beside a merge); we must only not panic
		}
		var de *DecodeError
		if err != nil && errors.As(err, &de) && strings.Contains(de.Msg, "aliases expand to more than") {
			return
		}
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("DecodeMap error %v, yaml.Unmarshal error %v", err, wantErr)
		}
		if err == nil && !sameValue(got, want) {
			t.Fatalf("DecodeMap:\n%#v\nyaml.Unmarshal:\n%#v", got, want)
		}
	})
}

func unmarshalNoPanic(in []byte, out *map[string]any) (err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	return yaml.Unmarshal(in, out), false
}
