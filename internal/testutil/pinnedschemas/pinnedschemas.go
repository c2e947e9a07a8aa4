// Package pinnedschemas fills a schema cache, for tests, with the schemas values/pins.yaml pins,
// from copies of the very files its URLs name: the shared reference copies and the Go module
// cache (a module's files are its repository's at the tag). Each goes in through
// schemacache.Put, which checks its SHA-256, so filling the cache also proves the pins table's
// checksums are those of the upstream files it names (the sandbox here cannot reach them).
package pinnedschemas

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/pins"
	"github.com/pattern-gen/pattern-gen/internal/schemacache"
)

// T is the part of testing.TB the filler needs (testscript's T too).
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// root is the repository's root folder.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Shared is the shared reference folder beside the repository.
func Shared() string { return filepath.Join(root(), "..", "shared", "reference") }

const raw = "https://raw.githubusercontent.com/"

// modules are the repositories whose files the Go module proxy serves, by repository path.
var modules = map[string]string{
	"kubernetes/kubernetes":                     "k8s.io/kubernetes",
	"external-secrets/external-secrets":         "github.com/external-secrets/external-secrets",
	"intel/intel-device-plugins-for-kubernetes": "github.com/intel/intel-device-plugins-for-kubernetes",
}

// copies are the local copies of files that no module serves, by URL.
func copies() map[string]string {
	s := Shared()
	return map[string]string{
		raw + "validatedpatterns/clustergroup-chart/v0.9.55/values.schema.json":                                                                                                                                     filepath.Join(s, "clustergroup-chart-0.9.55", "values.schema.json"),
		raw + "snir911/sandboxed-containers-operator/398d042ab9656f8466e4b3298b0846fdb25ae278/config/crd/bases/kataconfiguration.openshift.io_kataconfigs.yaml":                                                     filepath.Join(s, "crds", "kataconfiguration.openshift.io_kataconfigs.yaml"),
		raw + "openshift/trustee-operator/v1.2.1/config/crd/bases/confidentialcontainers.org_kbsconfigs.yaml":                                                                                                       filepath.Join(root(), "e2e", "testdata", "trustee-v1.2.1", "confidentialcontainers.org_kbsconfigs.yaml"),
		raw + "openshift/trustee-operator/v1.1.0/config/crd/bases/confidentialcontainers.org_kbsconfigs.yaml":                                                                                                       filepath.Join(s, "crds", "trustee-v1.1.0", "confidentialcontainers.org_kbsconfigs.yaml"),
		raw + "openshift/trustee-operator/v0.4.2/config/crd/bases/confidentialcontainers.org_kbsconfigs.yaml":                                                                                                       filepath.Join(s, "crds", "trustee-v0.4.2", "confidentialcontainers.org_kbsconfigs.yaml"),
		raw + "openshift/cloud-credential-operator/469dbd254ecc225b7ca0899b3fbbfaa5ee89b046/manifests/0000_03_cloud-credential-operator_01_crd.yaml":                                                                filepath.Join(root(), "e2e", "testdata", "cloudcredential.openshift.io_credentialsrequests.yaml"),
		raw + "openshift/cluster-nfd-operator/ae32881102fc0223d6077f0b6a67afa92e7c58e3/config/crd/bases/nfd.openshift.io_nodefeaturediscoveries.yaml":                                                               filepath.Join(root(), "e2e", "testdata", "baremetal", "nfd.openshift.io_nodefeaturediscoveries.yaml"),
		raw + "openshift/cluster-nfd-operator/ae32881102fc0223d6077f0b6a67afa92e7c58e3/config/crd/bases/nfd.openshift.io_nodefeaturerules.yaml":                                                                     filepath.Join(root(), "e2e", "testdata", "baremetal", "nfd.openshift.io_nodefeaturerules.yaml"),
		raw + "openshift/api/05da40ea98557f8351483a39db3d0e7d9076bc8f/machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineconfigs.crd.yaml":                                         filepath.Join(root(), "e2e", "testdata", "baremetal", "0000_80_machine-config_01_machineconfigs.crd.yaml"),
		raw + "redhat-openshift-ecosystem/certified-operators/3b7b563a8acb879e586e39c6fea2f094a8c41bb9/operators/intel-tdx-dcap-operator/0.1.0/manifests/trustedservices.intel.com_tdxquotegenerationservices.yaml": filepath.Join(root(), "e2e", "testdata", "baremetal", "trustedservices.intel.com_tdxquotegenerationservices.yaml"),
	}
}

// Fill puts every schema of table into the cache folder dir.
func Fill(t T, table pins.Table, dir string) {
	t.Helper()
	if _, err := os.Stat(Shared()); err != nil {
		t.Skipf("%s is absent: skipping what needs the pinned schemas", Shared())
	}
	c := schemacache.Cache{Dir: dir}
	for _, kind := range []string{pins.SchemaValues, pins.SchemaCRD, pins.SchemaOpenAPI} {
		for _, s := range table.Schemas(kind) {
			data, err := os.ReadFile(local(t, s.URL))
			if err != nil {
				t.Fatalf("%s: %v", s.URL, err)
			}
			if err := c.Put(s, data); err != nil {
				t.Fatalf("the pins table's checksum is not the upstream file's: %v", err)
			}
		}
	}
}

// local is the local copy of the file url names.
func local(t T, url string) string {
	if p, ok := copies()[url]; ok {
		return p
	}
	rest, ok := strings.CutPrefix(url, raw)
	parts := strings.SplitN(rest, "/", 4)
	if !ok || len(parts) != 4 || modules[parts[0]+"/"+parts[1]] == "" {
		t.Fatalf("%s: no local copy known; add one to internal/testutil/pinnedschemas", url)
	}
	out, err := exec.Command("go", "mod", "download", "-json", modules[parts[0]+"/"+parts[1]]+"@"+parts[2]).Output()
	if err != nil {
		t.Fatalf("go mod download for %s: %v", url, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatalf("go mod download for %s: %v", url, err)
	}
	return filepath.Join(mod.Dir, filepath.FromSlash(parts[3]))
}
