package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cli/cmpplugin"
	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/kubeapi"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

// repoServer is the identity the repo server (and so cmp-plugin) has on a pattern cluster.
const repoServer = "system:serviceaccount:coco-pattern-hub:default"

const cloudConf = `{"cloud":"AzurePublicCloud","tenantId":"22222222-0000-0000-0000-000000000000","aadClientId":"x","aadClientSecret":"TOP-SECRET-VALUE",
"subscriptionId":"11111111-2222-3333-4444-555555555555","resourceGroup":"c1-abcde-rg","location":"westeurope","vnetName":"c1-abcde-vnet",
"vnetResourceGroup":"c1-network-rg","subnetName":"c1-abcde-worker-subnet","securityGroupName":"c1-abcde-nsg"}`

// Real certificates: cmp-plugin parses the KBS certificate and refuses anything else.
var (
	kbsCert = testcert.SelfSigned("kbs-trustee-operator-system.apps.c1.example.com", 1)
	hubCert = testcert.SelfSigned("kbs-trustee-operator-system.apps.hub.example.com", 2)
)

// certLine is a line of a certificate's base64, to find it in an initdata document.
func certLine(cert string) string { return strings.Split(cert, "\n")[1] }

// ingressCRD is the upstream CRD of ingresses.config.openshift.io, from the shared reference.
const ingressCRD = "../../../shared/reference/crds/openshift/config.openshift.io_ingresses.yaml"

func apply(t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, obj map[string]any) {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	var err error
	for i := 0; i < 50; i++ { // a new CRD takes a moment to be served
		var m *schema.GroupVersionResource
		if mapping, merr := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); merr == nil {
			m = &mapping.Resource
			var ri dynamic.ResourceInterface = dyn.Resource(*m)
			if ns := u.GetNamespace(); ns != "" {
				ri = dyn.Resource(*m).Namespace(ns)
			}
			if _, err = ri.Create(context.Background(), u, metav1.CreateOptions{}); err == nil || apierrors.IsAlreadyExists(err) {
				return
			}
		} else {
			err = merr
			mapper.Reset()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("create %s %s: %v", gvk, u.GetName(), err)
}

// applyFile applies one object from a file of the shared reference folder, skipping the test
// when the folder is absent.
func applyFile(t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s is absent: skipping (it comes from the shared reference folder)", path)
	}
	var obj map[string]any
	must(t, yaml.Unmarshal(data, &obj))
	apply(t, dyn, mapper, obj)
}

// seed creates what an Azure OpenShift cluster with the pattern has: cloud-conf, a peer-pods-cm
// with the operator's image ID, the KBS certificate, the apps domain, and the fork's RBAC chart.
func seed(t *testing.T, srv *kubeapi.Server) {
	t.Helper()
	cfg := srv.Config(kubeapi.Admin.Name)
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	ctx := context.Background()
	for _, ns := range []string{cluster.CloudConfNamespace, cluster.OSCNamespace, cluster.TrusteeNamespace, "coco-pattern-hub"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, create(cs.CoreV1().ConfigMaps(cluster.CloudConfNamespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.CloudConfName}, Data: map[string]string{"cloud.conf": cloudConf}}, metav1.CreateOptions{})))
	must(t, create(cs.CoreV1().ConfigMaps(cluster.OSCNamespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.PeerPodsConfigMap}, Data: map[string]string{"AZURE_IMAGE_ID": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/c1-abcde-rg/providers/Microsoft.Compute/galleries/PodVMGallery_c1/images/podvm-image/versions/0.0.1"}}, metav1.CreateOptions{})))
	must(t, create(cs.CoreV1().Secrets(cluster.TrusteeNamespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: cluster.KBSCertSecret}, Data: map[string][]byte{"tls.crt": []byte(kbsCert)}}, metav1.CreateOptions{})))
	// Another Secret in the same namespace, which the plugin must not be able to read.
	must(t, create(cs.CoreV1().Secrets(cluster.TrusteeNamespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "kbs-https-key"}, Data: map[string][]byte{"tls.key": []byte("PRIVATE")}}, metav1.CreateOptions{})))

	applyFile(t, dyn, mapper, ingressCRD)
	apply(t, dyn, mapper, map[string]any{"apiVersion": "config.openshift.io/v1", "kind": "Ingress",
		"metadata": map[string]any{"name": "cluster"}, "spec": map[string]any{"domain": "apps.c1.example.com"}})

	applyForkRBAC(t, dyn, mapper, "", "")
}

