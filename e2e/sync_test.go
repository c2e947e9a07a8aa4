package e2e

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// The pattern under test: the default config as a user gets it (Vault and External Secrets,
// trustee.https), naming its repository; the plugin reads the cluster for everything else.
const syncConfig = `apiVersion: pattern-gen.io/v1alpha1
kind: Pattern
git: {repoURL: https://example.com/org/coco.git}
`

const (
	appsDomain = "apps.sync.example.com"
	cloudConf  = `{"subscriptionId":"11111111-2222-3333-4444-555555555555","resourceGroup":"sync-rg","location":"northeurope","vnetName":"sync-vnet","vnetResourceGroup":"sync-net-rg","subnetName":"sync-worker-subnet","securityGroupName":"sync-nsg"}`
)

// refCRDs holds the upstream CRDs of the shared reference folder.
const refCRDs = "../../shared/reference/crds"

// credentialsRequestCRD is the cloud credential operator's CRD, which every OpenShift cluster has.
const credentialsRequestCRD = "testdata/cloudcredential.openshift.io_credentialsrequests.yaml"

// routeCRD registers route.openshift.io/v1 Route, which OpenShift serves natively and no CRD
// in openshift/api describes; the schema is left open on purpose.
var routeCRD = openCRD("route.openshift.io", "v1", "Route", "routes")

