package project_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/schemacache"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/pinnedschemas"
)

const sharedCRDs = "../../../shared/reference/crds"

// crdDir gathers the CRDs of the kinds the default fork renders: the shared reference copies
// (KataConfig, OLM), Trustee 1.2 (e2e/testdata) and External Secrets from its Go module, at the version the
// pins table (values/pins.yaml) says the fork's chart bundles.
func crdDir(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(sharedCRDs); err != nil {
		t.Skipf("%s is absent: skipping the CRD checks", sharedCRDs)
	}
	dir := t.TempDir()
	copyFile := func(src string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(sharedCRDs, "kataconfiguration.openshift.io_kataconfigs.yaml"))
	copyFile(filepath.Join("..", "..", "e2e", "testdata", "trustee-v1.2.1", "confidentialcontainers.org_kbsconfigs.yaml"))
	copyFile(filepath.Join(sharedCRDs, "olm", "operators.coreos.com_subscriptions.yaml"))
	// External Secrets at exactly the version the pinned golang-external-secrets chart bundles.
	table, err := project.PinsTable()
	if err != nil {
		t.Fatal(err)
	}
	eso, err := table.Named("golang-external-secrets")
	if err != nil {
		t.Fatal(err)
	}
	copyFile(filepath.Join(moduleDir(t, eso.Bundles.Module), filepath.FromSlash(eso.Bundles.CRDs), "external-secrets.io_externalsecrets.yaml"))
	return dir
}