// applyForkRBAC applies the cmp-plugin-rbac application of clusterGroup group ("" for the main
// one) of the fork that config ("" for the embedded default) scaffolds, rendered by the product's
// own renderer.
func applyForkRBAC(t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, config, group string) {
	t.Helper()
	_, tree, err := project.Scaffold(context.Background(), project.ScaffoldOptions{Config: config, Origin: forkrepo.URL})
	must(t, err)
	p, err := render.Select(tree, group)
	must(t, err)
	plans, err := p.Plan(tree, p.OfflineFacts(p.Platform))
	must(t, err)
	for _, p := range plans {
		if p.Path != render.RBACChart {
			continue
		}
		objs, err := render.RenderApp(tree, p)
		must(t, err)
		for _, o := range objs {
			m, err := o.Decode()
			must(t, err)
			apply(t, dyn, mapper, m)
		}
		return
	}
	t.Fatal("the fork has no cmp-plugin-rbac application")
}

func create[T any](_ T, err error) error { return err }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDiscoveryWithTheForksRBAC(t *testing.T) {
	srv := kubeapi.Start(t, kubeapi.User{Name: repoServer}, kubeapi.User{Name: "nobody"})
	seed(t, srv)

	t.Run("reads every fact with just the granted access", func(t *testing.T) {
		c, warnings := cluster.Read(context.Background(), srv.Config(repoServer), peerpods.Scope{PeerPods: true})
		if len(warnings) > 0 {
			t.Errorf("warnings: %v", warnings)
		}
		if c.CloudConf == nil || c.CloudConf.Location != "westeurope" || c.CloudConf.NSGID() == "" {
			t.Errorf("cloud-conf: %+v", c.CloudConf)
		}
		if !strings.HasSuffix(c.LiveImageID, "/versions/0.0.1") || c.KBSCert != kbsCert || c.AppsDomain != "apps.c1.example.com" {
			t.Errorf("facts: image %q cert %q domain %q", c.LiveImageID, c.KBSCert, c.AppsDomain)
		}
		// The grants name their objects: the private key beside the certificate stays closed.
		_, err := kubernetes.NewForConfigOrDie(srv.Config(repoServer)).CoreV1().Secrets(cluster.TrusteeNamespace).Get(context.Background(), "kbs-https-key", metav1.GetOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("the repo server can read kbs-https-key: %v", err)
		}
	})

	t.Run("without access it warns and goes on", func(t *testing.T) {
		c, warnings := cluster.Read(context.Background(), srv.Config("nobody"), peerpods.Scope{PeerPods: true})
		if len(warnings) != 4 || c.CloudConf != nil || c.AppsDomain != "" {
			t.Errorf("got %+v with warnings %v", c, warnings)
		}
		for _, w := range warnings {
			if !strings.Contains(w, "Forbidden") {
				t.Errorf("warning does not say why: %s", w)
			}
		}
	})

	t.Run("cmp-plugin generate resolves from the cluster", func(t *testing.T) {
		code, out, errOut := runPlugin(t, srv, repoServer, "", `[{"name":"overlay","string":"overlays/azure"}]`)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, errOut)
		}
		if strings.Contains(out+errOut, "TOP-SECRET-VALUE") {
			t.Fatal("the cloud-conf client secret leaked")
		}
		objs := strings.Split(out, "\n---\n")
		var cm struct {
			Metadata struct{ Annotations map[string]string }
			Data     map[string]string
		}
		for _, o := range objs {
			if strings.Contains(o, "name: peer-pods-cm") {
				must(t, yaml.Unmarshal([]byte(o), &cm))
			}
		}
		want := map[string]string{
			"AZURE_REGION":         "westeurope",
			"AZURE_RESOURCE_GROUP": "c1-abcde-rg",
			"AZURE_SUBNET_ID":      "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/c1-network-rg/providers/Microsoft.Network/virtualNetworks/c1-abcde-vnet/subnets/c1-abcde-worker-subnet",
			"AZURE_NSG_ID":         "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/c1-abcde-rg/providers/Microsoft.Network/networkSecurityGroups/c1-abcde-nsg",
			"AZURE_IMAGE_ID":       "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/c1-abcde-rg/providers/Microsoft.Compute/galleries/PodVMGallery_c1/images/podvm-image/versions/0.0.1",
		}
		for k, v := range want {
			if cm.Data[k] != v {
				t.Errorf("%s = %q, want %q", k, cm.Data[k], v)
			}
		}
		var sources map[string]string
		must(t, json.Unmarshal([]byte(cm.Metadata.Annotations[generate.AnnotationSources]), &sources))
		if sources["AZURE_REGION"] != "cluster cloud-conf location" {
			t.Errorf("sources: %v", sources)
		}
		doc, err := peerpods.Decode(cm.Data["INITDATA"])
		must(t, err)
		for _, want := range []string{`url = \"https://kbs-trustee-operator-system.apps.c1.example.com\"`, certLine(kbsCert)} {
			if !strings.Contains(string(doc), want) {
				t.Errorf("initdata lacks %q:\n%s", want, doc)
			}
		}
		if !strings.Contains(errOut, "peer-pods-cm AZURE_SUBNET_ID from cluster cloud-conf") {
			t.Errorf("stderr does not log the provenance:\n%s", errOut)
		}
	})
}

