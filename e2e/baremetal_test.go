package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The bare-metal pattern as a user gets it from `platform: BareMetal` on Intel TDX nodes.
const bareMetalConfig = `apiVersion: pattern-gen.io/v1alpha1
kind: Pattern
git: {repoURL: https://example.com/org/coco.git}
platform: BareMetal
hardware: {profile: intel-tdx}
operators:
  nfd: {csv: nfd.4.20.0-202511201134}
`

// bareMetalCRDs are the CRDs of the node-preparation kinds, as the pinned operators install them
// (see testdata/README.md).
var bareMetalCRDs = []string{
	"testdata/baremetal/nfd.openshift.io_nodefeaturediscoveries.yaml",
	"testdata/baremetal/nfd.openshift.io_nodefeaturerules.yaml",
	"testdata/baremetal/0000_80_machine-config_01_machineconfigs.crd.yaml",
	"testdata/baremetal/deviceplugin.intel.com_sgxdeviceplugins.yaml",
	"testdata/baremetal/trustedservices.intel.com_tdxquotegenerationservices.yaml",
}

// TestArgoCDSyncsBareMetal syncs the bare-metal TDX fork into a kube-apiserver with the CRDs of the
// pinned operators: the node preparation (NFD and its TEE rule, the TDX MachineConfigs, the SGX
// device plugin, the quote generation service) is accepted by their schemas (the
// TdxQuoteGenerationService CRD refuses any other name and a map nodeSelector), and cmp-plugin
// gives the kata-cc pods initdata whose TDX MRCONFIGID (its SHA-256 padded to 48 bytes) reaches
// the KBS's reference values. No node, kubelet or operator runs here: nothing labels nodes,
// reboots them or creates runtime class kata-cc.
func TestArgoCDSyncsBareMetal(t *testing.T) {
	b, helm := needSyncBinaries(t)
	a := newWorkspace(t, b, bareMetalConfig)
	c := startArgoCluster(t, b, helm, a, clusterSpec{
		group: "hub", hubDomain: appsDomain, localDomain: appsDomain, platform: "BareMetal", noPeerPods: true,
		crdFiles: append(append(esoCRDFiles(t),
			filepath.Join(refCRDs, "kataconfiguration.openshift.io_kataconfigs.yaml"),
			trusteeCRD,
			filepath.Join(refCRDs, "openshift", "config.openshift.io_ingresses.yaml"),
			filepath.Join(refCRDs, "openshift", "config.openshift.io_infrastructures.yaml"),
		), bareMetalCRDs...),
		crdDocs:    []string{routeCRD},
		namespaces: []string{"openshift-sandboxed-containers-operator", "trustee-operator-system", "hello-openshift", "openshift-nfd"},
		objects: []string{
			"apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata: {name: cluster}\nspec: {domain: " + appsDomain + "}\n",
			"apiVersion: config.openshift.io/v1\nkind: Infrastructure\nmetadata: {name: cluster}\nspec: {}\nstatus: {infrastructureName: metal-x1y2z, platform: BareMetal, platformStatus: {type: BareMetal}}\n",
		},
	})
	// The secrets are loaded (the test stands in for External Secrets, as in the Azure sync).
	cert := selfSignedCert(t, "kbs-trustee-operator-system."+appsDomain)
	eso, stopESO := context.WithCancel(context.Background())
	t.Cleanup(stopESO)
	go standInForExternalSecrets(eso, c.k, map[string]map[string]string{"kbs-https-certificate": {"tls.crt": cert}})
	began := time.Now()
	c.createApplications(t)
	c.waitSynced(t, began, "the applications were created")

	for _, o := range []struct {
		gvk      schema.GroupVersionKind
		ns, name string
	}{
		{schema.GroupVersionKind{Group: "nfd.openshift.io", Version: "v1", Kind: "NodeFeatureDiscovery"}, "openshift-nfd", "nfd-instance"},
		{schema.GroupVersionKind{Group: "deviceplugin.intel.com", Version: "v1", Kind: "SgxDevicePlugin"}, "", "sgxdeviceplugin-coco"},
		{schema.GroupVersionKind{Group: "trustedservices.intel.com", Version: "v1", Kind: "TdxQuoteGenerationService"}, "", "intel-tdx-dcap"},
		{schema.GroupVersionKind{Group: "machineconfiguration.openshift.io", Version: "v1", Kind: "MachineConfig"}, "", "99-coco-tdx-master"},
	} {
		if _, err := c.get(t, o.gvk, o.ns, o.name); err != nil {
			t.Errorf("%s %s/%s: %v", o.gvk.Kind, o.ns, o.name, err)
		}
	}
	rule, err := c.get(t, schema.GroupVersionKind{Group: "nfd.openshift.io", Version: "v1alpha1", Kind: "NodeFeatureRule"}, "openshift-nfd", "coco-tee")
	must(t, err)
	rules, _, _ := unstructured.NestedSlice(rule.Object, "spec", "rules")
	var labels []string
	for _, r := range rules {
		l, _, _ := unstructured.NestedStringMap(r.(map[string]any), "labels")
		for k := range l {
			labels = append(labels, k)
		}
	}
	slices.Sort(labels)
	if want := []string{"intel.feature.node.kubernetes.io/sgx", "intel.feature.node.kubernetes.io/tdx"}; !slices.Equal(labels, want) {
		t.Errorf("NodeFeatureRule labels %v, want %v", labels, want)
	}
	mc, err := c.get(t, schema.GroupVersionKind{Group: "machineconfiguration.openshift.io", Version: "v1", Kind: "MachineConfig"}, "", "99-coco-tdx-worker")
	must(t, err)
	if args, _, _ := unstructured.NestedStringSlice(mc.Object, "spec", "kernelArguments"); !slices.Contains(args, "kvm_intel.tdx=1") {
		t.Errorf("MachineConfig kernelArguments %v lack kvm_intel.tdx=1", args)
	}
	kata, err := c.get(t, schema.GroupVersionKind{Group: "kataconfiguration.openshift.io", Version: "v1", Kind: "KataConfig"}, "", "default-kata-config")
	must(t, err)
	if peer, _, _ := unstructured.NestedBool(kata.Object, "spec", "enablePeerPods"); peer {
		t.Error("KataConfig enables peer pods on bare metal")
	}
	if _, err := c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-sandboxed-containers-operator", "peer-pods-cm"); err == nil {
		t.Error("peer-pods-cm exists on bare metal")
	}
	kbs, err := c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "trustee-operator-system", "kbs-config")
	must(t, err)
	if toml, _, _ := unstructured.NestedString(kbs.Object, "data", "kbs-config.toml"); !strings.Contains(toml, "[attestation_service.verifier_config.dcap_verifier]") {
		t.Error("kbs-config.toml has no dcap_verifier for TDX")
	}

	dep, err := c.get(t, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "hello-openshift", "secure")
	must(t, err)
	if rc, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "spec", "runtimeClassName"); rc != "kata-cc" {
		t.Errorf("the secure Deployment runs on %q, want kata-cc", rc)
	}
	ann, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data")
	if ann == "" || strings.HasPrefix(ann, "<") {
		t.Fatalf("the live kata-cc Deployment has no initdata: %q", ann)
	}
	doc := decodeInitdata(t, ann)
	if err := contains(string(doc), "kbs-trustee-operator-system."+appsDomain); err != nil {
		t.Errorf("initdata: %v", err)
	}
	// TDX binds the initdata in MRCONFIGID: its SHA-256, hashed here independently, padded to 48
	// bytes (confidential-containers/trustee deps/verifier/src/tdx regularize_data).
	sum := sha256.Sum256(doc)
	want := hex.EncodeToString(sum[:]) + strings.Repeat("0", 32)
	waitWithin(t, "the secure pod's MRCONFIGID reaching the live rvps-reference-values", 2*time.Minute, func() bool {
		cm, err := c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "trustee-operator-system", "rvps-reference-values")
		if err != nil {
			return false
		}
		values, err := referenceValues(cm)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(values["init_data"], want)
	})
}
