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
	want := hex.EncodeToString(sha256Of(doc)) + strings.Repeat("0", 32)
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

// The split bare-metal pattern as a user gets it: a trusted hub that attests spokes of either TEE
// kind, on the other supported pin pair (OSC 1.12, Trustee 1.1).
const bareMetalSplitConfig = `apiVersion: pattern-gen.io/v1alpha1
kind: Pattern
git: {repoURL: https://example.com/org/coco.git}
topology: split
platform: BareMetal
hardware: {profile: mixed}
operators:
  nfd: {csv: nfd.4.21.0}
  sandboxedContainers: {csv: sandboxed-containers-operator.v1.12.1}
  trustee: {csv: trustee-operator.v1.1.0}
`

// TestArgoCDSyncsBareMetalSplit syncs a trusted hub and a bare-metal spoke of a mixed fork: the
// hub's Trustee 1.1 verifies TDX quotes (tdxConfigSpec and its ConfigMap, accepted by the 1.1
// KbsConfig CRD) and SNP reports, the spoke prepares nodes of both kinds, and the spoke's kata-cc
// pods carry initdata naming the hub's KBS whose digest, padded (TDX MRCONFIGID) and unpadded (SNP
// HOST_DATA), is in the hub's reference values.
func TestArgoCDSyncsBareMetalSplit(t *testing.T) {
	b, helm := needSyncBinaries(t)
	a := newWorkspace(t, b, bareMetalSplitConfig)
	hub := startArgoCluster(t, b, helm, a, clusterSpec{
		group: "trusted-hub", hubDomain: hubDomain, localDomain: hubDomain, noPeerPods: true, platform: "BareMetal",
		crdFiles: append(esoCRDFiles(t), filepath.Join(refCRDs, "trustee-v1.1.0", "confidentialcontainers.org_kbsconfigs.yaml"),
			filepath.Join(refCRDs, "openshift", "config.openshift.io_ingresses.yaml")),
		crdDocs:    append([]string{routeCRD}, acmCRDs...),
		namespaces: []string{"trustee-operator-system"},
		objects: []string{
			"apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata: {name: cluster}\nspec: {domain: " + hubDomain + "}\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: kbs-https-certificate, namespace: trustee-operator-system}\nstringData:\n  tls.crt: |\n" + indent(hubKBSCert, 4),
		},
	})
	eso, stopESO := context.WithCancel(context.Background())
	t.Cleanup(stopESO)
	go standInForExternalSecrets(eso, hub.k, nil)
	hub.syncApplications(t)
	kbs, err := hub.get(t, schema.GroupVersionKind{Group: "confidentialcontainers.org", Version: "v1alpha1", Kind: "KbsConfig"}, "trustee-operator-system", "kbsconfig")
	must(t, err)
	if name, _, _ := unstructured.NestedString(kbs.Object, "spec", "tdxConfigSpec", "kbsTdxConfigMapName"); name != "tdx-config" {
		t.Errorf("KbsConfig tdxConfigSpec.kbsTdxConfigMapName %q, want tdx-config", name)
	}
	if _, err := hub.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "trustee-operator-system", "tdx-config"); err != nil {
		t.Errorf("tdx-config: %v", err)
	}
	policy, err := hub.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "trustee-operator-system", "attestation-policy")
	must(t, err)
	if rego, _, _ := unstructured.NestedString(policy.Object, "data", "default_cpu.rego"); !strings.Contains(rego, "input.tdx.quote.body.mr_td") || !strings.Contains(rego, "input.snp.measurement") {
		t.Error("the hub's attestation policy lacks the bare-metal TDX or SNP rules")
	}

	spoke := startArgoCluster(t, b, helm, a, clusterSpec{
		group: "spoke", hubDomain: hubDomain, localDomain: spokeDomain, trustedHub: true, noPeerPods: true, platform: "BareMetal",
		crdFiles: append(append(esoCRDFiles(t),
			filepath.Join(refCRDs, "kataconfiguration.openshift.io_kataconfigs.yaml"),
			filepath.Join(refCRDs, "openshift", "config.openshift.io_ingresses.yaml"),
		), bareMetalCRDs...),
		crdDocs:    []string{routeCRD},
		namespaces: []string{"openshift-sandboxed-containers-operator", "hello-openshift", "kbs-access", "openshift-nfd", "trustee-operator-system"},
		objects: []string{
			"apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata: {name: cluster}\nspec: {domain: " + spokeDomain + "}\n",
		},
	})
	go standInForExternalSecrets(eso, spoke.k, nil)
	propagatePolicy(t, hub, spoke, map[string]string{"clusterGroup": "spoke"})
	spoke.syncApplications(t)
	rule, err := spoke.get(t, schema.GroupVersionKind{Group: "nfd.openshift.io", Version: "v1alpha1", Kind: "NodeFeatureRule"}, "openshift-nfd", "coco-tee")
	must(t, err)
	rules, _, _ := unstructured.NestedSlice(rule.Object, "spec", "rules")
	if len(rules) != 3 {
		t.Errorf("the spoke's NodeFeatureRule has %d rules, want TDX, SGX and SNP", len(rules))
	}
	dep, err := spoke.get(t, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "hello-openshift", "secure")
	must(t, err)
	enc, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data")
	if enc == "" || strings.HasPrefix(enc, "<") {
		t.Fatalf("the spoke's kata-cc Deployment has no initdata: %q", enc)
	}
	doc := decodeInitdata(t, enc)
	if err := contains(string(doc), "kbs-trustee-operator-system."+hubDomain); err != nil {
		t.Errorf("the spoke's initdata: %v", err)
	}
	sum := hex.EncodeToString(sha256Of(doc))
	rvps, err := hub.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "trustee-operator-system", "rvps-reference-values")
	must(t, err)
	values, err := referenceValues(rvps)
	must(t, err)
	if !slices.Contains(values["init_data"], sum+strings.Repeat("0", 32)) || !slices.Contains(values["init_data"], sum) {
		t.Errorf("the hub's init_data reference values lack the spoke pod's initdata digest %s (padded for TDX, as is for SNP): %v", sum, values["init_data"])
	}
}

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
