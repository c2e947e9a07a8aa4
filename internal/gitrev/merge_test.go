package gitrev

import (
	"strings"
	"testing"
)

func TestMergeFile(t *testing.T) {
	hub := "clusterGroup:\n  applications:\n    vault:\n      name: vault\n  size: DC2\n"
	out, n, err := MergeFile([]byte(hub),
		[]byte(strings.Replace(hub, "    vault:\n", "    mine:\n      name: mine\n    vault:\n", 1)),
		[]byte(strings.Replace(hub, "DC2", "DC4", 1)), "yours", "pattern-gen")
	if err != nil || n != 0 || !strings.Contains(string(out), "    mine:\n") || !strings.Contains(string(out), "size: DC4") {
		t.Fatalf("clean merge: %d conflicts, %v\n%s", n, err, out)
	}
	out, n, err = MergeFile([]byte("a\nb\nc\n"), []byte("a\nX\nc\n"), []byte("a\nY\nc\n"), "yours", "pattern-gen v1")
	if err != nil || n != 1 || string(out) != "a\n<<<<<<< yours\nX\n=======\nY\n>>>>>>> pattern-gen v1\nc\n" {
		t.Fatalf("conflict: %d, %v\n%s", n, err, out)
	}
}