// kubeOpenAPIDir holds the OpenAPI v3 documents of the core kinds the fork renders, from the
// k8s.io/kubernetes module the kube-apiserver of the tests is built from.
func kubeOpenAPIDir(t *testing.T) string {
	t.Helper()
	modDir := moduleDir(t, "k8s.io/kubernetes@v1.36.3")
	dir := t.TempDir()
	for _, f := range []string{"api__v1_openapi.json", "apis__apps__v1_openapi.json", "apis__rbac.authorization.k8s.io__v1_openapi.json"} {
		data, err := os.ReadFile(filepath.Join(modDir, "api", "openapi-spec", "v3", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// moduleDir is the folder of a Go module version (path@version) in the module cache, fetched
// through the module proxy.
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", module, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	return mod.Dir
}

// editFile replaces the first old with new in a file of the fork, which must contain it.
func editFile(t *testing.T, fork, file, old, new string) {
	t.Helper()
	p := filepath.Join(fork, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pinnedCache is a schema cache holding every schema the pins table pins, offline.
func pinnedCache(t *testing.T) schemacache.Cache {
	t.Helper()
	table, err := project.PinsTable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pinnedschemas.Fill(t, table, dir)
	return schemacache.Cache{Dir: dir}
}

func problemsText(rep *project.ValidateReport) string {
	lines := make([]string, len(rep.Problems))
	for i, p := range rep.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// The default fork validates against the schemas of exactly the versions it pins, from the
// schema cache, offline; every check runs.
func TestValidate(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	opts := project.ValidateOptions{Fork: fork, Schemas: pinnedCache(t)}
	rep, err := project.Validate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	// Four CRDs from their pins (KataConfig, KbsConfig, ExternalSecret in two versions,
	// CredentialsRequest) and the core kinds of four OpenAPI documents.
	if len(rep.Problems) > 0 || len(rep.Unchecked) > 0 || !slices.Contains(rep.Checked, "clustergroup values schema") ||
		!slices.Contains(rep.Checked, "rendered objects against 5 custom kinds and versions") || !slices.Contains(rep.Checked, "rendered objects against 68 Kubernetes kinds") {
		t.Fatalf("the default fork: problems %v, unchecked %v, checked %v", rep.Problems, rep.Unchecked, rep.Checked)
	}
	// Routes are served by OpenShift's API server and no pinned schema covers them: named.
	if !slices.Contains(rep.NoSchema, "Route (route.openshift.io/v1)") || slices.Contains(rep.NoSchema, "Job (batch/v1)") {
		t.Errorf("kinds without a schema: %v", rep.NoSchema)
	}

	edit := func(file, old, new string) { editFile(t, fork, file, old, new) }
	edit("charts/hub/trustee/templates/kbsconfig.yaml", "kbsServiceType:", "kbsServiceTyp:")
	edit("charts/all/sandboxed-containers/templates/kataconfig.yaml", "enablePeerPods:", "enablePeerPod:")
	edit("charts/coco-supported/hello-openshift/templates/routes.yaml", "name: {{ .name }}\n    weight", "name: {{ .name }}-svc\n    weight")
	edit("values-hub.yaml", "    - hello-openshift\n", "")
	edit("values-hub.yaml", "      csv: \"trustee-operator.v1.2.0\"", "      version: \"1.2.0\"")
	edit("values-hub.yaml", "  argoProjects:", "  argoProjectz:")
	edit("pattern-gen.yaml", "instanceSize: Standard_DC2as_v5", "instanceSize: Standard_D2as_v5")
	edit("charts/coco-supported/hello-openshift/templates/deployments.yaml", "  replicas: 1", "  replica: 1")
	edit("values-hub.yaml", "mountPath: /var/run/secrets/kubernetes.io/serviceaccount", "mountPath: /var/run/secrets/token")
	edit("charts/all/cmp-plugin-rbac/values.yaml", "repoServerServiceAccount: default", "repoServerServiceAccount: openshift-gitops-argocd-repo-server")
	edit("values-hub.yaml", "chart: golang-external-secrets\n      chartVersion: 0.2.*", "chart: golang-external-secrets\n      chartVersion: 0.1.*")
	edit("charts/hub/trustee/templates/_helpers.tpl", "apiVersion: external-secrets.io/v1\n", "apiVersion: external-secrets.io/v1alpha1\n")
	rep, err = project.Validate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := problemsText(rep)
	if n := strings.Count(got, "is not declared"); n != 1 {
		t.Errorf("the undeclared namespace is reported %d times, want once", n)
	}
	for _, want := range []string{
		"pattern-gen.yaml:22: azure.instanceSize: \"Standard_D2as_v5\" is not a confidential VM size",
		"values-global.yaml + values-hub.yaml: /clusterGroup: clustergroup schema: additional properties 'argoProjectz' not allowed",
		"trustee/kbsconfig-trustee-operator-system-kbsconfig.yaml: /spec: KbsConfig schema: additional properties 'kbsServiceTyp' not allowed",
		"sandboxed-containers/kataconfig-default-kata-config.yaml: /spec: KataConfig schema: additional properties 'enablePeerPod' not allowed",
		"hello-openshift/route-hello-openshift-secure.yaml: spec.to.name: Service hello-openshift/secure-svc is not rendered by application hello-openshift",
		"hello-openshift/deployment-hello-openshift-insecure-policy.yaml: metadata.namespace: namespace hello-openshift is not declared in values-hub.yaml clusterGroup.namespaces",
		"values-hub.yaml: clusterGroup.subscriptions.trustee.version: version: makes the clustergroup chart install an OLMv1 ClusterExtension; pin the operator with csv: instead",
		"values-hub.yaml: clusterGroup.subscriptions.trustee: no csv: pin",
		"hello-openshift/deployment-hello-openshift-secure.yaml: /spec: Deployment schema: additional properties 'replica' not allowed",
		"values-hub.yaml: clusterGroup.argoCD.configManagementPlugins[0].volumeMounts: nothing is mounted at /var/run/secrets/kubernetes.io/serviceaccount, so cmp-plugin has no service-account token and applications hello-openshift, sandboxed-containers, trustee fail to generate",
		"values-hub.yaml: clusterGroup.applications.golang-external-secrets.chartVersion: \"0.1.*\" is not the range pattern-gen pins and tests (\"0.2.*\", values/pins.yaml); set \"0.2.*\"",
		"hub/trustee/externalsecret-trustee-operator-system-kbs-https-certificate-eso.yaml: apiVersion: ExternalSecret external-secrets.io/v1alpha1 is not served by the pinned golang-external-secrets 0.2.* (external-secrets 0.16.2), which serves external-secrets.io/v1, v1beta1",
		"hub/cmp-plugin-rbac/rolebinding-openshift-cloud-controller-manager-cmp-plugin-cloud-conf.yaml: subjects[0]: binds ServiceAccount coco-pattern-hub/openshift-gitops-argocd-repo-server, but the repo server (where cmp-plugin runs) runs as coco-pattern-hub/default",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
}

// A fork that pins another operator version is checked against that version's CRD: Trustee
// 0.4.2's KbsConfig has no kbsAttestationKeySecretName, 1.1.0's has.
func TestValidateUsesTheForksOperatorVersion(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "osc-1.10-minimal", "pattern-gen.yaml"), Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	opts := project.ValidateOptions{Fork: fork, Schemas: pinnedCache(t)}
	rep, err := project.Validate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 || len(rep.Unchecked) > 0 {
		t.Fatalf("problems %v, unchecked %v", rep.Problems, rep.Unchecked)
	}
	editFile(t, fork, "charts/hub/trustee/templates/kbsconfig.yaml", "  kbsServiceType: ClusterIP", "  kbsAttestationKeySecretName: attestation-key\n  kbsServiceType: ClusterIP")
	if rep, err = project.Validate(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got := problemsText(rep); !strings.Contains(got, "KbsConfig schema: additional properties 'kbsAttestationKeySecretName' not allowed") {
		t.Fatalf("checked against another version's CRD:\n%s", got)
	}
}

// Each clusterGroup is checked against the operator versions it subscribes: a spoke that
// subscribes Trustee 0.4.2 while the hub runs 1.1.0 (a staged upgrade) is no conflict of CRDs.
func TestValidatePerClusterGroupVersions(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "split", "pattern-gen.yaml"), Dir: fork}); err != nil {
		t.Fatal(err)
	}
	editFile(t, fork, "values-spoke.yaml", "  subscriptions:\n", "  subscriptions:\n    trustee:\n      name: trustee-operator\n      namespace: trustee-operator-system\n      source: redhat-operators\n      channel: stable\n      csv: trustee-operator.v0.4.2\n")
	rep, err := project.Validate(context.Background(), project.ValidateOptions{Fork: fork, Schemas: pinnedCache(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := problemsText(rep); strings.Contains(got, "both define") || len(rep.Unchecked) > 0 {
		t.Fatalf("problems:\n%s\nunchecked %v", got, rep.Unchecked)
	}
}

// Offline with an empty cache nothing schema-based can run: every such check is listed with
// the cache folder and the flag that would supply it, and the rest still runs.
func TestValidateOfflineNamesWhatWouldSupply(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "empty-cache")
	rep, err := project.Validate(context.Background(), project.ValidateOptions{Fork: fork, Schemas: schemacache.Cache{Dir: cache}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 || len(rep.Unchecked) != 9 || slices.Contains(rep.Checked, "clustergroup values schema") {
		t.Fatalf("problems %v, unchecked %v, checked %v", rep.Problems, rep.Unchecked, rep.Checked)
	}
	for _, u := range rep.Unchecked {
		if !strings.Contains(u, "is not in the cache ("+cache+")") || !strings.Contains(u, "; pass --") {
			t.Errorf("%q names neither the cache nor a flag", u)
		}
	}
}

// A split fork validates group by group: both clusterGroup files against the clustergroup
// schema, each group's objects against its own namespaces.
func TestValidateSplit(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "split", "pattern-gen.yaml"), Dir: fork}); err != nil {
		t.Fatal(err)
	}
	opts := project.ValidateOptions{Fork: fork, ClusterGroupSchema: schemaPath, CRDDir: crdDir(t), KubeOpenAPIDir: kubeOpenAPIDir(t)}
	rep, err := project.Validate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 || !slices.Contains(rep.Checked, "cross-file rules of clusterGroup trusted-hub, spoke") {
		t.Fatalf("the split fork: problems %v, checked %v", rep.Problems, rep.Checked)
	}
	edit := func(file, old, new string) { editFile(t, fork, file, old, new) }
	edit("values-spoke.yaml", "    - kbs-access\n", "")
	edit("values-trusted-hub.yaml", "  argoProjects:", "  argoProjectz:")
	edit("values-spoke.yaml", "path: token", "path: sa-token")
	rep, err = project.Validate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := problemsText(rep)
	for _, want := range []string{
		"values-global.yaml + values-trusted-hub.yaml: /clusterGroup: clustergroup schema: additional properties 'argoProjectz' not allowed",
		"spoke/kbs-access/",
		"namespace kbs-access is not declared in values-spoke.yaml clusterGroup.namespaces",
		"values-spoke.yaml: clusterGroup.argoCD.volumes: volume cmp-plugin-sa-token[0] must be projected with a serviceAccountToken at path token",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
	if len(rep.Problems) != 3 {
		t.Errorf("%d problems, want 3:\n%s", len(rep.Problems), got)
	}
}

// The pins table's word on what a bundled operator serves is checked against that operator's
// own CRDs, from its Go module at the bundled version: a pin moved without its API versions
// fails here.
func TestPinsTableMatchesBundledCRDs(t *testing.T) {
	table, err := project.PinsTable()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range table.Components {
		if c.Bundles == nil {
			continue
		}
		served := map[string][]string{} // group/kind -> served versions
		files, err := filepath.Glob(filepath.Join(moduleDir(t, c.Bundles.Module), filepath.FromSlash(c.Bundles.CRDs), "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no CRDs in %s: %v", c.Name, c.Bundles.CRDs, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var crd struct {
				Spec struct {
					Group    string
					Names    struct{ Kind string }
					Versions []struct {
						Name   string
						Served bool
					}
				}
			}
			if err := yaml.Unmarshal(data, &crd); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, v := range crd.Spec.Versions {
				if v.Served {
					served[crd.Spec.Group+"/"+crd.Spec.Names.Kind] = append(served[crd.Spec.Group+"/"+crd.Spec.Names.Kind], v.Name)
				}
			}
		}
		for _, api := range c.Serves {
			for _, kind := range api.Kinds {
				got := served[api.Group+"/"+kind]
				slices.Sort(got)
				want := slices.Sorted(slices.Values(api.Versions))
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s %s serves %v at %s, the table says %v", c.Name, c.Bundles.Name, kind, got, c.Bundles.Module, want)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no kind of a bundled operator was checked")
	}
}

// A bare-metal fork's node preparation validates against the CRDs of the operators it pins (NFD,
// the machine config operator, Intel's device plugins and quote generation service), which a
// cloud fork never loads; the quote generation service's CRD refuses a map nodeSelector, the
// form upstream coco-pattern writes.
func TestValidateBareMetal(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "baremetal-tdx", "pattern-gen.yaml"), Dir: fork}); err != nil {
		t.Fatal(err)
	}
	opts := project.ValidateOptions{Fork: fork, Schemas: pinnedCache(t)}
	rep, err := project.Validate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 || len(rep.Unchecked) > 0 || !slices.Contains(rep.Checked, "rendered objects against 9 custom kinds and versions") {
		t.Fatalf("problems %v, unchecked %v, checked %v", rep.Problems, rep.Unchecked, rep.Checked)
	}
	for _, kind := range []string{"MachineConfig", "NodeFeatureDiscovery", "NodeFeatureRule", "SgxDevicePlugin", "TdxQuoteGenerationService"} {
		if slices.ContainsFunc(rep.NoSchema, func(s string) bool { return strings.HasPrefix(s, kind+" ") }) {
			t.Errorf("%s has no schema: %v", kind, rep.NoSchema)
		}
	}
	editFile(t, fork, "charts/all/baremetal/templates/tdx.yaml", "    - intel.feature.node.kubernetes.io/sgx=true", "    intel.feature.node.kubernetes.io/sgx: \"true\"")
	editFile(t, fork, "charts/all/baremetal/templates/nfd.yaml", "VMX: {op: Exists}", "VMX: {op: exists}")
	if rep, err = project.Validate(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	got := problemsText(rep)
	for _, want := range []string{"TdxQuoteGenerationService schema", "/spec/nodeSelector", "NodeFeatureRule schema"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}
