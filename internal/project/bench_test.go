package project_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/project"
)

// BenchmarkDiffDefaultFork measures `pattern-gen diff` of two revisions of the default fork
// (git archive of the base, working tree as head, both rendered, compared). Target: under 1 s.
func BenchmarkDiffDefaultFork(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "fork")
	if _, err := project.Init("", dir, false); err != nil {
		b.Fatal(err)
	}
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "base")
	values := filepath.Join(dir, "values-global.yaml")
	data, _ := os.ReadFile(values)
	os.WriteFile(values, []byte(strings.Replace(string(data), `defaultVMFlavour: "Standard_DC2as_v5"`, `defaultVMFlavour: "Standard_DC4as_v5"`, 1)), 0o644)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := project.Diff(project.DiffOptions{Fork: dir, Base: "HEAD"})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Changes) != 1 {
			b.Fatalf("%d changes, want 1", len(res.Changes))
		}
	}
}
