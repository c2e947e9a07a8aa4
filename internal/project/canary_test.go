package project_test

import (
	"bytes"
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
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

// canary is a fake secret; it must never leave the place it was put.
const canary = "CANARY-7f3e9c1d-not-a-real-secret"

// A secret placed where users keep secrets (the fork's values-secret.yaml, next to the
// template), in an Application's plugin env and parameters, never reaches render, diff or
// plugin output, their errors, or the golden files.
func TestSecretCanary(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	// The user's filled-in secrets file, beside the template (git ignores it).
	if err := os.WriteFile(filepath.Join(fork, "values-secret.yaml"), []byte("version: \"2.0\"\nsecrets:\n  - name: kbsres1\n    fields:\n      - name: key1\n        value: "+canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []string
	res, err := project.Render(context.Background(), project.Source{Fork: fork})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(res.Stream))

	env := map[string]string{
		"ARGOCD_APP_SOURCE_PATH":          render.SandboxChart,
		"ARGOCD_ENV_AZURE_CLIENT_SECRET":  canary,
		"ARGOCD_ENV_AZURE_REGION":         "eastus",
		"ARGOCD_ENV_CLUSTER_DISCOVERY":    "disabled",
		"ARGOCD_ENV_AZURE_RESOURCE_GROUP": "rg",
		"ARGOCD_APP_PARAMETERS":           `[{"name":"azure-subnet-id","string":"` + canary + `"}]`,
	}
	penv, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	_, err = generate.Run(context.Background(), generate.Request{
		Dir: filepath.Join(fork, render.SandboxChart), Env: penv,
		Logf: func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) },
	})
	if err == nil {
		t.Fatal("an invalid subnet ID was accepted")
	}
	outputs = append(outputs, err.Error(), log.String())
	// An unknown parameter whose value is the secret is named, not echoed.
	_, err = config.FromEnv(func(k string) string {
		if k == config.EnvAppParameters {
			return `[{"name":"client-secret","string":"` + canary + `"}]`
		}
		return ""
	})
	outputs = append(outputs, err.Error())

	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = fork
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=c", "GIT_AUTHOR_EMAIL=c@example.com", "GIT_COMMITTER_NAME=c", "GIT_COMMITTER_EMAIL=c@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A") // .gitignore keeps values-secret.yaml out
	git("commit", "-q", "-m", "base")
	secretTemplate := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: canary\n  namespace: {{ .Release.Namespace }}\nstringData:\n  key: " + canary + "\n"
	if err := os.WriteFile(filepath.Join(fork, "charts/hub/trustee/templates/canary.yaml"), []byte(secretTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := project.Diff(context.Background(), project.DiffOptions{Fork: fork, Base: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := d.JSON()
	outputs = append(outputs, d.Text(), d.Markdown(1<<20), js)

	for i, out := range outputs {
		if strings.Contains(out, canary) {
			t.Errorf("output %d carries the canary:\n%s", i, out)
		}
	}
	err = filepathWalk(filepath.Join(repoRoot, "testdata"), func(data []byte) bool { return bytes.Contains(data, []byte("CANARY-")) })
	if err != nil {
		t.Error(err)
	}
}

func filepathWalk(root string, bad func([]byte) bool) error {
	return filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && bad(data) {
			return &os.PathError{Op: "canary", Path: p, Err: os.ErrExist}
		}
		return err
	})
}
