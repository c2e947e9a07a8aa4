package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The split pattern under test, as a user gets it: Trustee, Vault and External Secrets on the
// trusted hub, the workloads on a spoke.
const splitConfig = `apiVersion: pattern-gen.io/v1alpha1
kind: Pattern
git: {repoURL: https://example.com/org/coco.git}
topology: split
`

const (
	hubDomain   = "apps.hub.example.com"
	spokeDomain = "apps.spoke.example.com"
	// A real certificate: cmp-plugin parses the KBS certificate and refuses anything else.
	hubKBSCert = "-----BEGIN CERTIFICATE-----\n" +
		"MIIBZDCCARagAwIBAgIBATAFBgMrZXAwOzE5MDcGA1UEAxMwa2JzLXRydXN0ZWUt\n" +
		"b3BlcmF0b3Itc3lzdGVtLmFwcHMuaHViLmV4YW1wbGUuY29tMB4XDTI2MDEwMTAw\n" +
		"MDAwMFoXDTM2MDEwMTAwMDAwMFowOzE5MDcGA1UEAxMwa2JzLXRydXN0ZWUtb3Bl\n" +
		"cmF0b3Itc3lzdGVtLmFwcHMuaHViLmV4YW1wbGUuY29tMCowBQYDK2VwAyEAO2on\n" +
		"vM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2imjPzA9MDsGA1UdEQQ0MDKCMGti\n" +
		"cy10cnVzdGVlLW9wZXJhdG9yLXN5c3RlbS5hcHBzLmh1Yi5leGFtcGxlLmNvbTAF\n" +
		"BgMrZXADQQBJZUTYYzc4qyyyX3UDgPQ/EdgDATBhC3gjvT5eFJhZREbYqfO+N9JH\n" +
		"XkRqj1eYuYnSwJmBX5nJGsHiDEk/ryQI\n" +
		"-----END CERTIFICATE-----\n"
	spokeCloud = `{"subscriptionId":"11111111-2222-3333-4444-555555555555","resourceGroup":"spoke-rg","location":"swedencentral","vnetName":"spoke-vnet","vnetResourceGroup":"spoke-net-rg","subnetName":"spoke-worker-subnet","securityGroupName":"spoke-nsg"}`
)

// acmCRDs register the ACM kinds the hub's kbs-publish application renders. ACM ships them
// with its operator, which is not published as a Go module or in the shared reference, so
// these are the test's own, with open schemas.
var acmCRDs = []string{
	openCRD("policy.open-cluster-management.io", "v1", "Policy", "policies"),
	openCRD("policy.open-cluster-management.io", "v1", "PlacementBinding", "placementbindings"),
	openCRD("cluster.open-cluster-management.io", "v1beta1", "Placement", "placements"),
	openCRD("cluster.open-cluster-management.io", "v1beta2", "ManagedClusterSetBinding", "managedclustersetbindings"),
}

