package project_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/forklock"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

// olderGenerator makes the fork look as if an older pattern-gen, whose template for name gave
// old, had generated it: the file holds old and the lock records old's digest.
func olderGenerator(t *testing.T, fork, name, old string) {
	t.Helper()
	lockPath := filepath.Join(fork, forklock.File)
	data, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := forklock.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	l.Generator = "pattern-gen v0.0.1"
	l.Files[name] = forklock.Digest([]byte(old))
	l.Generated[name] = []byte(old)
	if data, err = l.Encode(); err != nil {
		t.Fatal(err)
	}
	for p, d := range map[string]string{lockPath: string(data), filepath.Join(fork, name): old} {
		if err := os.WriteFile(p, []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A newer pattern-gen whose templates changed: render's check names the files and the two
// generators; update replaces an unedited file, and merges an edited one against the text the
// lock keeps (what the older pattern-gen generated), as git would. Without that text, every
// difference is a conflict and nothing is dropped.
func TestUpdateAfterPatternGenChanged(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	if d := project.CheckDrift(fork); d.Problem("u") != "" || d.Warning("u") != "" {
		t.Fatalf("a fresh fork drifts: %+v", d)
	}
	makefile, _ := os.ReadFile(filepath.Join(fork, "Makefile"))
	olderGenerator(t, fork, "Makefile", "# the old Makefile\n")
	d := project.CheckDrift(fork)
	want := "generates 1 file differently from pattern-gen v0.0.1, which generated the fork (Makefile): run u (it keeps your edits)"
	if !strings.Contains(d.Problem("u"), want) {
		t.Fatalf("drift %q, want %q", d.Problem("u"), want)
	}
	res, err := project.Update(context.Background(), project.UpdateOptions{Fork: fork})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(fork, "Makefile")); string(got) != string(makefile) || len(res.Written) != 1 || res.From != "pattern-gen v0.0.1" {
		t.Fatalf("unedited file not replaced: %+v", res)
	}

	// The older README had no Layout heading; the user added a line at the end after it.
	readme, _ := os.ReadFile(filepath.Join(fork, "README.md"))
	old := strings.Replace(string(readme), "## Layout\n", "", 1)
	olderGenerator(t, fork, "README.md", old)
	mine := old + "\nOur team's notes.\n"
	if err := os.WriteFile(filepath.Join(fork, "README.md"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err = project.Update(context.Background(), project.UpdateOptions{Fork: fork}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(fork, "README.md"))
	if len(res.Merged) != 1 || len(res.NoBase) != 0 || string(got) != string(readme)+"\nOur team's notes.\n" {
		t.Fatalf("merged %v, no base %v, conflicts %v:\n%s", res.Merged, res.NoBase, res.Conflicts, got)
	}

	// A lock without the generated texts (written by hand, say): a conflict, nothing lost.
	olderGenerator(t, fork, "README.md", old)
	stripGenerated(t, fork)
	if err := os.WriteFile(filepath.Join(fork, "README.md"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err = project.Update(context.Background(), project.UpdateOptions{Fork: fork}); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(filepath.Join(fork, "README.md"))
	if len(res.Conflicts) != 1 || len(res.NoBase) != 1 || !strings.Contains(string(got), "Our team's notes.\n") || !strings.Contains(string(got), "## Layout\n") {
		t.Fatalf("without a base: %+v\n%s", res, got)
	}
}

// stripGenerated drops the generated texts from the fork's lock.
func stripGenerated(t *testing.T, fork string) {
	t.Helper()
	p := filepath.Join(fork, forklock.File)
	data, _ := os.ReadFile(p)
	l, err := forklock.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	l.Generated = nil
	if data, err = l.Encode(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
