package render

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/pattern-gen/pattern-gen/internal/testutil/reach"
)

const chartOut = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: ns}\ndata: {a: b}\n"

// TestKustomizeRefusesExternalReach: every way a kustomization can name something outside the
// repository fails with the file and field named, and kustomize runs no git (a git first on
// PATH records any call), makes no request (to a loopback server) and leaves no clone in TMPDIR.
func TestKustomizeRefusesExternalReach(t *testing.T) {
	w := reach.Watch(t)
	url := w.Server.URL
	const head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
	cases := []struct {
		name, kustomization, want string
		extra                     Tree
	}{
		{"http resource", "resources: [chart.yaml, " + url + "/cm.yaml]", "resources[1]: a URL or git repository", nil},
		{"git https resource", "resources: [chart.yaml, 'https://example.com/org/repo//base?ref=v1']", "resources[1]: a URL or git repository", nil},
		{"git upload-pack", "resources: [chart.yaml, 'git::https://example.com/org/repo?ref=--upload-pack=touch${IFS}/tmp/pwned']", "resources[1]: a URL or git repository", nil},
		{"github shorthand", "resources: [chart.yaml, github.com/org/repo/base]", "resources[1]: a URL or git repository", nil},
		{"scp-like", "resources: [chart.yaml, 'git@example.com:org/repo.git']", "resources[1]: a URL or git repository", nil},
		{"file scheme", "resources: [chart.yaml, 'file:///etc/passwd']", "resources[1]: a URL or git repository", nil},
		{"legacy bases", "resources: [chart.yaml]\nbases: [" + url + "/base]", "resources[1]: a URL or git repository", nil},
		{"component", "resources: [chart.yaml]\ncomponents: [" + url + "/c]", "components[0]: a URL or git repository", nil},
		{"patch path", "resources: [chart.yaml]\npatches: [{path: " + url + "/p.yaml}]", "patches[0].path: a URL or git repository", nil},
		{"json6902 path", "resources: [chart.yaml]\npatchesJson6902: [{path: " + url + "/p.yaml, target: {kind: ConfigMap, name: cm}}]", "patchesJson6902[0].path: a URL or git repository", nil},
		{"strategic merge file", "resources: [chart.yaml]\npatchesStrategicMerge: ['" + url + "/p.yaml']", "patchesStrategicMerge[0]: a URL or git repository", nil},
		{"crd", "resources: [chart.yaml]\ncrds: [" + url + "/crd.yaml]", "crds[0]: a URL or git repository", nil},
		{"configuration", "resources: [chart.yaml]\nconfigurations: [" + url + "/c.yaml]", "configurations[0]: a URL or git repository", nil},
		{"replacement", "resources: [chart.yaml]\nreplacements: [{path: " + url + "/r.yaml}]", "replacements[0].path: a URL or git repository", nil},
		{"generator file", "resources: [chart.yaml]\nconfigMapGenerator: [{name: g, files: [k=" + url + "/f]}]", "configMapGenerator[0].files[0]: a URL or git repository", nil},
		{"secret env", "resources: [chart.yaml]\nsecretGenerator: [{name: g, envs: [" + url + "/e]}]", "secretGenerator[0].envs[0]: a URL or git repository", nil},
		{"openapi", "resources: [chart.yaml]\nopenapi: {path: " + url + "/schema.json}", "openapi: a custom OpenAPI schema is not supported", nil},
		{"local openapi", "resources: [chart.yaml]\nopenapi: {path: schema.json}", "openapi: a custom OpenAPI schema is not supported", Tree{"overlay/schema.json": []byte("{}")}},
		{"transformer plugin", "resources: [chart.yaml]\ntransformers: [t.yaml]", "transformers: kustomize plugin configurations are not supported", Tree{"overlay/t.yaml": []byte("apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: x}\npath: " + url + "/p.yaml\n")}},
		{"inline generator", "resources: [chart.yaml]\ngenerators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n  metadata: {name: x}\n  files: [" + url + "/f]\n", "generators: kustomize plugin configurations", nil},
		{"helm charts", "resources: [chart.yaml]\nhelmCharts: [{name: x, repo: " + url + "}]", "helmCharts: kustomize's Helm chart inflation", nil},
		{"absolute", "resources: [chart.yaml, /etc/passwd]", "resources[1]: an absolute path", nil},
		{"leaves the repository", "resources: [chart.yaml, ../../../etc]", "resources[1]: the path leaves the repository", nil},
		{"file outside the folder", "resources: [chart.yaml, ../base/extra.yaml]", "resources[1]: base/extra.yaml is outside the kustomization's folder", Tree{"base/extra.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")}},
		{"missing", "resources: [chart.yaml, nothere.yaml]", "resources[1]: overlay/nothere.yaml is not in the fork", nil},
		{"nested base", "resources: [chart.yaml, ../base]", "base/kustomization.yaml: resources[0]: a URL or git repository", Tree{"base/kustomization.yaml": []byte(head + "resources: [" + url + "/cm.yaml]\n")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := Tree{"overlay/kustomization.yaml": []byte(head + tc.kustomization + "\n")}
			for p, d := range tc.extra {
				tree[p] = d
			}
			_, err := kustomizeBuild(tree, "overlay", []byte(chartOut))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), url) || strings.Contains(err.Error(), "example.com") {
				t.Errorf("the error quotes the source: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is more than one line: %q", err)
			}
		})
	}
	w.AssertNone(t)
}

