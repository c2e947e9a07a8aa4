package textdiff

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GNU diff -u is the independent oracle: the same hunks for the same inputs.
func TestUnifiedMatchesGNUDiff(t *testing.T) {
	gnu, err := exec.LookPath("diff")
	if err != nil {
		t.Skip("no diff on PATH")
	}
	cases := [][2]string{
		{"a\nb\nc\n", "a\nB\nc\n"},
		{"", "x\ny\n"},
		{"x\ny\n", ""},
		{strings.Repeat("same\n", 20) + "old\n" + strings.Repeat("same\n", 20), strings.Repeat("same\n", 20) + "new\n" + strings.Repeat("same\n", 20)},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\nY\n14\n15\n16\n"},
		{"a\nb\nc\nd\ne\nf\ng\nh\n", "a\nc\nd\nz\ne\nf\nh\n"},
		{"k: v\n", "k: v\n"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		os.WriteFile(a, []byte(c[0]), 0o644)
		os.WriteFile(b, []byte(c[1]), 0o644)
		out, _ := exec.Command(gnu, "-u", "--label", "a", "--label", "b", a, b).Output()
		if got := Unified("a", "b", c[0], c[1], 3); got != string(out) {
			t.Errorf("case %d:\ngot:\n%s\nGNU diff:\n%s", i, got, out)
		}
	}
}
