package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/pattern-gen/pattern-gen/internal/manifest"
)

// helmIgnoreChart is a chart whose .helmignore (if any) is ignore; every template renders one
// ConfigMap named after it.
func helmIgnoreChart(ignore string) Tree {
	cm := func(name string) []byte {
		return []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n")
	}
	t := Tree{
		"Chart.yaml":              []byte("apiVersion: v2\nname: x\nversion: 0.1.0\n"),
		"values.yaml":             append([]byte{0xEF, 0xBB, 0xBF}, "name: bom\n"...),
		"README.md":               []byte("# x\n"),
		"notes.txt":               []byte("n\n"),
		"ci/values-test.yaml":     []byte("name: ci\n"),
		"ci/deep/more.yaml":       []byte("a: b\n"),
		".github/workflow.yaml":   []byte("on: push\n"),
		"templates/keep.yaml":     cm("keep"),
		"templates/skip.yaml":     cm("skip"),
		"templates/.hidden.yaml":  cm("hidden"),
		"templates/sub/deep.yaml": cm("deep"),
		"files/a.txt":             []byte("a\n"),
		"files/b.conf":            []byte("b\n"),
	}
	if ignore != "" {
		t[".helmignore"] = []byte(ignore)
	}
	return t
}

// The files handed to Helm's loader are those loader.LoadDir reads from the same chart on disk:
// .helmignore patterns of every kind, Helm's default rule, directory rules, negation, and a
// byte order mark.
func TestHelmChartFilesLikeLoadDir(t *testing.T) {
	for _, tc := range []struct{ name, ignore string }{
		{"no .helmignore", ""},
		{"basename glob", "*.md\n*.txt\n"},
		{"directory rule", "ci/\n.github/\n"},
		{"rooted", "/notes.txt\n/templates/skip.yaml\n"},
		{"structural", "templates/s*.yaml\nfiles/*.conf\n"},
		{"directory without slash", "sub\n"},
		{"comments and blanks", "# a comment\n\n   \n*.conf   \n"},
		{"negation", "*.txt\n!notes.txt\n"},
		{"negation only", "!templates\n"},
		{"ignore everything", "*\n"},
		{"bom in .helmignore", "\uFEFF*.md\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := helmIgnoreChart(tc.ignore)
			dir := filepath.Join(t.TempDir(), "x")
			helmWriteTree(t, dir, tree)
			want, wantErr := loader.LoadDir(dir)
			files, err := helmChartFiles("charts/x", tree)
			if err != nil {
				t.Fatal(err)
			}
			got, gotErr := loader.LoadFiles(files)
			if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
				t.Fatalf("error: got %v, LoadDir: %v", gotErr, wantErr)
			}
			if wantErr != nil {
				return
			}
			if d := cmp.Diff(helmRawNames(want.Raw), helmRawNames(got.Raw)); d != "" {
				t.Errorf("files differ from LoadDir's (-LoadDir +in-process):\n%s", d)
			}
			if !reflect.DeepEqual(want.Values, got.Values) {
				t.Errorf("values: got %v, LoadDir: %v", got.Values, want.Values)
			}
		})
	}
}

func helmRawNames(fs []*chart.File) []string {
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	slices.Sort(names) // LoadDir walks directory by directory; the order does not matter to Helm
	return names
}

func helmWriteTree(t *testing.T, dir string, tree Tree) {
	t.Helper()
	for p, data := range tree {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHelmIgnoreBadPattern(t *testing.T) {
	_, err := helmTemplate(helmIgnoreChart("templates/**\n"), helmTestPlan, map[string]any{})
	want := "charts/all/x/.helmignore: double-star (**) syntax is not supported; fix the pattern (Helm's ignore rules have no **)"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
}

// helmCLIPath is the real helm named by PATTERN_GEN_HELM, or "".
func helmCLIPath() string { return os.Getenv("PATTERN_GEN_HELM") }

// helmCLI is helmCLIPath; without it the test is skipped, unless PATTERN_GEN_REQUIRE_TOOLS is
// set (make test sets both).
func helmCLI(t *testing.T) string {
	t.Helper()
	p := helmCLIPath()
	if p == "" {
		if os.Getenv("PATTERN_GEN_REQUIRE_TOOLS") != "" {
			t.Fatal("PATTERN_GEN_HELM is not set; run the tests with `make test`")
		}
		t.Skip("PATTERN_GEN_HELM is not set: skipping the cross-check with the real helm (make test builds it)")
	}
	return p
}

// helmCLITemplate runs `helm template` on tree written to disk as plan.Path.
func helmCLITemplate(t *testing.T, tree Tree, plan AppPlan) ([]byte, error) {
	t.Helper()
	root := t.TempDir()
	helmWriteTree(t, filepath.Join(root, plan.Path), tree)
	cmd := exec.Command(helmCLI(t), "template", plan.Name, filepath.Join(root, plan.Path), "--namespace", plan.Namespace, "--include-crds")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &helmCLIError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type helmCLIError struct {
	err    error
	stderr string
}

func (e *helmCLIError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }

func helmObjects(t *testing.T, stream []byte) map[string]map[string]any {
	t.Helper()
	m, err := manifest.ByID("out", stream)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A chart whose .helmignore excludes templates renders the same objects in-process and with
// `helm template`.
func TestHelmIgnoreLikeHelmCLI(t *testing.T) {
	helmCLI(t)
	for _, ignore := range []string{"templates/skip.yaml\nsub/\n", "skip.yaml\n"} {
		tree := helmIgnoreChart(ignore)
		want, err := helmCLITemplate(t, tree, helmTestPlan)
		if err != nil {
			t.Fatal(err)
		}
		got, err := helmTemplate(tree, helmTestPlan, map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		w, g := helmObjects(t, want), helmObjects(t, got)
		if _, ok := g["core/ConfigMap/_/skip"]; ok {
			t.Errorf(".helmignore %q: the ignored template rendered", ignore)
		}
		if _, ok := g["core/ConfigMap/_/keep"]; !ok {
			t.Errorf(".helmignore %q: the kept template did not render", ignore)
		}
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf(".helmignore %q: in-process render differs from helm template (-cli +in-process):\n%s", ignore, d)
		}
	}
}
