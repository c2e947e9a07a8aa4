package textdiff

import (
	"strings"
	"testing"
)

var labels = MergeLabels{Mine: "mine", Theirs: "theirs"}

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
	got := MergeWithoutBase([]byte(big+"mine\n"), []byte("theirs\n"+big), labels)
	if got.Conflicts != 1 || !strings.Contains(string(got.Text), "mine\n=======\ntheirs\n") {
		t.Fatalf("got %d conflicts", got.Conflicts)
	}
}
