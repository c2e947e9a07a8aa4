// Package golden compares test output with files under testdata and, when the environment
// variable UPDATE_GOLDEN is set (make golden), rewrites them instead.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/textdiff"
)

// Updating reports whether golden files are being rewritten.
func Updating() bool { return os.Getenv("UPDATE_GOLDEN") != "" }

// AssertString compares got with the golden file at path.
func AssertString(t testing.TB, path string, got []byte) {
	t.Helper()
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run `make golden` to create it)", err)
	}
	if d := diff(normalize(want), normalize(got)); d != "" {
		t.Errorf("%s differs from the output (run `make golden` and review the diff):\n%s", path, d)
	}
}

// AssertDir compares a whole tree (slash paths to contents) with the directory dir: same file
// set, same contents. With UPDATE_GOLDEN the directory is replaced by the tree.
func AssertDir(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	if Updating() {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	onDisk := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		onDisk[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatalf("read golden tree: %v (run `make golden` to create it)", err)
	}
	var names []string
	for n := range onDisk {
		names = append(names, n)
	}
	for n := range files {
		if _, ok := onDisk[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	bad := 0
	for _, n := range names {
		want, inGolden := onDisk[n]
		got, inOutput := files[n]
		switch {
		case !inGolden:
			t.Errorf("%s: new file not in the golden tree %s", n, dir)
		case !inOutput:
			t.Errorf("%s: in the golden tree %s but no longer produced", n, dir)
		default:
			if d := diff(normalize(want), normalize(got)); d != "" {
				t.Errorf("%s differs:\n%s", n, d)
			} else {
				continue
			}
		}
		if bad++; bad >= 10 {
			t.Errorf("... stopping after 10 differences (run `make golden` and review the diff)")
			return
		}
	}
	if bad > 0 {
		t.Errorf("golden tree %s is out of date: run `make golden` and review the diff", dir)
	}
}

func normalize(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

// diff is a unified diff of the golden file (-) and the output (+), or "" when equal.
func diff(want, got []byte) string {
	return textdiff.Unified("golden", "output", string(want), string(got), 3)
}