// openCRD is a namespaced CustomResourceDefinition with an open schema, for kinds that have no
// CRD this test can copy.
func openCRD(group, version, kind, plural string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %[4]s.%[1]s}
spec:
  group: %[1]s
  names: {kind: %[3]s, listKind: %[3]sList, plural: %[4]s, singular: %[5]s}
  scope: Namespaced
  versions:
  - name: %[2]s
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`, group, version, kind, plural, strings.ToLower(kind))
}

type kube struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newKube(t *testing.T, kubeconfig string) *kube {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	must(t, err)
	return &kube{dyn: dynamic.NewForConfigOrDie(cfg), mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))}
}

func (k *kube) resource(t *testing.T, gvk schema.GroupVersionKind, ns string) dynamic.ResourceInterface {
	t.Helper()
	var err error
	for i := 0; i < 100; i++ { // a new CRD takes a moment to be served
		m, merr := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if merr == nil {
			if m.Scope.Name() == "namespace" {
				return k.dyn.Resource(m.Resource).Namespace(ns)
			}
			return k.dyn.Resource(m.Resource)
		}
		err = merr
		k.mapper.Reset()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no resource for %s: %v", gvk, err)
	return nil
}

func (k *kube) create(t *testing.T, doc string) {
	t.Helper()
	var obj map[string]any
	must(t, yaml.Unmarshal([]byte(doc), &obj))
	u := &unstructured.Unstructured{Object: obj}
	ri := k.resource(t, u.GroupVersionKind(), u.GetNamespace())
	created, err := ri.Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	// A kind with a status subresource drops the status on create: write it as its controller
	// would (the Infrastructure's, which the installer's operators fill on a cluster). A CRD's
	// status is the API server's own.
	if status, ok := obj["status"]; ok && err == nil && u.GetKind() != "CustomResourceDefinition" {
		created.Object["status"] = status
		if _, err := ri.UpdateStatus(context.Background(), created, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("status of %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

func (k *kube) createFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent: skipping (it comes from the shared reference folder)", path)
	}
	must(t, err)
	k.create(t, string(data))
}

// clusterSpec is one cluster of a pattern under test and the clusterGroup it runs.
type clusterSpec struct {
	group                  string   // the clusterGroup (values-<group>.yaml)
	hubDomain, localDomain string   // global.hubClusterDomain and the cluster's own apps domain
	crdFiles               []string // CRD files installed before Argo CD starts
	crdDocs                []string // CRDs of the test's own (kinds with no CRD to copy)
	namespaces             []string // namespaces the cluster already has
	objects                []string // objects the cluster already has (cloud-conf ...)
	trustedHub             bool     // a spoke: the plugin and refresher read what the hub publishes
	noPeerPods             bool     // a trusted hub or bare metal: no peer-pods-cm to read
	platform               string   // global.clusterPlatform, as the framework passes it; "" is Azure
}

func (s clusterSpec) clusterPlatform() string { return cmp.Or(s.platform, "Azure") }

// argoCluster is a kube-apiserver with Argo CD's application controller, repo server and our
// CMP server running the fork's plugin.yaml, syncing one clusterGroup of the fork.
type argoCluster struct {
	spec          clusterSpec
	argoNS, admin string
	k             *kube
	fork, bin     string
	patternGen    string
	egress        *egressRuns // the egress hook Jobs the stand-in completed
}

// startArgoCluster starts the cluster and Argo CD for spec.group of the fork in a. The CMP
// sidecar reads the cluster as the repo server's service account, with only the grants the
// fork's cmp-plugin-rbac application gives it (Argo CD syncs that one too).
func startArgoCluster(t *testing.T, b binaries, helm string, a *argo, spec clusterSpec) *argoCluster {
	t.Helper()
	argoNS := "coco-pattern-" + spec.group
	repoServer := "system:serviceaccount:" + argoNS + ":default"
	refresher := "system:serviceaccount:" + argoNS + ":cmp-plugin-refresher"
	api := startAPIServer(t, repoServer, refresher)
	c := &argoCluster{spec: spec, argoNS: argoNS, admin: api.kubeconfig(t, "admin", argoNS), fork: a.fork, patternGen: b.patternGen}
	k := newKube(t, c.admin)
	c.k = k
	for _, f := range []string{"application-crd.yaml", "appproject-crd.yaml"} {
		k.createFile(t, filepath.Join(refCRDs, "argo-cd-v2.14.21", f))
	}
	for _, f := range spec.crdFiles {
		k.createFile(t, f)
	}
	for _, d := range spec.crdDocs {
		k.create(t, d)
	}
	for _, ns := range append([]string{argoNS}, spec.namespaces...) {
		k.create(t, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", ns))
	}
	for _, o := range spec.objects {
		k.create(t, o)
	}
	// Argo CD's own configuration in its namespace, and the projects the clusterGroup declares.
	// A short reconciliation period: an application whose first render failed (before its RBAC
	// was synced) is rendered again within seconds instead of Argo CD's default 3 minutes.
	k.create(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm, namespace: "+argoNS+", labels: {app.kubernetes.io/part-of: argocd}}\ndata: {timeout.reconciliation: 10s}\n")
	k.create(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: argocd-secret, namespace: "+argoNS+", labels: {app.kubernetes.io/part-of: argocd}}\nstringData: {server.secretkey: e2e-not-a-secret}\n")
	for _, p := range groupValues(t, a.fork, spec.group).ClusterGroup.ArgoProjects {
		k.create(t, "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: "+p+", namespace: "+argoNS+"}\nspec:\n  sourceRepos: ['*']\n  destinations: [{server: '*', namespace: '*', name: '*'}]\n  clusterResourceWhitelist: [{group: '*', kind: '*'}]\n")
	}

	// Each cluster has its own Argo CD processes, folders and plugin socket.
	p := startArgoProcs(t, b, a.fork, filepath.Join(a.work, spec.group), helm, []string{"ARGOCD_FAKE_IN_CLUSTER=true"},
		[]string{"KUBECONFIG=" + api.kubeconfig(t, repoServer, argoNS)})
	start(t, p.logs, "application-controller", append(append([]string{}, p.env...), "KUBECONFIG="+c.admin),
		filepath.Join(p.bin, "argocd-application-controller"), "--repo-server", p.repoServer, "--repo-server-plaintext",
		"--redis", p.redis, "--metrics-port", fmt.Sprint(freePort(t)), "--loglevel", "info", "--status-processors", "2", "--operation-processors", "2")

	// The refresher the fork's cmp-plugin-rbac chart deploys (cmp-plugin refresh), run as a
	// process as its pod would be (no kubelet here): with that Deployment's service account and
	// only its grants, every 2 s instead of the chart's 60 s to keep the test short.
	// Only where the clusterGroup has plugin applications, as cmp-plugin-rbac deploys it.
	for _, app := range groupValues(t, a.fork, spec.group).ClusterGroup.Applications {
		if _, ok := app["plugin"]; !ok {
			continue
		}
		args := []string{"refresh", "--namespace", argoNS, "--every", "2s"}
		if spec.trustedHub {
			args = append(args, "--trusted-hub")
		}
		if spec.noPeerPods {
			args = append(args, "--no-peer-pods")
		}
		if spec.clusterPlatform() != "Azure" && !spec.noPeerPods { // as cmp-plugin-rbac's refresher.yaml
			args = append(args, "--platform="+spec.clusterPlatform())
		}
		start(t, p.logs, "refresher", []string{"KUBECONFIG=" + api.kubeconfig(t, refresher, argoNS), "HOME=" + a.work}, b.cmpPlugin, args...)
		break
	}

	// The OpenShift router is outside this test: stand in for it and admit every Route, which
	// Argo CD's health check for routes waits for.
	ctx, stopRouter := context.WithCancel(context.Background())
	t.Cleanup(stopRouter)
	go admitRoutes(ctx, k)
	c.egress = &egressRuns{}
	go completeEgressJobs(ctx, k, c.egress)
	return c
}

// passthroughCredentials stands in for the cloud credential operator in passthrough mode, the
// default on Azure: for each CredentialsRequest it writes the Secret spec.secretRef names, with
// the keys the operator copies from kube-system/azure-credentials (values made up here; CCO
// pkg/azure/actuator.go syncPassthrough). Only once the request exists, as on a cluster.
func passthroughCredentials(ctx context.Context, k *kube) {
	crs, err := k.dyn.Resource(schema.GroupVersionResource{Group: "cloudcredential.openshift.io", Version: "v1", Resource: "credentialsrequests"}).Namespace("openshift-cloud-credential-operator").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, cr := range crs.Items {
		name, _, _ := unstructured.NestedString(cr.Object, "spec", "secretRef", "name")
		ns, _, _ := unstructured.NestedString(cr.Object, "spec", "secretRef", "namespace")
		secret := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata":   map[string]any{"name": name, "namespace": ns, "annotations": map[string]any{"cloudcredential.openshift.io/credentials-request": cr.GetNamespace() + "/" + cr.GetName()}},
			"stringData": map[string]any{"azure_client_id": "e2e-client", "azure_client_secret": "e2e-not-a-secret", "azure_tenant_id": "e2e-tenant", "azure_subscription_id": "11111111-2222-3333-4444-555555555555", "azure_region": "northeurope", "azure_resourcegroup": "sync-rg", "azure_resource_prefix": "sync"}}}
		_, _ = k.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace(ns).Create(ctx, secret, metav1.CreateOptions{})
	}
}

// credentialsWritten says whether every Secret the Job's container reads a required key of exists.
func credentialsWritten(ctx context.Context, k *kube, job *unstructured.Unstructured) bool {
	containers, _, _ := unstructured.NestedSlice(job.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		env, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
		for _, e := range env {
			ref, ok, _ := unstructured.NestedMap(e.(map[string]any), "valueFrom", "secretKeyRef")
			if !ok || ref["optional"] == true {
				continue
			}
			if _, err := k.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace(job.GetNamespace()).Get(ctx, ref["name"].(string), metav1.GetOptions{}); err != nil {
				return false
			}
		}
	}
	return true
}

// checkEgress asserts that the sync ran the egress hook for the cluster's worker subnet and
// region, as cmp-plugin resolved them from cloud-conf, with the credentials the
// CredentialsRequest (applied with the real CRD) makes the cloud credential operator write.
func (c *argoCluster) checkEgress(t *testing.T, subnetID, location string) {
	t.Helper()
	// The hook runs in wave 20 of the sandboxed-containers sync, after the KataConfig: it may
	// come after the application reports Synced.
	waitWithin(t, "the egress Sync hook Job", 2*time.Minute, func() bool { cmd, _ := c.egress.last(); return cmd != nil })
	cmd, secrets := c.egress.last()
	want := []string{"pattern-gen", "azure", "egress", "--subnet-id", subnetID, "--location", location, "--pattern", "coco-pattern"}
	if strings.Join(cmd, " ") != strings.Join(want, " ") {
		t.Errorf("egress Job command %q, want %q", cmd, want)
	}
	if len(secrets) == 0 || slices.ContainsFunc(secrets, func(s string) bool { return s != "podvm-egress-azure-credentials" }) {
		t.Errorf("egress Job credentials from %v", secrets)
	}
	cr, err := c.get(t, schema.GroupVersionKind{Group: "cloudcredential.openshift.io", Version: "v1", Kind: "CredentialsRequest"}, "openshift-cloud-credential-operator", "coco-pattern-podvm-egress")
	if err != nil {
		t.Fatalf("CredentialsRequest: %v", err)
	}
	if ref, _, _ := unstructured.NestedString(cr.Object, "spec", "secretRef", "name"); ref != "podvm-egress-azure-credentials" {
		t.Errorf("CredentialsRequest secretRef %q", ref)
	}
}

// egressRuns records the commands of the podvm-egress Jobs the stand-in completed.
type egressRuns struct {
	mu       sync.Mutex
	commands [][]string
	secrets  []string // the Secret each Job's Azure credentials come from
}

func (e *egressRuns) last() ([]string, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.commands) == 0 {
		return nil, nil
	}
	return e.commands[len(e.commands)-1], e.secrets
}

// completeEgressJobs stands in for the kubelet and the Job controller running the egress Sync
// hook (`pattern-gen azure egress` against Azure, which cannot run here; its logic is tested
// against the Azure SDK's fake servers in internal/azure): it records each podvm-egress Job's
// command and marks the Job complete as the Job controller does when its pod exits 0
// (SuccessCriteriaMet, then Complete, succeeded 1), so Argo CD's Sync hook can end, but only
// once the credentials Secret exists; it stands in for the cloud credential operator writing
// that Secret, and for the garbage collector when Argo CD deletes a finished run.
func completeEgressJobs(ctx context.Context, k *kube, runs *egressRuns) {
	jobs := k.dyn.Resource(schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}).Namespace("openshift-sandboxed-containers-operator")
	for ctx.Err() == nil {
		passthroughCredentials(ctx, k)
		if j, err := jobs.Get(ctx, "podvm-egress", metav1.GetOptions{}); err == nil && j.GetDeletionTimestamp() != nil {
			// Argo CD deletes the last run before the next (BeforeHookCreation) with foreground
			// propagation; the garbage collector (kube-controller-manager, not run here) would
			// remove the finalizer once the Job's pods are gone, and it never had any.
			j.SetFinalizers(nil)
			_, _ = jobs.Update(ctx, j, metav1.UpdateOptions{})
		} else if err == nil && credentialsWritten(ctx, k, j) {
			// The kubelet starts no container before the Secret its non-optional env names exists.
			if conds, _, _ := unstructured.NestedSlice(j.Object, "status", "conditions"); len(conds) == 0 {
				containers, _, _ := unstructured.NestedSlice(j.Object, "spec", "template", "spec", "containers")
				var cmd, secrets []string
				if len(containers) == 1 {
					c := containers[0].(map[string]any)
					cmd, _, _ = unstructured.NestedStringSlice(c, "command")
					env, _, _ := unstructured.NestedSlice(c, "env")
					for _, e := range env {
						if name, ok, _ := unstructured.NestedString(e.(map[string]any), "valueFrom", "secretKeyRef", "name"); ok {
							secrets = append(secrets, name)
						}
					}
				}
				now := time.Now().UTC().Format(time.RFC3339)
				j.Object["status"] = map[string]any{"startTime": now, "completionTime": now, "succeeded": int64(1), "ready": int64(0),
					"conditions": []any{
						map[string]any{"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
						map[string]any{"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
					}}
				if _, err := jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{}); err == nil {
					runs.mu.Lock()
					runs.commands, runs.secrets = append(runs.commands, cmd), secrets
					runs.mu.Unlock()
				} else {
					fmt.Fprintf(os.Stderr, "e2e: cannot complete the podvm-egress Job: %v\n", err)
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// syncApplications creates the clusterGroup's Applications and waits until all are synced.
func (c *argoCluster) syncApplications(t *testing.T) {
	t.Helper()
	began := time.Now()
	c.createApplications(t)
	c.waitSynced(t, began, "the Applications were created")
}

// createApplications creates the clusterGroup's Applications in the order of their sync-wave
// annotation, each wave once synced (the plugin can read the cluster only after
// cmp-plugin-rbac, wave -1, is applied).
func (c *argoCluster) createApplications(t *testing.T) {
	t.Helper()
	apps := applications(t, c.fork, c.spec, c.argoNS)
	sort.SliceStable(apps, func(i, j int) bool { return wave(apps[i]) < wave(apps[j]) })
	for i, app := range apps {
		out, _ := json.Marshal(app)
		c.k.create(t, string(out))
		if i+1 < len(apps) && wave(apps[i+1]) != wave(app) {
			name := app["metadata"].(map[string]any)["name"].(string)
			waitFor(t, "application "+name, func() bool {
				u, err := c.k.resource(t, schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}, c.argoNS).Get(context.Background(), name, metav1.GetOptions{})
				if err != nil {
					return false
				}
				s, _, _ := unstructured.NestedString(u.Object, "status", "sync", "status")
				return s == "Synced"
			})
		}
	}
}

// waitSynced waits with pattern-gen until every Application is synced, and logs how long that
// took since began (what happened then: since).
func (c *argoCluster) waitSynced(t *testing.T, began time.Time, since string) {
	t.Helper()
	out, err := c.pg("wait", "--for", "synced", "--timeout", "4m")
	t.Logf("%s: pattern-gen wait --for synced (%v after %s):\n%s", c.spec.group, time.Since(began).Round(time.Second), since, out)
	if err != nil {
		status, _ := c.pg("status")
		t.Fatalf("%s: not synced: %v\n%s", c.spec.group, err, status)
	}
}

// pg runs pattern-gen against this cluster's Argo CD, for its clusterGroup.
func (c *argoCluster) pg(args ...string) (string, error) {
	args = append(args, "--kubeconfig", c.admin, "--cluster-group", c.spec.group, c.fork)
	out, err := exec.Command(c.patternGen, args...).CombinedOutput()
	return string(out), err
}

// get reads one live object.
func (c *argoCluster) get(t *testing.T, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	t.Helper()
	return c.k.resource(t, gvk, ns).Get(context.Background(), name, metav1.GetOptions{})
}

type groupFile struct {
	ClusterGroup struct {
		ArgoProjects []string                  `json:"argoProjects"`
		Applications map[string]map[string]any `json:"applications"`
	} `json:"clusterGroup"`
}

func groupValues(t *testing.T, fork, group string) groupFile {
	t.Helper()
	var g groupFile
	data, err := os.ReadFile(filepath.Join(fork, "values-"+group+".yaml"))
	must(t, err)
	must(t, yaml.Unmarshal(data, &g))
	return g
}

// applications builds the Applications the clustergroup chart would create for one
// clusterGroup of the fork: helm sources with the framework's value files and parameters (then
// the application's overrides), or plugin sources (then the chart drops the helm block).
func applications(t *testing.T, fork string, spec clusterSpec, argoNS string) []map[string]any {
	t.Helper()
	group := groupValues(t, fork, spec.group)
	var keys []string
	for k := range group.ClusterGroup.Applications {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var apps []map[string]any
	for _, k := range keys {
		a := group.ClusterGroup.Applications[k]
		if a["chart"] != nil { // Helm-repository charts (vault ...) are not part of the fork
			continue
		}
		src := map[string]any{"repoURL": "file://" + fork, "targetRevision": "HEAD", "path": a["path"]}
		if p, ok := a["plugin"]; ok {
			src["plugin"] = p
		} else {
			params := []map[string]any{}
			for _, kv := range [][2]string{
				{"global.repoURL", "$ARGOCD_APP_SOURCE_REPO_URL"}, {"global.targetRevision", "$ARGOCD_APP_SOURCE_TARGET_REVISION"},
				{"global.namespace", "$ARGOCD_APP_NAMESPACE"}, {"global.pattern", "coco-pattern"},
				{"global.clusterDomain", strings.TrimPrefix(spec.localDomain, "apps.")}, {"global.clusterPlatform", spec.clusterPlatform()},
				{"global.hubClusterDomain", spec.hubDomain}, {"global.localClusterDomain", spec.localDomain},
			} {
				params = append(params, map[string]any{"name": kv[0], "value": kv[1]})
			}
			if ov, ok := a["overrides"].([]any); ok {
				for _, o := range ov {
					params = append(params, o.(map[string]any))
				}
			}
			g, pf := spec.group, spec.clusterPlatform()
			src["helm"] = map[string]any{
				"ignoreMissingValueFiles": true,
				"valueFiles":              []string{"/values-global.yaml", "/values-" + g + ".yaml", "/values-" + pf + ".yaml", "/values-" + pf + "-" + g + ".yaml", "/overrides/values-" + pf + ".yaml"},
				"parameters":              params,
			}
		}
		md := map[string]any{"name": a["name"], "namespace": argoNS, "labels": map[string]any{"validatedpatterns.io/pattern": "coco-pattern"}}
		if ann, ok := a["annotations"]; ok {
			md["annotations"] = ann
		}
		app := map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": md,
			"spec": map[string]any{
				"destination": map[string]any{"name": "in-cluster", "namespace": a["namespace"]},
				"project":     a["argoProject"],
				"source":      src,
				"syncPolicy":  map[string]any{"automated": map[string]any{}, "retry": map[string]any{"limit": 20, "backoff": map[string]any{"duration": "2s", "maxDuration": "10s"}}},
			},
		}
		if d, ok := a["ignoreDifferences"]; ok {
			app["spec"].(map[string]any)["ignoreDifferences"] = d
		}
		apps = append(apps, app)
	}
	return apps
}

// needSyncBinaries is needBinaries plus the helm CLI, which the repo server renders Helm
// applications with.
func needSyncBinaries(t *testing.T) (binaries, string) {
	t.Helper()
	return needBinaries(t), tool(t, "PATTERN_GEN_HELM")
}

// TestArgoCDSyncsThePattern runs Argo CD's application controller, repo server and our CMP
// server against a real kube-apiserver and lets it sync the pattern's applications.
func TestArgoCDSyncsThePattern(t *testing.T) {
	b, helm := needSyncBinaries(t)
	a := newWorkspace(t, b, syncConfig)
	c := startArgoCluster(t, b, helm, a, clusterSpec{
		group: "hub", hubDomain: appsDomain, localDomain: appsDomain,
		// The CRDs of exactly the pinned versions: External Secrets as the pinned
		// golang-external-secrets chart bundles it, Trustee 1.2.
		crdFiles: append(esoCRDFiles(t),
			filepath.Join(refCRDs, "kataconfiguration.openshift.io_kataconfigs.yaml"),
			trusteeCRD,
			filepath.Join(refCRDs, "openshift", "config.openshift.io_ingresses.yaml"),
			credentialsRequestCRD,
		),
		crdDocs:    []string{routeCRD},
		namespaces: []string{"openshift-sandboxed-containers-operator", "trustee-operator-system", "hello-openshift", "openshift-cloud-controller-manager", "openshift-cloud-credential-operator"},
		// What the cluster itself has: cloud-conf and the apps domain. No KBS certificate: on a
		// first install it exists only once the secrets are loaded.
		objects: []string{
			fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cloud-conf, namespace: openshift-cloud-controller-manager}\ndata:\n  cloud.conf: '%s'\n", cloudConf),
			"apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata: {name: cluster}\nspec: {domain: " + appsDomain + "}\n",
		},
	})
	c.createApplications(t)

	// With trustee.https and no certificate yet, the plugin applications fail to generate,
	// saying why, instead of rendering initdata no pod VM could use.
	appGVK := schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}
	waitFor(t, "sandboxed-containers reporting the missing KBS certificate", func() bool {
		u, err := c.get(t, appGVK, c.argoNS, "sandboxed-containers")
		if err != nil {
			return false
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, cond := range conds {
			if m, _ := cond.(map[string]any); strings.Contains(fmt.Sprint(m["message"]), "no KBS certificate in Secret trustee-operator-system/kbs-https-certificate") {
				return true
			}
		}
		return false
	})
	// Now the user runs load-secrets: Vault gets the secrets and External Secrets writes the
	// Secrets the ExternalSecrets name, among them the KBS certificate. Neither runs here, so
	// the test stands in for External Secrets. No one refreshes anything by hand: the refresher
	// sees the new certificate and hard-refreshes (Argo CD would otherwise serve the cached
	// error for an hour after three failures).
	cert := selfSignedCert(t, "kbs-trustee-operator-system."+appsDomain)
	certAt := time.Now()
	eso, stopESO := context.WithCancel(context.Background())
	t.Cleanup(stopESO)
	go standInForExternalSecrets(eso, c.k, map[string]map[string]string{"kbs-https-certificate": {"tls.crt": cert}})
	c.waitSynced(t, certAt, "the secrets were loaded")
	certLine := strings.Split(cert, "\n")[1]
	c.checkEgress(t, "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/sync-net-rg/providers/Microsoft.Network/virtualNetworks/sync-vnet/subnets/sync-worker-subnet", "northeurope")

	// Every object of the pattern exists, with the values the plugin injected at sync time.
	cm, err := c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-sandboxed-containers-operator", "peer-pods-cm")
	must(t, err)
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	want := map[string]string{
		"AZURE_REGION":         "northeurope",
		"AZURE_RESOURCE_GROUP": "sync-rg",
		"AZURE_SUBNET_ID":      "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/sync-net-rg/providers/Microsoft.Network/virtualNetworks/sync-vnet/subnets/sync-worker-subnet",
		"AZURE_NSG_ID":         "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/sync-rg/providers/Microsoft.Network/networkSecurityGroups/sync-nsg",
	}
	for key, v := range want {
		if data[key] != v {
			t.Errorf("live peer-pods-cm %s = %q, want %q", key, data[key], v)
		}
	}
	for _, o := range []struct {
		gvk      schema.GroupVersionKind
		ns, name string
	}{
		{schema.GroupVersionKind{Group: "kataconfiguration.openshift.io", Version: "v1", Kind: "KataConfig"}, "", "default-kata-config"},
		{schema.GroupVersionKind{Group: "confidentialcontainers.org", Version: "v1alpha1", Kind: "KbsConfig"}, "trustee-operator-system", "kbsconfig"},
		{schema.GroupVersionKind{Group: "route.openshift.io", Version: "v1", Kind: "Route"}, "trustee-operator-system", "kbs"},
		{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "hello-openshift", "insecure-policy"},
		{schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}, "openshift-cloud-controller-manager", "cmp-plugin-cloud-conf"},
	} {
		if _, err := c.get(t, o.gvk, o.ns, o.name); err != nil {
			t.Errorf("%s %s/%s: %v", o.gvk.Kind, o.ns, o.name, err)
		}
	}
	dep, err := c.get(t, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "hello-openshift", "secure")
	must(t, err)
	if ann, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data"); ann == "" || strings.HasPrefix(ann, "<") {
		t.Errorf("the live secure Deployment has no initdata: %q", ann)
	} else if !strings.Contains(string(decodeInitdata(t, ann)), certLine) {
		t.Errorf("the live secure Deployment's initdata lacks the KBS certificate created after the first sync")
	}
	if !strings.Contains(string(decodeInitdata(t, data["INITDATA"])), certLine) {
		t.Errorf("the live peer-pods-cm INITDATA lacks the KBS certificate created after the first sync")
	}
	// The KBS's reference values carry the PCR8 of that initdata, hashed here independently:
	// the trustee application, rendered by cmp-plugin, follows the certificate too. They carry
	// the pod VM measurements of the fork's committed values-measurements.yaml beside it.
	if ann, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data"); ann != "" {
		sum := sha256.Sum256(decodeInitdata(t, ann))
		pcr := sha256.Sum256(append(make([]byte, 32), sum[:]...))
		want := hex.EncodeToString(pcr[:])
		waitWithin(t, "the secure pod's PCR8 reaching the live rvps-reference-values", 2*time.Minute, func() bool {
			cm, err := c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "trustee-operator-system", "rvps-reference-values")
			if err != nil {
				return false
			}
			values, err := referenceValues(cm)
			if err != nil {
				t.Fatal(err)
			}
			return slices.Contains(values["snp_pcr08"], want) && slices.Contains(values["tdx_pcr12"], measuredPCR)
		})
	}

	// The cluster moves to another resource group: the new cloud-conf reaches the live
	// peer-pods-cm through the refresher, within a bounded time and with no manual refresh.
	cm, err = c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-cloud-controller-manager", "cloud-conf")
	must(t, err)
	moved := strings.Replace(cloudConf, `"resourceGroup":"sync-rg"`, `"resourceGroup":"sync-moved-rg"`, 1)
	must(t, unstructured.SetNestedField(cm.Object, moved, "data", "cloud.conf"))
	_, err = c.k.resource(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-cloud-controller-manager").Update(context.Background(), cm, metav1.UpdateOptions{})
	must(t, err)
	movedAt := time.Now()
	waitWithin(t, "the new cloud-conf reaching the live peer-pods-cm", 2*time.Minute, func() bool {
		cm, err := c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-sandboxed-containers-operator", "peer-pods-cm")
		if err != nil {
			return false
		}
		rg, _, _ := unstructured.NestedString(cm.Object, "data", "AZURE_RESOURCE_GROUP")
		return rg == "sync-moved-rg"
	})
	t.Logf("the new cloud-conf reached the live peer-pods-cm %v after it changed", time.Since(movedAt).Round(time.Second))

	status, err := c.pg("status")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, status)
	}
	t.Logf("pattern-gen status:\n%s", status)
	// --refresh hard: the real application controller re-renders trustee through the plugin
	// and removes the refresh annotation (persistAppStatus), which sync waits for before it
	// requests the operation.
	refreshedAt := time.Now()
	out, err := c.pg("sync", "--refresh", "hard", "--app", "cmp-plugin-rbac", "--app", "trustee")
	if err != nil || !strings.Contains(out, "wave -1: sync requested for cmp-plugin-rbac") || !strings.Contains(out, "wave 0: sync requested for trustee") {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	t.Logf("pattern-gen sync --refresh hard --app cmp-plugin-rbac --app trustee (%v):\n%s", time.Since(refreshedAt).Round(time.Second), out)
	for _, name := range []string{"cmp-plugin-rbac", "trustee"} {
		app, err := c.get(t, schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}, c.argoNS, name)
		must(t, err)
		if _, ok := app.GetAnnotations()["argocd.argoproj.io/refresh"]; ok {
			t.Errorf("%s: the refresh annotation is still there after sync --refresh", name)
		}
	}
	if out, err = c.pg("wait", "--for", "synced", "--timeout", "2m"); err != nil {
		t.Fatalf("wait after sync: %v\n%s", err, out)
	}
	// Without an operator or a Deployment controller, workloads never become Healthy: wait
	// for healthy must time out and name them.
	out, err = c.pg("wait", "--for", "healthy", "--timeout", "5s")
	t.Logf("pattern-gen wait --for healthy --timeout 5s:\n%s", out)
	if err == nil || !strings.Contains(out, "hello-openshift (Synced/Progressing)") {
		t.Errorf("wait --for healthy: %v", err)
	}
}

func wave(app map[string]any) int {
	md := app["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	w, _ := ann["argocd.argoproj.io/sync-wave"].(string)
	n := 0
	fmt.Sscanf(w, "%d", &n)
	return n
}

// standInForExternalSecrets does what External Secrets does once load-secrets has put the
// pattern's secrets into Vault; neither runs here. For every ExternalSecret it writes the target
// Secret (spec.target.name, else the ExternalSecret's name) with each spec.data secretKey (the
// values given, else a stand-in; a spec.dataFrom-only one gets one key), then reports condition
// Ready=True, reason SecretSynced, which Argo CD's health check reads
// (argo-cd resource_customizations/external-secrets.io/ExternalSecret/health.lua).
func standInForExternalSecrets(ctx context.Context, k *kube, values map[string]map[string]string) {
	ess := k.dyn.Resource(schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"})
	secrets := k.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"})
	for ctx.Err() == nil {
		list, err := ess.List(ctx, metav1.ListOptions{})
		for i := 0; err == nil && i < len(list.Items); i++ {
			es := &list.Items[i]
			if conds, _, _ := unstructured.NestedSlice(es.Object, "status", "conditions"); len(conds) > 0 {
				continue
			}
			target, _, _ := unstructured.NestedString(es.Object, "spec", "target", "name")
			if target == "" {
				target = es.GetName()
			}
			data := map[string]any{}
			entries, _, _ := unstructured.NestedSlice(es.Object, "spec", "data")
			for _, e := range entries {
				key, _, _ := unstructured.NestedString(e.(map[string]any), "secretKey")
				data[key] = "e2e stand-in for " + key
				if v, ok := values[target][key]; ok {
					data[key] = v
				}
			}
			if len(entries) == 0 {
				data["value"] = "e2e stand-in"
			}
			secret := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
				"metadata": map[string]any{"name": target, "namespace": es.GetNamespace()}, "stringData": data}}
			if _, err := secrets.Namespace(es.GetNamespace()).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				continue
			}
			_ = unstructured.SetNestedSlice(es.Object, []any{map[string]any{"type": "Ready", "status": "True", "reason": "SecretSynced",
				"message": "secret synced (e2e stand-in)", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}, "status", "conditions")
			_, _ = ess.Namespace(es.GetNamespace()).UpdateStatus(ctx, es, metav1.UpdateOptions{})
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// admitRoutes does what the OpenShift router does for every Route: report it admitted.
func admitRoutes(ctx context.Context, k *kube) {
	routes := k.dyn.Resource(schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"})
	for ctx.Err() == nil {
		list, err := routes.List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range list.Items {
				r := &list.Items[i]
				if _, found, _ := unstructured.NestedSlice(r.Object, "status", "ingress"); found {
					continue
				}
				host, _, _ := unstructured.NestedString(r.Object, "spec", "host")
				_ = unstructured.SetNestedSlice(r.Object, []any{map[string]any{
					"host": host, "routerName": "default",
					"conditions": []any{map[string]any{"type": "Admitted", "status": "True"}},
				}}, "status", "ingress")
				_, _ = routes.Namespace(r.GetNamespace()).Update(ctx, r, metav1.UpdateOptions{})
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// trusteeCRD is the KbsConfig CRD of the Trustee line the default config pins (1.2).
const trusteeCRD = "testdata/trustee-v1.2.1/confidentialcontainers.org_kbsconfigs.yaml"

// referenceValues reads the entries of a live rvps-reference-values ConfigMap by name, decoded
// here independently of the product: Trustee 1.2's key reference_value is the RVPS LocalJson
// store (entry name to URL-safe base64 of the ReferenceValue JSON, confidential-containers/trustee
// v0.21.0 deps/key-value-storage/src/local_json), 1.1's reference-values.json a JSON list.
func referenceValues(cm *unstructured.Unstructured) (map[string][]string, error) {
	type entry struct {
		Version    string   `json:"version"`
		Name       string   `json:"name"`
		Expiration string   `json:"expiration"`
		Value      []string `json:"value"`
	}
	out := map[string][]string{}
	if store, ok, _ := unstructured.NestedString(cm.Object, "data", "reference_value"); ok {
		var m map[string]string
		if err := json.Unmarshal([]byte(store), &m); err != nil {
			return nil, fmt.Errorf("reference_value: %w", err)
		}
		for name, enc := range m {
			raw, err := base64.URLEncoding.DecodeString(enc)
			if err != nil {
				return nil, fmt.Errorf("reference_value %s: %w", name, err)
			}
			var e entry
			if err := json.Unmarshal(raw, &e); err != nil || e.Name != name || e.Version != "0.1.0" || !rvpsTime.MatchString(e.Expiration) {
				return nil, fmt.Errorf("reference_value %s: not a ReferenceValue the RVPS reads (%v): %s", name, err, raw)
			}
			out[name] = e.Value
		}
		return out, nil
	}
	list, _, _ := unstructured.NestedString(cm.Object, "data", "reference-values.json")
	var es []entry
	if err := json.Unmarshal([]byte(list), &es); err != nil {
		return nil, fmt.Errorf("reference-values.json: %w", err)
	}
	for _, e := range es {
		out[e.Name] = e.Value
	}
	return out, nil
}

// rvpsTime is the only expiration format the RVPS parses (trustee rvps/src/reference_value.rs,
// "%Y-%m-%dT%H:%M:%SZ").
var rvpsTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
