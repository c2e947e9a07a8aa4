package generate_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// repoRoot is where the shared testdata/ lives.
const repoRoot = "../.."

func pluginEnv(t *testing.T, vars map[string]string) config.PluginEnv {
	t.Helper()
	e, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// runPlugin runs the plugin on an application of a fork, with no cluster.
func runPlugin(t *testing.T, fork, appPath string, vars map[string]string) ([]manifest.Object, string, error) {
	t.Helper()
	if vars == nil {
		vars = map[string]string{}
	}
	vars["ARGOCD_APP_SOURCE_PATH"] = appPath
	var log strings.Builder
	out, err := generate.Run(context.Background(), generate.Request{
		Dir: filepath.Join(fork, appPath), Env: pluginEnv(t, vars),
		Logf: func(f string, a ...any) { log.WriteString(strings.TrimSpace(strings.ReplaceAll(f, "%", "")) + "\n") },
	})
	if err != nil {
		return nil, log.String(), err
	}
	objs, err := manifest.Split("stdout", out)
	if err != nil {
		t.Fatal(err)
	}
	again, err := generate.Run(context.Background(), generate.Request{Dir: filepath.Join(fork, appPath), Env: pluginEnv(t, vars), Logf: func(string, ...any) {}})
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("a second run differs (err %v)", err)
	}
	return objs, log.String(), nil
}

func decodeInitdata(t *testing.T, enc string) string {
	t.Helper()
	doc, err := peerpods.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// Everything pinned in the config: the plugin needs neither parameters nor a cluster.
func TestGenerateFromPinnedValues(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(filepath.Join(repoRoot, "testdata", "cases", "osc-1.10-minimal", "pattern-gen.yaml"), fork, false); err != nil {
		t.Fatal(err)
	}
	objs, _, err := runPlugin(t, fork, render.SandboxChart, map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"overlay","string":"overlays/azure"}]`})
	if err != nil {
		t.Fatal(err)
	}
	var cm manifest.Object
	for _, o := range objs {
		if o.Name == "peer-pods-cm" {
			cm = o
		}
	}
	if cm.Node == nil {
		t.Fatal("no peer-pods-cm")
	}
	if got := cm.String("data", "AZURE_REGION"); got != "westeurope" {
		t.Errorf("region %q", got)
	}
	if got := cm.String("metadata", "annotations", generate.AnnotationSources); !strings.Contains(got, `"AZURE_REGION":"values global.coco.azure.region"`) {
		t.Errorf("sources %s", got)
	}
	doc := decodeInitdata(t, cm.String("data", "INITDATA"))
	for _, want := range []string{`url = "https://kbs-trustee-operator-system.apps.lab.example.com"`, "-----BEGIN CERTIFICATE-----", "security-policy/signed"} {
		if !strings.Contains(doc, want) {
			t.Errorf("initdata lacks %q", want)
		}
	}

	// kbs-access on OSC 1.10: the runtime.cc_init_data annotation.
	objs, _, err = runPlugin(t, fork, render.KBSAccessChart, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objs {
		if o.Kind == "Deployment" {
			enc := o.String("spec", "template", "metadata", "annotations", "io.katacontainers.config.runtime.cc_init_data")
			found = enc != "" && strings.Contains(decodeInitdata(t, enc), "default ExecProcessRequest := false")
		}
	}
	if !found {
		t.Error("the kbs-access pod has no restrictive initdata annotation")
	}
}

func TestGenerateErrors(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init("", fork, false); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		vars map[string]string
		want string
	}{
		"not an application":   {"charts", nil, "charts is not the path of an application in values-hub.yaml; known paths: charts/all/cmp-plugin-rbac, charts/coco-supported/hello-openshift, charts/all/sandboxed-containers, charts/hub/trustee"},
		"no domain for pods":   {render.HelloChart, nil, "application hello-openshift has 2 pod templates on kata-remote, but the apps domain for the KBS URL has no source"},
		"bad discovery switch": {render.HelloChart, map[string]string{"ARGOCD_ENV_CLUSTER_DISCOVERY": "maybe"}, `cluster-discovery: use enabled or disabled`},
		"bad overlay":          {render.SandboxChart, map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"overlay","string":"overlays/gcp"}]`}, `overlay "overlays/gcp": no kustomization.yaml there`},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := runPlugin(t, fork, tc.path, tc.vars)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	// The offline render shows the same pod annotation as a placeholder.
	res, err := project.Render(project.Source{Fork: fork})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Spec struct {
			Template struct {
				Metadata struct{ Annotations map[string]string }
			}
		}
	}
	if err := yaml.Unmarshal(res.Files["hello-openshift/deployment-hello-openshift-secure.yaml"], &d); err != nil {
		t.Fatal(err)
	}
	if got := d.Spec.Template.Metadata.Annotations["io.katacontainers.config.hypervisor.cc_init_data"]; got != render.PlaceholderInitdata {
		t.Errorf("offline annotation %q", got)
	}
}