// TestNamespaceWriterCannotLeakAKey: whoever can write kbs-https-certificate in the Trustee
// namespace puts the KBS's private key beside the certificate in tls.crt (by mistake or to
// have it copied into every peer pod's INITDATA). cmp-plugin, reading it through the API server
// with the fork's RBAC, refuses the sync, names the Secret and quotes nothing of it.
func TestNamespaceWriterCannotLeakAKey(t *testing.T) {
	srv := kubeapi.Start(t, kubeapi.User{Name: repoServer})
	seed(t, srv)
	keyPEM := testcert.KeyPEM(1) // the key of kbsCert
	cs := kubernetes.NewForConfigOrDie(srv.Config(kubeapi.Admin.Name))
	sec, err := cs.CoreV1().Secrets(cluster.TrusteeNamespace).Get(context.Background(), cluster.KBSCertSecret, metav1.GetOptions{})
	must(t, err)
	sec.Data["tls.crt"] = []byte(kbsCert + keyPEM)
	must(t, create(cs.CoreV1().Secrets(cluster.TrusteeNamespace).Update(context.Background(), sec, metav1.UpdateOptions{})))

	code, out, msg := runPlugin(t, srv, repoServer, "", `[{"name":"overlay","string":"overlays/azure"}]`)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, msg)
	}
	if out != "" {
		t.Errorf("stdout is not empty:\n%s", out)
	}
	if !strings.Contains(msg, "Secret trustee-operator-system/kbs-https-certificate key tls.crt") || !strings.Contains(msg, "private key") {
		t.Errorf("the error does not name the Secret and what is wrong:\n%s", msg)
	}
	for _, line := range strings.Split(keyPEM, "\n")[:2] {
		if strings.Contains(msg, line) {
			t.Errorf("stderr quotes the key (%q):\n%s", line, msg)
		}
	}
}

// spokeRepoServer is the repo server's identity on a spoke of the split case.
const spokeRepoServer = "system:serviceaccount:coco-pattern-spoke:default"