// TestKustomizeSideEffectWatchCanFail proves the watch above sees what unguarded kustomize does:
// run directly, the same git and HTTP resources run git and reach the server.
func TestKustomizeSideEffectWatchCanFail(t *testing.T) {
	w := reach.Watch(t)
	fsys := filesys.MakeFsInMemory()
	k := "resources: [" + w.Server.URL + "/cm.yaml, 'https://example.invalid/org/repo//base?ref=v1']\n"
	if err := fsys.WriteFile("/o/kustomization.yaml", []byte(k)); err != nil {
		t.Fatal(err)
	}
	_, _ = krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/o")
	if w.Server.Requests() == 0 {
		t.Error("unguarded kustomize made no HTTP request: the watch cannot see one")
	}
	if calls, err := w.Git.Calls(); err != nil || len(calls) == 0 {
		t.Errorf("unguarded kustomize ran no git (%v): the watch cannot see it", err)
	}
	if w.Check() == nil {
		t.Error("AssertNone would pass after unguarded kustomize")
	}
}

// TestKustomizeLocalBases: what a fork may do, bases and components in the repository, still
// builds, and only the kustomizations' folders are given to kustomize.
func TestKustomizeLocalBases(t *testing.T) {
	w := reach.Watch(t)
	const head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
	tree := Tree{
		"overlay/kustomization.yaml": []byte(head + "resources: [chart.yaml, ../base]\ncomponents: [../comp]\npatches: [{path: patches/p.yaml}]\nconfigMapGenerator: [{name: g, files: [k=data/f.txt]}]\n"),
		"overlay/patches/p.yaml":     []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: ns}\ndata: {patched: \"yes\"}\n"),
		"overlay/data/f.txt":         []byte("file content"),
		"base/kustomization.yaml":    []byte(head + "resources: [extra.yaml]\n"),
		"base/extra.yaml":            []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: ns}\n"),
		"comp/kustomization.yaml":    []byte("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels: [{pairs: {c: \"1\"}}]\n"),
		"unrelated/secret.yaml":      []byte("not for kustomize"),
	}
	dirs, err := KustomizeDirs(tree, "overlay")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"overlay", "base", "comp"}; !slices.Equal(dirs, want) {
		t.Errorf("dirs = %v, want %v", dirs, want)
	}
	out, err := kustomizeBuild(tree, "overlay", []byte(chartOut))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: extra", "patched: \"yes\"", "k: file content", "c: \"1\""} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	w.AssertNone(t)
}

// TestKustomizationFieldsClassified fails when a kustomize upgrade adds a Kustomization field:
// decide whether it names a path (add it to kustomizationPaths) or not (add it here).
func TestKustomizationFieldsClassified(t *testing.T) {
	noPaths := []string{"TypeMeta", "MetaData", "NamePrefix", "NameSuffix", "Namespace", "CommonLabels",
		"Labels", "CommonAnnotations", "Images", "ImageTags", "Replicas", "Vars", "SortOptions",
		"GeneratorOptions", "BuildMetadata"}
	checked := []string{"OpenAPI", "PatchesStrategicMerge", "PatchesJson6902", "Patches", "Replacements",
		"Resources", "Components", "Crds", "Bases", "ConfigMapGenerator", "SecretGenerator", "HelmGlobals",
		"HelmCharts", "HelmChartInflationGenerator", "Configurations", "Generators", "Transformers", "Validators"}
	typ := reflect.TypeOf(types.Kustomization{})
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if !slices.Contains(noPaths, name) && !slices.Contains(checked, name) {
			t.Errorf("types.Kustomization.%s is new: classify it", name)
		}
	}
	// Generator arguments: the fields that name files.
	for _, f := range []string{"FileSources", "EnvSources", "EnvSource"} {
		if _, ok := reflect.TypeOf(types.KvPairSources{}).FieldByName(f); !ok {
			t.Errorf("types.KvPairSources.%s is gone", f)
		}
	}
	if n := reflect.TypeOf(types.KvPairSources{}).NumField(); n != 4 {
		t.Errorf("types.KvPairSources has %d fields, want 4 (literals, files, envs, env): classify the new one", n)
	}
}