// TestArgoCDSyncsSplitTopology runs two clusters, each a real kube-apiserver with its own Argo
// CD syncing its own clusterGroup of one split fork: the trusted hub (Trustee and the ACM policy
// that publishes the KBS to spokes) and a spoke (sandboxed containers and workloads, rendered by
// cmp-plugin under the real argocd-cmp-server). The spoke's initdata must name the hub's KBS.
func TestArgoCDSyncsSplitTopology(t *testing.T) {
	b, helm := needSyncBinaries(t)
	a := newWorkspace(t, b, splitConfig)

	hub := startArgoCluster(t, b, helm, a, clusterSpec{
		group: "trusted-hub", hubDomain: hubDomain, localDomain: hubDomain, noPeerPods: true,
		crdFiles: append(esoCRDFiles(t), trusteeCRD,
			filepath.Join(refCRDs, "openshift", "config.openshift.io_ingresses.yaml")),
		crdDocs:    append([]string{routeCRD}, acmCRDs...),
		namespaces: []string{"trustee-operator-system", "openshift-cloud-controller-manager"},
		// The hub's apps domain, and the KBS certificate, which Vault and External Secrets
		// provide on a real hub. cmp-plugin renders trustee here from both.
		objects: []string{
			"apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata: {name: cluster}\nspec: {domain: " + hubDomain + "}\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: kbs-https-certificate, namespace: trustee-operator-system}\nstringData:\n  tls.crt: |\n" + indent(hubKBSCert, 4),
		},
	})
	// The secrets are loaded (load-secrets): External Secrets, which does not run here, writes
	// what the ExternalSecrets name on each cluster; the test stands in for it.
	eso, stopESO := context.WithCancel(context.Background())
	t.Cleanup(stopESO)
	go standInForExternalSecrets(eso, hub.k, nil)
	hub.syncApplications(t)
	route, err := hub.get(t, schema.GroupVersionKind{Group: "route.openshift.io", Version: "v1", Kind: "Route"}, "trustee-operator-system", "kbs")
	must(t, err)
	if host, _, _ := unstructured.NestedString(route.Object, "spec", "host"); host != "kbs-trustee-operator-system."+hubDomain {
		t.Errorf("hub KBS Route host %q", host)
	}
	// Nothing of the workloads runs on the trusted hub: no such Application, no peer-pods-cm.
	for _, o := range []struct {
		gvk      schema.GroupVersionKind
		ns, name string
	}{
		{schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}, hub.argoNS, "sandboxed-containers"},
		{schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-sandboxed-containers-operator", "peer-pods-cm"},
	} {
		if _, err := hub.get(t, o.gvk, o.ns, o.name); !apierrors.IsNotFound(err) {
			t.Errorf("%s %s/%s on the trusted hub: %v", o.gvk.Kind, o.ns, o.name, err)
		}
	}

	spoke := startArgoCluster(t, b, helm, a, clusterSpec{
		group: "spoke", hubDomain: hubDomain, localDomain: spokeDomain, trustedHub: true,
		crdFiles: append(esoCRDFiles(t),
			filepath.Join(refCRDs, "kataconfiguration.openshift.io_kataconfigs.yaml"),
			filepath.Join(refCRDs, "openshift", "config.openshift.io_ingresses.yaml"),
			credentialsRequestCRD,
		),
		crdDocs:    []string{routeCRD},
		namespaces: []string{"openshift-sandboxed-containers-operator", "hello-openshift", "openshift-cloud-controller-manager", "trustee-operator-system", "openshift-cloud-credential-operator"},
		objects: []string{
			fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cloud-conf, namespace: openshift-cloud-controller-manager}\ndata:\n  cloud.conf: '%s'\n", spokeCloud),
			// The spoke's own domain and a certificate in its own Trustee namespace: neither
			// may reach the initdata.
			"apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata: {name: cluster}\nspec: {domain: " + spokeDomain + "}\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: kbs-https-certificate, namespace: trustee-operator-system}\nstringData: {tls.crt: SPOKE-DECOY}\n",
		},
	})
	go standInForExternalSecrets(eso, spoke.k, nil)
	propagatePolicy(t, hub, spoke, map[string]string{"clusterGroup": "spoke"})
	spoke.syncApplications(t)
	spoke.checkEgress(t, "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/spoke-net-rg/providers/Microsoft.Network/virtualNetworks/spoke-vnet/subnets/spoke-worker-subnet", "swedencentral")
	if cmd, _ := hub.egress.last(); cmd != nil {
		t.Errorf("the trusted hub ran the egress hook: %q", cmd)
	}

	cm, err := spoke.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-sandboxed-containers-operator", "peer-pods-cm")
	must(t, err)
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if data["AZURE_REGION"] != "swedencentral" || data["AZURE_RESOURCE_GROUP"] != "spoke-rg" {
		t.Errorf("the spoke's peer-pods-cm is not filled from the spoke's cloud-conf: %s %s", data["AZURE_REGION"], data["AZURE_RESOURCE_GROUP"])
	}
	doc := string(decodeInitdata(t, data["INITDATA"]))
	if err := contains(doc, `url = \"https://kbs-trustee-operator-system.`+hubDomain+`\"`, "XkRqj1eYuYnSwJmBX5nJGsHiDEk/ryQI"); err != nil {
		t.Error(err)
	}
	if strings.Contains(doc, spokeDomain) || strings.Contains(doc, "SPOKE-DECOY") {
		t.Errorf("the spoke's initdata uses the spoke's own domain or certificate:\n%s", doc)
	}
	dep, err := spoke.get(t, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "hello-openshift", "secure")
	must(t, err)
	enc, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data")
	if err := contains(string(decodeInitdata(t, enc)), "kbs-trustee-operator-system."+hubDomain); err != nil {
		t.Errorf("the spoke's secure Deployment: %v", err)
	}
	// The hub's KBS affirms what the spoke's pods present: its live RVPS carries the PCR8 of the
	// spoke pod's initdata, hashed here independently, though nobody copied it there.
	sum := sha256.Sum256(decodeInitdata(t, enc))
	pcr := sha256.Sum256(append(make([]byte, 32), sum[:]...))
	rvps, err := hub.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "trustee-operator-system", "rvps-reference-values")
	must(t, err)
	values, err := referenceValues(rvps)
	must(t, err)
	if !slices.Contains(values["tdx_pcr08"], hex.EncodeToString(pcr[:])) || !slices.Contains(values["snp_pcr03"], measuredPCR) {
		t.Errorf("the hub's rvps-reference-values lacks the spoke pod's PCR8 %x or the pod VM measurements:\n%v", pcr, values)
	}
	for _, c := range []*argoCluster{hub, spoke} {
		out, err := c.pg("status")
		if err != nil {
			t.Fatalf("%s status: %v\n%s", c.spec.group, err, out)
		}
		t.Logf("pattern-gen status --cluster-group %s:\n%s", c.spec.group, out)
	}
}

// hubTemplate is the one ACM hub template kbs-publish uses.
var hubTemplate = regexp.MustCompile(`^\{\{hub fromSecret "([^"]+)" "([^"]+)" "([^"]+)" hub\}\}$`)

