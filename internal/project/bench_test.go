package project_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/chartserver"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

// BenchmarkDiffDefaultFork measures `pattern-gen diff` of two revisions of the default fork
// (the base read from git objects, working tree as head, both rendered, compared). Target: under 1 s.
func BenchmarkDiffDefaultFork(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: dir, RepoURL: forkrepo.URL}); err != nil {
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
	const chartDir = "../../../shared/reference/clustergroup-chart-0.9.55"
	var repo *chartserver.Server
	if _, err := os.Stat(chartDir); err == nil {
		repo = chartserver.Start(b, chartserver.ReadDir(b, chartDir, "0.9.55"))
	}
	cache := b.TempDir()
	for _, c := range []struct {
		name  string
		chart func() string
	}{
		{"values", func() string { return "" }},
		// With the clustergroup chart the fork pins, rendered on both sides (issue 17: under 1 s).
		{"clustergroup-chart", func() string { return chartDir }},
		// The same from a chart repository, as by default: the index read each run (the pin is
		// the range 0.9.*), the archive from the cache.
		{"clustergroup-chart-repository", func() string { return repo.URL }},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := os.Stat(chartDir); c.name != "values" && err != nil {
				b.Skipf("%s is absent", chartDir)
			}
			opts := project.ChartOptions{Source: c.chart(), CacheDir: cache}
			if repo != nil {
				opts.Transport = repo.Transport()
			}
			for i := 0; i < b.N; i++ {
				res, err := project.Diff(context.Background(), project.DiffOptions{Fork: dir, Base: "HEAD", Chart: opts})
				if err != nil {
					b.Fatal(err)
				}
				// peer-pods-cm; with the chart also the imperative values ConfigMap, which carries
				// values-global.yaml.
				if n := len(res.Changes); n == 0 || c.name == "values" && n != 1 || c.name != "values" && res.Chart == nil {
					b.Fatalf("%d changes", n)
				}
			}
		})
	}
}

func BenchmarkLoadConfig(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, _, err := project.LoadConfig(context.Background(), ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderDefault renders the whole default pattern from its config (target < 150 ms).
func BenchmarkRenderDefault(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := project.Render(context.Background(), project.Source{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderSplit renders both clusterGroups (trusted hub and spoke) of the split case.
func BenchmarkRenderSplit(b *testing.B) {
	cfg := filepath.Join(repoRoot, "testdata", "cases", "split", "pattern-gen.yaml")
	for i := 0; i < b.N; i++ {
		if _, err := project.Render(context.Background(), project.Source{Config: cfg}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderApp renders each application of the default fork on its own.
func BenchmarkRenderApp(b *testing.B) {
	_, tree, err := project.Scaffold(context.Background(), project.ScaffoldOptions{RepoURL: forkrepo.URL})
	if err != nil {
		b.Fatal(err)
	}
	p, err := render.ReadPattern(tree)
	if err != nil {
		b.Fatal(err)
	}
	plans, err := p.Plan(tree, p.OfflineFacts("Azure"))
	if err != nil {
		b.Fatal(err)
	}
	for _, plan := range plans {
		b.Run(plan.Name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := render.RenderApp(tree, plan); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerate is cmp-plugin generate for sandboxed-containers, in-process, from the
// fork on disk (reading the fork is part of every call).
func BenchmarkGenerate(b *testing.B) {
	fork := filepath.Join(b.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		b.Fatal(err)
	}
	env, err := config.FromEnv(func(k string) string { return benchPluginEnv[k] })
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := generate.Run(context.Background(), generate.Request{Dir: filepath.Join(fork, render.SandboxChart), Env: env, Logf: func(string, ...any) {}}); err != nil {
			b.Fatal(err)
		}
	}
}

var benchPluginEnv = map[string]string{
	"ARGOCD_APP_SOURCE_PATH":          render.SandboxChart,
	"ARGOCD_APP_PARAMETERS":           `[{"name":"overlay","string":"overlays/azure"},{"name":"cluster-discovery","string":"disabled"},{"name":"cluster-domain","string":"apps.bench.example.com"}]`,
	"ARGOCD_ENV_AZURE_REGION":         "eastus",
	"ARGOCD_ENV_AZURE_RESOURCE_GROUP": "bench-rg",
	"ARGOCD_ENV_AZURE_SUBNET_ID":      "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/bench-rg/providers/Microsoft.Network/virtualNetworks/v/subnets/w",
	"ARGOCD_ENV_AZURE_NSG_ID":         "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/bench-rg/providers/Microsoft.Network/networkSecurityGroups/n",
}

// BenchmarkRenderSynthetic renders clusterGroups of 10 and 100 applications (copies of
// hello-openshift in their own namespaces) to show the cost is linear in N (100: < 2 s).
func BenchmarkRenderSynthetic(b *testing.B) {
	_, base, err := project.Scaffold(context.Background(), project.ScaffoldOptions{RepoURL: forkrepo.URL})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100} {
		tree := render.Tree{}
		for k, v := range base {
			tree[k] = v
		}
		var apps strings.Builder
		apps.WriteString("clusterGroup:\n  name: hub\n  namespaces: []\n  applications:\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&apps, "    app%03d: {name: app%03d, namespace: ns%03d, path: charts/coco-supported/hello-openshift}\n", i, i, i)
		}
		tree["values-hub.yaml"] = []byte(apps.String())
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := project.RenderTree(tree, config.PluginEnv{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