// On a spoke, with the RBAC the split fork gives the spoke: the KBS facts come from the Secret
// the trusted hub publishes; the spoke's own ingress domain and Trustee namespace stay closed.
func TestSpokeDiscoveryWithTheForksRBAC(t *testing.T) {
	srv := kubeapi.Start(t, kubeapi.User{Name: spokeRepoServer})
	cfg := srv.Config(kubeapi.Admin.Name)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	for _, ns := range []string{cluster.CloudConfNamespace, cluster.OSCNamespace, cluster.TrusteeNamespace, "coco-pattern-spoke"} {
		must(t, create(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})))
	}
	must(t, create(cs.CoreV1().ConfigMaps(cluster.CloudConfNamespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.CloudConfName}, Data: map[string]string{"cloud.conf": cloudConf}}, metav1.CreateOptions{})))
	// What the hub's kbs-publish policy writes on the spoke.
	must(t, create(cs.CoreV1().Secrets(cluster.OSCNamespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: cluster.TrustedHubSecret},
		Data: map[string][]byte{"appsDomain": []byte("apps.hub.example.com"), "tls.crt": []byte(hubCert)}}, metav1.CreateOptions{})))
	// A certificate in the spoke's own Trustee namespace, which must not be read.
	must(t, create(cs.CoreV1().Secrets(cluster.TrusteeNamespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: cluster.KBSCertSecret}, Data: map[string][]byte{"tls.crt": []byte(kbsCert)}}, metav1.CreateOptions{})))
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	applyForkRBAC(t, dyn, mapper, "../../testdata/cases/split/pattern-gen.yaml", "spoke")

	c, warnings := cluster.Read(ctx, srv.Config(spokeRepoServer), peerpods.Scope{TrustedHub: true, PeerPods: true})
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if c.AppsDomain != "apps.hub.example.com" || c.KBSCert != hubCert || c.CloudConf == nil || c.CloudConf.ResourceGroup != "c1-abcde-rg" {
		t.Errorf("facts: domain %q cert %q cloud-conf %+v", c.AppsDomain, c.KBSCert, c.CloudConf)
	}
	// The spoke's grants do not reach what a converged cluster's plugin reads.
	_, err := kubernetes.NewForConfigOrDie(srv.Config(spokeRepoServer)).CoreV1().Secrets(cluster.TrusteeNamespace).Get(ctx, cluster.KBSCertSecret, metav1.GetOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("the spoke's repo server can read its own kbs-https-certificate: %v", err)
	}

	// cmp-plugin generate on the spoke, as Argo CD runs it for the split fork's application.
	code, out, errOut := runPlugin(t, srv, spokeRepoServer, "../../testdata/cases/split/pattern-gen.yaml", `[{"name":"overlay","string":"overlays/azure"},{"name":"cluster-group","string":"spoke"}]`)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	var cm struct{ Data map[string]string }
	for _, o := range strings.Split(out, "\n---\n") {
		if strings.Contains(o, "name: peer-pods-cm") {
			must(t, yaml.Unmarshal([]byte(o), &cm))
		}
	}
	doc, err := peerpods.Decode(cm.Data["INITDATA"])
	must(t, err)
	for _, want := range []string{`url = \"https://kbs-trustee-operator-system.apps.hub.example.com\"`, certLine(hubCert)} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("initdata lacks %q:\n%s", want, doc)
		}
	}
	if !strings.Contains(errOut, "domain from cluster Secret openshift-sandboxed-containers-operator/trusted-hub-kbs key appsDomain (from the trusted hub)") {
		t.Errorf("stderr does not log where the KBS domain came from:\n%s", errOut)
	}
}

