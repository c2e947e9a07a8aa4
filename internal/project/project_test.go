package project_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/golden"
)

// repoRoot is where the shared testdata/ lives.
const repoRoot = "../.."

// cases are the configs whose whole fork and rendered tree are kept as golden files: the
// embedded default ("" config) and every testdata/cases/<name>/pattern-gen.yaml.
func cases(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{"default": ""}
	dirs, err := os.ReadDir(filepath.Join(repoRoot, "testdata", "cases"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		out[d.Name()] = filepath.Join(repoRoot, "testdata", "cases", d.Name(), "pattern-gen.yaml")
	}
	return out
}

func TestGoldenForkAndRender(t *testing.T) {
	for name, cfg := range cases(t) {
		t.Run(name, func(t *testing.T) {
			_, tree, err := project.Scaffold(context.Background(), project.ScaffoldOptions{Config: cfg, Origin: forkrepo.URL})
			if err != nil {
				t.Fatal(err)
			}
			golden.AssertDir(t, filepath.Join(repoRoot, "testdata", "golden", name, "fork"), tree)
			res, err := project.Render(context.Background(), project.Source{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			golden.AssertDir(t, filepath.Join(repoRoot, "testdata", "golden", name, "rendered"), res.Files)
		})
	}
}

// init followed by render of the fork on disk gives the same objects as rendering the config.
func TestInitThenRenderFork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: dir, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	fromDisk, err := project.Render(context.Background(), project.Source{Fork: dir})
	if err != nil {
		t.Fatal(err)
	}
	fromConfig, err := project.Render(context.Background(), project.Source{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromDisk.Stream, fromConfig.Stream) {
		t.Error("rendering the fork on disk differs from rendering its config")
	}
	if len(fromDisk.Applications) != 4 || fromDisk.Objects < 30 {
		t.Errorf("default fork: %d applications, %d objects; want 4 applications and at least 30 objects", len(fromDisk.Applications), fromDisk.Objects)
	}
}

// Map iteration and template order must never leak into output: 20 renders, byte-identical.
func TestRenderIsDeterministic(t *testing.T) {
	first, err := project.Render(context.Background(), project.Source{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 19; i++ {
		again, err := project.Render(context.Background(), project.Source{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Stream, again.Stream) {
			t.Fatalf("run %d differs from the first", i+2)
		}
	}
}

func TestInitRefusesNonEmptyDirAndKeepsIt(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: dir, RepoURL: forkrepo.URL}); err == nil {
		t.Fatal("init wrote into a non-empty directory without --force")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory changed: %d entries", len(entries))
	}
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: dir, RepoURL: forkrepo.URL, Force: true}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(keep); err != nil || string(data) != "mine" {
		t.Errorf("--force lost a file it does not generate: %v %q", err, data)
	}
	if _, err := os.Stat(filepath.Join(dir, "values-hub.yaml")); err != nil {
		t.Error(err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
}

func TestBadConfigWritesNothing(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\ngit: {repoURL: https://x.example/r.git}\nazure: {instanceSize: Standard_D2s_v3}\n"), 0o644)
	dir := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: cfg, Dir: dir}); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("fork directory exists after a failed init: %v", err)
	}
}

func TestRenderOutReplacesOnlyItsOwnOutput(t *testing.T) {
	res, err := project.Render(context.Background(), project.Source{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rendered")
	if err := project.WriteRendered(out, res); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(out, "trustee", "stale.yaml")
	os.WriteFile(stale, []byte("x"), 0o644)
	if err := project.WriteRendered(out, res); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("a stale file survived a second render")
	}
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "important"), []byte("x"), 0o644)
	if err := project.WriteRendered(foreign, res); err == nil {
		t.Error("render --out replaced a directory it did not write")
	}
}
