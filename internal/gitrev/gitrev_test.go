package gitrev

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repo makes a git repository in a temporary folder with the given files committed; a value
// starting with "->" is a symbolic link to the rest.
func repo(t *testing.T, files map[string]string) (string, func(args ...string) string) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(files[name], "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(files[name]), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir, git
}

func commitAll(git func(...string) string) string {
	git("add", "-A")
	git("commit", "-q", "-m", "c")
	return git("rev-parse", "HEAD")
}

// Files returns the bytes git stores, whatever .gitattributes and the repository's filter
// configuration say, and every file, hidden ones included.
func TestFilesAsStored(t *testing.T) {
	files := map[string]string{
		".gitattributes":       "crb.yaml export-ignore\nsubst.yaml export-subst\nident.yaml ident\ncrlf.yaml text eol=crlf\n*.yaml filter=hide\n",
		"crb.yaml":             "kind: ClusterRoleBinding\n",
		"subst.yaml":           "commit: $Format:%H$\n",
		"ident.yaml":           "id: $Id$\n",
		"crlf.yaml":            "a: 1\nb: 2\n",
		".hidden/values.yaml":  "hidden: true\n",
		"charts/x/Chart.yaml":  "name: x\n",
		"charts/x/.helmignore": "*.bak\n",
	}
	dir, git := repo(t, files)
	sha := commitAll(git)
	// A smudge filter in the local config: git archive would run it; the review must not.
	git("config", "filter.hide.smudge", "sed /ClusterRoleBinding/d")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Files(sha)
	if err != nil {
		t.Fatal(err)
	}
	if names, want := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(files)); !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	for name, want := range files {
		if string(got[name]) != want {
			t.Errorf("%s = %q, want %q as committed", name, got[name], want)
		}
	}
}

// A fork in a subfolder: paths are relative to it, and links elsewhere in the repository do not
// matter.
func TestFilesPrefix(t *testing.T) {
	dir, git := repo(t, map[string]string{
		"docs/link":               "->/etc/passwd",
		"forks/my fork/a.yaml":    "a\n",
		"forks/my fork/sub/b.txt": "b\n",
		"forks/my forkx/c.yaml":   "c\n",
	})
	sha := commitAll(git)
	r, err := Open(filepath.Join(dir, "forks", "my fork"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Prefix != "forks/my fork/" {
		t.Fatalf("prefix %q", r.Prefix)
	}
	got, err := r.Files(sha)
	if err != nil {
		t.Fatal(err)
	}
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, []string{"a.yaml", "sub/b.txt"}) {
		t.Errorf("files %v", names)
	}
	git("rm", "-q", "-r", "forks/my fork")
	git("commit", "-q", "-m", "gone")
	_, err = r.Files(git("rev-parse", "HEAD"))
	if err == nil || err.Error() != "the fork's folder forks/my fork is not in this revision; pick a revision that has it" {
		t.Errorf("fork folder missing: %v", err)
	}
}

func TestFilesRefuses(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		// prepare changes the index before the commit (for what a work tree cannot hold).
		prepare func(git func(...string) string)
		max     int64
		want    string
	}{
		{
			name:  "link to a file outside",
			files: map[string]string{"a.yaml": "a\n", "charts/x/templates/passwd.yaml": "->/etc/passwd"},
			want:  "charts/x/templates/passwd.yaml is a symbolic link; pattern-gen does not follow links in a fork, replace it with the file",
		},
		{
			name:  "link to a directory",
			files: map[string]string{"a.yaml": "a\n", "charts": "->/tmp"},
			want:  "charts is a symbolic link; pattern-gen does not follow links in a fork, replace it with the file",
		},
		{
			name:  "submodule",
			files: map[string]string{"a.yaml": "a\n"},
			prepare: func(git func(...string) string) {
				git("update-index", "--add", "--cacheinfo", "160000,"+git("hash-object", "a.yaml")+",vendor/lib")
			},
			want: "vendor/lib is a git submodule; pattern-gen does not read submodules, put the files in the fork",
		},
		{
			name:  "file over the bound",
			files: map[string]string{"big.yaml": strings.Repeat("x", 100)},
			max:   99,
			want:  "big.yaml: it is 100 bytes, more than the 99 allowed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, git := repo(t, tc.files)
			git("add", "-A")
			if tc.prepare != nil {
				tc.prepare(git)
			}
			git("commit", "-q", "-m", "c")
			r, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			r.MaxFileSize = tc.max
			files, err := r.Files(git("rev-parse", "HEAD"))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v (%d files), want %q", err, len(files), tc.want)
			}
		})
	}
}

// A crafted tree (git mktree does not check names) with entries no checkout would write.
func TestFilesRefusesCraftedPaths(t *testing.T) {
	for _, name := range []string{"..", ".git", ".GIT"} {
		t.Run(name, func(t *testing.T) {
			dir, git := repo(t, map[string]string{"a.yaml": "a\n"})
			blob := git("hash-object", "-w", "a.yaml")
			cmd := exec.Command("git", "mktree")
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader("100644 blob " + blob + "\t" + name + "\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := r.list(strings.TrimSpace(string(out)))
			want := `"` + name + `" is not a path git would check out; remove it from the repository`
			if err == nil || err.Error() != want {
				t.Errorf("got %v (%v), want %q", err, entries, want)
			}
		})
	}
}

// One cat-file process answers for many objects, duplicates included, and each path gets its own
// bytes.
func TestFilesMany(t *testing.T) {
	files := map[string]string{}
	for i := range 3000 {
		files[fmt.Sprintf("d%d/f%d.txt", i%7, i)] = strings.Repeat("z", i%50)
	}
	dir, git := repo(t, files)
	sha := commitAll(git)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Files(sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(files) {
		t.Fatalf("%d files, want %d", len(got), len(files))
	}
	for name, want := range files {
		if string(got[name]) != want {
			t.Fatalf("%s = %q, want %q", name, got[name], want)
		}
	}
}