// runPlugin runs cmp-plugin generate as Argo CD runs it for a fork made from config (""
// for the default), in the sandboxed-containers application's folder, with the repo server's
// kubeconfig for user and the given plugin parameters (JSON).
func runPlugin(t *testing.T, srv *kubeapi.Server, user, config, params string) (code int, out, errOut string) {
	t.Helper()
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: config, Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	must(t, os.Chdir(filepath.Join(fork, render.SandboxChart)))
	defer os.Chdir(wd)
	env := map[string]string{
		"KUBECONFIG":             srv.Kubeconfig(t, user),
		"ARGOCD_APP_NAME":        "sandboxed-containers",
		"ARGOCD_APP_SOURCE_PATH": render.SandboxChart,
		"ARGOCD_APP_PARAMETERS":  params,
	}
	var o, e bytes.Buffer
	code = cmpplugin.Main([]string{"generate"}, base.IOStreams{Out: &o, ErrOut: &e}, func(k string) string { return env[k] })
	return code, o.String(), e.String()
}

// machineSetCRD is the MachineSet CRD OpenShift installs (openshift/machine-api-operator),
// whose providerSpec.value is left open, as on a cluster.
const machineSetCRD = "../../e2e/testdata/machine.openshift.io_machinesets.yaml"

// infrastructureCRD is the upstream CRD of infrastructures.config.openshift.io.
const infrastructureCRD = "../../../shared/reference/crds/openshift/config.openshift.io_infrastructures.yaml"

