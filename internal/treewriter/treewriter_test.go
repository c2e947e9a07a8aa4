package treewriter

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// snapshot records everything about a directory tree that a write could change: each path's
// type, permissions, and contents or link target.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "link -> " + target
			return err
		case d.IsDir():
			out[rel] = "dir " + info.Mode().Perm().String()
		default:
			data, err := os.ReadFile(p)
			out[rel] = "file " + info.Mode().Perm().String() + " " + string(data)
			return err
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// layout creates files under root; a value starting with "->" makes a symbolic link, "/" a
// folder.
func layout(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch v := files[name]; {
		case strings.HasPrefix(v, "->"):
			err = os.Symlink(strings.ReplaceAll(v[2:], "$OUT", filepath.Join(filepath.Dir(root), "outside")), p)
		case v == "/":
			err = os.MkdirAll(p, 0o755)
		default:
			err = os.WriteFile(p, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// leftovers lists what a write left beside the target: nothing but the target and "outside".
func leftovers(t *testing.T, parent string) []string {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range entries {
		if e.Name() != "fork" && e.Name() != "outside" {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

var tree = map[string][]byte{
	"values-global.yaml":                 []byte("global: new\n"),
	"charts/hub/trustee/Chart.yaml":      []byte("name: trustee\n"),
	"charts/hub/trustee/templates/a.yml": []byte("kind: A\n"),
	"overlays/azure/kustomization.yaml":  []byte("resources: []\n"),
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		existing map[string]string // nil: the target does not exist
		mode     Mode
		files    map[string][]byte
		want     map[string]string // the target afterwards, as snapshot shows it (dirs left out)
		wantErr  string            // a regular expression; the target and outside must then be unchanged
	}{
		{
			name:  "new directory",
			mode:  RefuseNonEmpty,
			files: map[string][]byte{"a/b.yaml": []byte("b\n")},
			want:  map[string]string{"a/b.yaml": "file -rw-r--r-- b\n"},
		},
		{
			name:     "empty directory",
			existing: map[string]string{},
			mode:     Replace,
			files:    map[string][]byte{"a.yaml": []byte("a\n")},
			want:     map[string]string{"a.yaml": "file -rw-r--r-- a\n"},
		},
		{
			name:     "not empty",
			existing: map[string]string{"mine.txt": "mine"},
			mode:     RefuseNonEmpty,
			files:    tree,
			wantErr:  `^.*/fork: directory is not empty; choose an empty directory or pass --force to overwrite the generated files$`,
		},
		{
			name:     "overlay replaces generated files and keeps the others",
			existing: map[string]string{"values-global.yaml": "global: old\n", ".git/HEAD": "ref\n", "extra.txt": "kept"},
			mode:     Overlay,
			files:    map[string][]byte{"values-global.yaml": []byte("global: new\n"), "charts/x/Chart.yaml": []byte("name: x\n")},
			want: map[string]string{
				"values-global.yaml":  "file -rw-r--r-- global: new\n",
				"charts/x/Chart.yaml": "file -rw-r--r-- name: x\n",
				".git/HEAD":           "file -rw-r--r-- ref\n",
				"extra.txt":           "file -rw-r--r-- kept",
			},
		},
		{
			name:     "replace an earlier render",
			existing: map[string]string{Marker: "#\n", "old.yaml": "old", "link": "->$OUT"},
			mode:     Replace,
			files:    map[string][]byte{Marker: []byte("#\n"), "new.yaml": []byte("new")},
			want:     map[string]string{Marker: "file -rw-r--r-- #\n", "new.yaml": "file -rw-r--r-- new"},
		},
		{
			name:     "replace a directory pattern-gen did not write",
			existing: map[string]string{"mine.txt": "mine"},
			mode:     Replace,
			files:    map[string][]byte{Marker: []byte("#\n")},
			wantErr:  `/fork: directory is not empty and was not written by pattern-gen render \(no \.pattern-gen-rendered\); choose an empty or new directory$`,
		},
		{
			name:     "replace with a marker that is a link",
			existing: map[string]string{Marker: "->$OUT/marker", "mine.txt": "mine"},
			mode:     Replace,
			files:    map[string][]byte{Marker: []byte("#\n")},
			wantErr:  `\(no \.pattern-gen-rendered\)`,
		},
		{
			name:     "overlay through a directory link out of the target",
			existing: map[string]string{"values-global.yaml": "global: old\n", "charts": "->$OUT"},
			mode:     Overlay,
			files:    tree,
			wantErr:  `^.*/fork/charts is a symbolic link; pattern-gen does not write through links, replace it with a folder or file of its own$`,
		},
		{
			name:     "overlay through a deeper directory link",
			existing: map[string]string{"charts/hub/trustee": "->$OUT"},
			mode:     Overlay,
			files:    tree,
			wantErr:  `/fork/charts/hub/trustee is a symbolic link`,
		},
		{
			name:     "overlay over a file that is a link",
			existing: map[string]string{"values-global.yaml": "->$OUT/marker", "extra.txt": "kept"},
			mode:     Overlay,
			files:    tree,
			wantErr:  `/fork/values-global.yaml is a symbolic link`,
		},
		{
			name:     "overlay where a folder holds a file's place",
			existing: map[string]string{"values-global.yaml/keep.txt": "kept", "charts/hub/trustee/Chart.yaml": "old"},
			mode:     Overlay,
			files:    tree,
			wantErr:  `^.*/fork/values-global.yaml is a folder where pattern-gen writes a file; move it away$`,
		},
		{
			name:     "overlay where a file holds a folder's place",
			existing: map[string]string{"overlays": "a file", "values-global.yaml": "old"},
			mode:     Overlay,
			files:    tree,
			wantErr:  `^.*/fork/overlays is a file where pattern-gen writes a folder; move it away$`,
		},
	}
	for _, target := range []Mode{RefuseNonEmpty, Overlay, Replace} {
		tests = append(tests, struct {
			name     string
			existing map[string]string
			mode     Mode
			files    map[string][]byte
			want     map[string]string
			wantErr  string
		}{
			name:     "target is a link, mode " + string(rune('0'+target)),
			existing: map[string]string{"": "->$OUT"},
			mode:     target,
			files:    tree,
			wantErr:  `^.*/fork is a symbolic link; pattern-gen does not write through links, name the real directory$`,
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir, outside := filepath.Join(parent, "fork"), filepath.Join(parent, "outside")
			layout(t, outside, map[string]string{"marker": "outside, untouched\n", "hub/trustee/Chart.yaml": "outside\n"})
			if target, ok := tc.existing[""]; ok {
				if err := os.Symlink(strings.ReplaceAll(target[2:], "$OUT", outside), dir); err != nil {
					t.Fatal(err)
				}
			} else if tc.existing != nil {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				layout(t, dir, tc.existing)
			}
			beforeDir, beforeOut := snapshot(t, dir), snapshot(t, outside)

			err := Write(dir, tc.files, tc.mode)

			if got := snapshot(t, outside); !maps.Equal(got, beforeOut) {
				t.Errorf("outside the target changed:\n%v\nwas\n%v", got, beforeOut)
			}
			if extra := leftovers(t, parent); len(extra) > 0 {
				t.Errorf("left beside the target: %v", extra)
			}
			if tc.wantErr != "" {
				if err == nil || !regexp.MustCompile(tc.wantErr).MatchString(err.Error()) {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				if got := snapshot(t, dir); !maps.Equal(got, beforeDir) {
					t.Errorf("the target changed:\n%v\nwas\n%v", got, beforeDir)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := snapshot(t, dir)
			maps.DeleteFunc(got, func(_, v string) bool { return strings.HasPrefix(v, "dir ") })
			if !maps.Equal(got, tc.want) {
				t.Errorf("target:\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}

// A failure at any point while files move into place leaves the target as it was: every
// replaced file back (same bytes and mode), every new file and folder gone.
func TestOverlayRollsBack(t *testing.T) {
	existing := map[string]string{
		"values-global.yaml":            "global: old\n",
		"charts/hub/trustee/Chart.yaml": "name: old\n",
		"extra.txt":                     "kept",
		".git/HEAD":                     "ref\n",
		"charts/gone/Chart.yaml":        "name: gone\n",
	}
	// Four files, two of them replacing others, and one removal: seven renames in all.
	for failAt := 1; failAt <= 7; failAt++ {
		t.Run("rename "+string(rune('0'+failAt)), func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := filepath.Join(parent, "fork")
			layout(t, dir, existing)
			if err := os.Chmod(filepath.Join(dir, "values-global.yaml"), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			calls := 0
			w := writer{rename: func(from, to string) error {
				calls++
				if calls == failAt {
					return &os.LinkError{Op: "rename", Old: from, New: to, Err: errors.New("injected failure")}
				}
				return os.Rename(from, to)
			}}
			err := w.write(dir, tree, []string{"charts/gone/Chart.yaml"}, Overlay)
			if err == nil || !strings.Contains(err.Error(), "injected failure; nothing was changed") {
				t.Fatalf("error %v", err)
			}
			if strings.Contains(err.Error(), parent+string(filepath.Separator)+".") {
				t.Errorf("the message names a temporary path: %v", err)
			}
			if got := snapshot(t, dir); !maps.Equal(got, before) {
				t.Errorf("the target changed:\n%v\nwas\n%v", got, before)
			}
			if extra := leftovers(t, parent); len(extra) > 0 {
				t.Errorf("left beside the target: %v", extra)
			}
		})
	}
}

// Update removes what it is told to, with the folders that leaves empty, keeps the rest, and
// refuses to remove through a link.
func TestUpdateRemoves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fork")
	layout(t, dir, map[string]string{
		"charts/gone/templates/a.yaml": "a\n",
		"charts/gone/Chart.yaml":       "name: gone\n",
		"charts/kept/Chart.yaml":       "name: kept\n",
		"charts/kept/mine.txt":         "mine\n",
		"extra.txt":                    "kept",
	})
	err := Update(dir, map[string][]byte{"values-global.yaml": []byte("g\n")},
		[]string{"charts/gone/templates/a.yaml", "charts/gone/Chart.yaml", "charts/kept/Chart.yaml", "not/there.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		".": "dir -rwxr-xr-x", "charts": "dir -rwxr-xr-x", "charts/kept": "dir -rwxr-xr-x",
		"charts/kept/mine.txt": "file -rw-r--r-- mine\n", "extra.txt": "file -rw-r--r-- kept", "values-global.yaml": "file -rw-r--r-- g\n",
	}
	if got := snapshot(t, dir); !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "charts/gone")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the emptied folder is still there: %v", err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := Update(dir, nil, []string{"linked/x.yaml"}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("removal through a link: %v", err)
	}
	if err := Update(dir, nil, []string{"../outside"}); err == nil {
		t.Fatal("a path outside the target was accepted")
	}
}

// A folder this process may not write in is found before anything moves (root may write
// anywhere, so this needs an ordinary user).
func TestOverlayReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "fork")
	layout(t, dir, map[string]string{"values-global.yaml": "old", "charts/hub/trustee/Chart.yaml": "old"})
	ro := filepath.Join(dir, "charts", "hub")
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	before := snapshot(t, dir)
	err := Write(dir, tree, Overlay)
	if err == nil || !strings.HasSuffix(err.Error(), "/fork/charts/hub: permission denied; pattern-gen cannot write there") {
		t.Fatalf("error %v", err)
	}
	if got := snapshot(t, dir); !maps.Equal(got, before) {
		t.Errorf("the target changed:\n%v\nwas\n%v", got, before)
	}
}

func TestWriteRefusesPathsOutside(t *testing.T) {
	for _, name := range []string{"../x", "/etc/x", "a/../../x", "a//b", "./a", ""} {
		dir := filepath.Join(t.TempDir(), "fork")
		if err := Write(dir, map[string][]byte{name: []byte("x")}, RefuseNonEmpty); err == nil {
			t.Errorf("%q was written", name)
		}
		if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%q: the target was created", name)
		}
	}
}
