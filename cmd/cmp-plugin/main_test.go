package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pattern-gen/pattern-gen/internal/cli"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cli/cmpplugin"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/reach"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cmp-plugin":  func() { os.Exit(cmpplugin.Main(os.Args[1:], base.StdStreams(), os.Getenv)) },
		"pattern-gen": func() { os.Exit(cli.PatternGenMain(os.Args[1:], base.StdStreams())) },
	})
}

// TestScripts runs the plugin's contract in testdata/script/*.txtar. Each script gets
// $HANG_KUBECONFIG, a kubeconfig whose API server accepts connections and never answers, to
// show that the plugin gives up when Argo CD's deadline (SIGTERM) comes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Setup: func(env *testscript.Env) error {
			hang, err := reach.StartHang()
			if err != nil {
				return err
			}
			env.Defer(hang.Close)
			kc := filepath.Join(env.WorkDir, "hang-kubeconfig")
			err = os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: hang\n  cluster: {server: https://"+hang.Addr()+", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: hang, user: u}\ncurrent-context: c\n"), 0o600)
			env.Setenv("HANG_KUBECONFIG", kc)
			if err != nil {
				return err
			}
			// With no cluster to read, the KBS certificate (required with trustee.https) is pinned.
			pinned, err := testcert.WritePinnedConfig(env.WorkDir, forkrepo.URL)
			env.Setenv("PINNED_CERT_CONFIG", pinned)
			return err
		},
	})
}

// cmp-plugin renders from what the repository commits and the cluster's API: the packages that
// reach registries, Azure, chart repositories or remote sources (pattern-gen's measurements
// pull, azure egress, init's config fetch, render's clustergroup chart) must never be linked
// into it, whatever a later import adds.
func TestLinksNoRemoteFetcher(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/google/go-containerregistry/", "github.com/hashicorp/go-getter", "github.com/Azure/azure-sdk-for-go/",
			"github.com/pattern-gen/pattern-gen/internal/fetch", "github.com/pattern-gen/pattern-gen/internal/measurements/pull", "github.com/pattern-gen/pattern-gen/internal/azure",
			"github.com/pattern-gen/pattern-gen/internal/chartrepo", "helm.sh/helm/v3/pkg/getter", "helm.sh/helm/v3/pkg/repo", "helm.sh/helm/v3/pkg/registry"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("cmp-plugin links %s", pkg)
			}
		}
	}
	if !strings.Contains(string(out), "github.com/pattern-gen/pattern-gen/internal/measurements\n") {
		t.Error("go list -deps does not list internal/measurements, which cmp-plugin reads the committed file with; is the list complete?")
	}
}