// On AWS the plugin reads, with just the AWS fork's RBAC, the region of the Infrastructure and the
// subnet and security groups of the first worker MachineSet that names them by ID; an
// installer-made MachineSet (tag filters) gives nothing but a warning naming the filter, and
// without access it warns and goes on.
func TestAWSDiscoveryWithTheForksRBAC(t *testing.T) {
	srv := kubeapi.Start(t, kubeapi.User{Name: "system:serviceaccount:coco-aws-hub:default"}, kubeapi.User{Name: "nobody"})
	cfg := srv.Config(kubeapi.Admin.Name)
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	ctx := context.Background()
	for _, ns := range []string{cluster.MachineAPINamespace, cluster.OSCNamespace, cluster.TrusteeNamespace, "coco-aws-hub"} {
		must(t, create(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})))
	}
	must(t, create(cs.CoreV1().ConfigMaps(cluster.OSCNamespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.PeerPodsConfigMap}, Data: map[string]string{"PODVM_AMI_ID": "ami-0123456789abcdef0"}}, metav1.CreateOptions{})))
	applyFile(t, dyn, mapper, infrastructureCRD)
	applyFile(t, dyn, mapper, machineSetCRD)
	apply(t, dyn, mapper, map[string]any{"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": map[string]any{"name": "cluster"}, "spec": map[string]any{}})
	infra, err := dyn.Resource(schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "infrastructures"}).Get(ctx, "cluster", metav1.GetOptions{})
	must(t, err)
	must(t, unstructured.SetNestedMap(infra.Object, map[string]any{"infrastructureName": "c1-abcde", "platform": "AWS",
		"platformStatus": map[string]any{"type": "AWS", "aws": map[string]any{"region": "us-east-2"}}}, "status"))
	_, err = dyn.Resource(schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "infrastructures"}).UpdateStatus(ctx, infra, metav1.UpdateOptions{})
	must(t, err)
	machineSet := func(name, role string, value map[string]any) map[string]any {
		return map[string]any{"apiVersion": "machine.openshift.io/v1beta1", "kind": "MachineSet",
			"metadata": map[string]any{"name": name, "namespace": cluster.MachineAPINamespace},
			"spec": map[string]any{
				"selector": map[string]any{"matchLabels": map[string]any{"machine.openshift.io/cluster-api-machineset": name}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"machine.openshift.io/cluster-api-machineset": name, "machine.openshift.io/cluster-api-machine-role": role}},
					"spec":     map[string]any{"providerSpec": map[string]any{"value": value}},
				},
			}}
	}
	// As the installer writes them: selected by tag filter (first by name, so it is looked at first).
	apply(t, dyn, mapper, machineSet("c1-abcde-worker-us-east-2a", "worker", map[string]any{"apiVersion": "machine.openshift.io/v1beta1", "kind": "AWSMachineProviderConfig",
		"subnet":         map[string]any{"filters": []any{map[string]any{"name": "tag:Name", "values": []any{"c1-abcde-subnet-private-us-east-2a"}}}},
		"securityGroups": []any{map[string]any{"filters": []any{map[string]any{"name": "tag:Name", "values": []any{"c1-abcde-node"}}}}}}))
	// An infra MachineSet naming IDs: not a worker, never read.
	apply(t, dyn, mapper, machineSet("c1-abcde-infra-us-east-2b", "infra", map[string]any{"subnet": map[string]any{"id": "subnet-99999999"}, "securityGroups": []any{map[string]any{"id": "sg-99999999"}}}))
	// A worker MachineSet in a subnet the user brought, by ID.
	apply(t, dyn, mapper, machineSet("c1-abcde-worker-us-east-2c", "worker", map[string]any{
		"subnet":         map[string]any{"id": "subnet-0123456789abcdef0"},
		"securityGroups": []any{map[string]any{"id": "sg-0123456789abcdef0"}, map[string]any{"id": "sg-89abcdef"}}}))
	applyForkRBAC(t, dyn, mapper, "../../testdata/cases/aws/pattern-gen.yaml", "")

	scope := peerpods.Scope{PeerPods: true, Platform: "AWS"}
	c, warnings := cluster.Read(ctx, srv.Config("system:serviceaccount:coco-aws-hub:default"), scope)
	if c.AWS != (peerpods.AWSFacts{Region: "us-east-2", PlatformType: "AWS", SubnetID: "subnet-0123456789abcdef0", SecurityGroupIDs: "sg-0123456789abcdef0,sg-89abcdef"}) || c.LiveImageID != "ami-0123456789abcdef0" || c.CloudConf != nil {
		t.Errorf("facts: %+v", c)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	// A cluster whose workers all select by filter: no IDs, and a note (not a warning, which
	// would stop the refresher) that names the filter.
	must(t, dyn.Resource(schema.GroupVersionResource{Group: "machine.openshift.io", Version: "v1beta1", Resource: "machinesets"}).Namespace(cluster.MachineAPINamespace).Delete(ctx, "c1-abcde-worker-us-east-2c", metav1.DeleteOptions{}))
	c, warnings = cluster.Read(ctx, srv.Config("system:serviceaccount:coco-aws-hub:default"), scope)
	if len(warnings) != 0 || c.AWS.SubnetID != "" || !strings.Contains(c.AWS.NetworkNote, `worker MachineSet openshift-machine-api/c1-abcde-worker-us-east-2a selects its subnet by filter "[map[name:tag:Name values:[c1-abcde-subnet-private-us-east-2a]]]"`) {
		t.Errorf("filters only: %+v, warnings %v", c.AWS, warnings)
	}
	// The trusted hub of a split topology runs no peer pods and is granted none of this: it
	// reads none of it, and warns of nothing.
	c, warnings = cluster.Read(ctx, srv.Config("system:serviceaccount:coco-aws-hub:default"), peerpods.Scope{Platform: "AWS"})
	if c.AWS != (peerpods.AWSFacts{}) || len(warnings) != 0 {
		t.Errorf("trusted hub: %+v, warnings %v", c.AWS, warnings)
	}
	// The grant is the MachineSets' list and the one Infrastructure, nothing else there.
	if _, err := kubernetes.NewForConfigOrDie(srv.Config("system:serviceaccount:coco-aws-hub:default")).CoreV1().Secrets(cluster.MachineAPINamespace).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the repo server can list Secrets of %s: %v", cluster.MachineAPINamespace, err)
	}

	c, warnings = cluster.Read(ctx, srv.Config("nobody"), scope)
	if c.AWS != (peerpods.AWSFacts{}) || len(warnings) != 5 {
		t.Errorf("without access: %+v, warnings %v", c, warnings)
	}
}
