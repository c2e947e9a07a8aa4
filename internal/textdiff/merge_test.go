package textdiff

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var labels = MergeLabels{Mine: "mine", Theirs: "theirs"}

// `git merge-file -p` is the independent oracle: the same merged text and the same number of
// conflicts for the same three inputs.
func TestMergeMatchesGitMergeFile(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is needed: it is the oracle of three-way merges")
	}
	hub := "clusterGroup:\n  name: hub\n  applications:\n    vault:\n      name: vault\n    trustee:\n      name: trustee\n  sizes: Standard_DC2as_v5\n"
	cases := []struct{ name, base, mine, theirs string }{
		{"only mine changed", "a\nb\nc\n", "a\nB\nc\n", "a\nb\nc\n"},
		{"only theirs changed", "a\nb\nc\n", "a\nb\nc\n", "a\nb\nC\n"},
		{"both, apart", "1\n2\n3\n4\n5\n6\n7\n", "1\nX\n3\n4\n5\n6\n7\n", "1\n2\n3\n4\n5\n6\nY\n"},
		{"both, the same change", "a\nb\nc\n", "a\nX\nc\n", "a\nX\nc\n"},
		{"both, the same line", "a\nb\nc\n", "a\nX\nc\n", "a\nY\nc\n"},
		{"mine added, theirs changed elsewhere",
			hub,
			strings.Replace(hub, "    trustee:\n", "    my-app:\n      name: my-app\n    trustee:\n", 1),
			strings.Replace(hub, "Standard_DC2as_v5", "Standard_DC4as_v5", 1)},
		{"insertions at the same place", "a\nb\n", "a\nmine\nb\n", "a\ntheirs\nb\n"},
		{"mine deleted, theirs unchanged", "a\nb\nc\n", "a\nc\n", "a\nb\nc\n"},
		{"mine deleted what theirs changed", "a\nb\nc\n", "a\nc\n", "a\nB\nc\n"},
		{"no final newline", "a\nb", "a\nb\nc", "z\na\nb"},
		{"empty base", "", "x\n", "x\n"},
		{"all empty but theirs", "", "", "new\n"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			paths := map[string]string{}
			for name, text := range map[string]string{"mine": c.mine, "base": c.base, "theirs": c.theirs} {
				paths[name] = filepath.Join(dir, name)
				if err := os.WriteFile(paths[name], []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(git, "merge-file", "-p", "-L", "mine", "-L", "base", "-L", "theirs", paths["mine"], paths["base"], paths["theirs"])
			want, err := cmd.Output()
			var exit *exec.ExitError
			conflicts := 0
			if errors.As(err, &exit) {
				conflicts = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			got := Merge([]byte(c.base), []byte(c.mine), []byte(c.theirs), labels)
			if string(got.Text) != string(want) || got.Conflicts != conflicts {
				t.Errorf("got %d conflicts:\n%s\ngit merge-file, %d conflicts:\n%s", got.Conflicts, got.Text, conflicts, want)
			}
		})
	}
}

func TestMergeWithoutBase(t *testing.T) {
	for _, c := range []struct{ name, mine, theirs, want string }{
		{"equal", "a\nb\n", "a\nb\n", "a\nb\n"},
		// Without an ancestor a line only one side has may be an addition or a deletion:
		// both stay, in a conflict.
		{"one side has more", "a\nb\nc\n", "a\nc\n", "a\n<<<<<<< mine\nb\n=======\n>>>>>>> theirs\nc\n"},
		{"differ in a line", "a\nb\nc\n", "a\nB\nc\n", "a\n<<<<<<< mine\nb\n=======\nB\n>>>>>>> theirs\nc\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := MergeWithoutBase([]byte(c.mine), []byte(c.theirs), labels)
			if string(got.Text) != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got.Text, c.want)
			}
		})
	}
}

// Past the table bound a file is one conflict holding both sides whole, never truncated.
func TestMergeTooBigIsOneConflict(t *testing.T) {
	big := strings.Repeat("line\n", 5000)
	got := Merge([]byte(big), []byte(big+"mine\n"), []byte("theirs\n"+big), labels)
	if got.Conflicts != 1 || !strings.Contains(string(got.Text), "mine\n=======\ntheirs\n") {
		t.Fatalf("got %d conflicts", got.Conflicts)
	}
}