// propagatePolicy stands in for ACM, which cannot run here: for a managed cluster with the
// given labels it checks that the hub's trusted-hub-kbs Placement selects it, resolves the
// policy's hub template against the hub (fromSecret gives the base64 data of a hub Secret in the
// policy's namespace) and enforces the resulting object on the spoke, as ACM's propagator and
// config-policy controller do.
func propagatePolicy(t *testing.T, hub, spoke *argoCluster, labels map[string]string) {
	t.Helper()
	const ns = "trustee-operator-system"
	placement, err := hub.get(t, schema.GroupVersionKind{Group: "cluster.open-cluster-management.io", Version: "v1beta1", Kind: "Placement"}, ns, "trusted-hub-kbs")
	must(t, err)
	preds, _, _ := unstructured.NestedSlice(placement.Object, "spec", "predicates")
	selected := false
	for _, p := range preds {
		match, _, _ := unstructured.NestedStringMap(p.(map[string]any), "requiredClusterSelector", "labelSelector", "matchLabels")
		ok := len(match) > 0
		for k, v := range match {
			ok = ok && labels[k] == v
		}
		selected = selected || ok
	}
	if !selected {
		t.Fatalf("the Placement does not select a cluster labelled %v: %v", labels, preds)
	}
	policy, err := hub.get(t, schema.GroupVersionKind{Group: "policy.open-cluster-management.io", Version: "v1", Kind: "Policy"}, ns, "trusted-hub-kbs")
	must(t, err)
	templates, _, _ := unstructured.NestedSlice(policy.Object, "spec", "policy-templates")
	if len(templates) != 1 {
		t.Fatalf("%d policy templates", len(templates))
	}
	objTemplates, _, _ := unstructured.NestedSlice(templates[0].(map[string]any), "objectDefinition", "spec", "object-templates")
	for _, ot := range objTemplates {
		obj, _, _ := unstructured.NestedMap(ot.(map[string]any), "objectDefinition")
		data, _, _ := unstructured.NestedMap(obj, "data")
		for k, v := range data {
			s, _ := v.(string)
			m := hubTemplate.FindStringSubmatch(s)
			if m == nil {
				if strings.Contains(s, "{{") {
					t.Fatalf("data %s: a template the stand-in does not know: %s", k, s)
				}
				continue
			}
			if m[1] != ns {
				t.Fatalf("data %s: a hub template may read only the policy's namespace %s, not %s", k, ns, m[1])
			}
			sec, err := hub.get(t, schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, m[1], m[2])
			must(t, err)
			val, _, _ := unstructured.NestedString(sec.Object, "data", m[3])
			data[k] = val
		}
		must(t, unstructured.SetNestedMap(obj, data, "data"))
		out, err := json.Marshal(obj)
		must(t, err)
		spoke.k.create(t, string(out))
		t.Logf("ACM stand-in: %s %s/%s enforced on the spoke", obj["kind"], ns, "trusted-hub-kbs")
	}
}

// The plugin under the real argocd-cmp-server, through the repo server, for the spoke's
// sandboxed-containers application of a split fork: with no KBS address it refuses, naming
// what the hub publishes; given the hub's domain, the initdata names the hub's KBS.
func TestRepoServerGenerateManifestOnASpoke(t *testing.T) {
	b := needBinaries(t)
	a := startArgo(t, b, splitConfig)
	env, params := goodInputs()
	var spoke v1alpha1.ApplicationSourcePluginParameters
	for _, p := range params {
		if p.Name != "cluster-domain" {
			spoke = append(spoke, p)
		}
	}
	spoke = append(spoke, v1alpha1.ApplicationSourcePluginParameter{Name: "cluster-group", String_: str("spoke")})
	env = append(env, &v1alpha1.EnvEntry{Name: "AZURE_NSG_ID", Value: nsgID}) // the split fork pins none
	client := repoClient(t, a)
	_, err := client.GenerateManifest(context.Background(), request(a, env, spoke))
	if err == nil || !strings.Contains(err.Error(), "let the plugin read Secret openshift-sandboxed-containers-operator/trusted-hub-kbs on this spoke") {
		t.Fatalf("without a KBS address: %v", err)
	}
	// Given the hub's domain, the certificate must still come from the hub (trustee.https): this
	// sidecar reads no cluster, so the sync fails, naming the Secret (TestArgoCDSyncsSplitTopology
	// has the hub publish it).
	spoke = append(spoke, v1alpha1.ApplicationSourcePluginParameter{Name: "cluster-domain", String_: str(hubDomain)})
	_, err = client.GenerateManifest(context.Background(), request(a, env, spoke))
	if err == nil || !strings.Contains(err.Error(), "no KBS certificate in Secret openshift-sandboxed-containers-operator/trusted-hub-kbs, from the trusted hub, and trustee.https is true") {
		t.Errorf("without the hub's certificate: %v", err)
	}
	// Asked for in the hub's group, the same path is not an application there.
	_, err = client.GenerateManifest(context.Background(), request(a, env, params))
	if err == nil || !strings.Contains(err.Error(), "charts/all/sandboxed-containers is not the path of an application in values-trusted-hub.yaml") {
		t.Errorf("got %v", err)
	}
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
}
