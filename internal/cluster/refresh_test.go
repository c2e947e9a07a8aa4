package cluster_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/refresh"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/kubeapi"
)

// refresher is the identity of the cmp-plugin-refresher Deployment the fork's RBAC chart adds.
const refresher = "system:serviceaccount:coco-pattern-hub:cmp-plugin-refresher"

const applicationCRD = "../../../shared/reference/crds/argo-cd-v2.14.21/application-crd.yaml"

var applicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// The refresher, with only the grants the fork's cmp-plugin-rbac chart gives it, hard-refreshes
// exactly the plugin Applications, once per change of the facts, and nothing when it cannot
// read them all.
func TestRefresherFollowsTheFacts(t *testing.T) {
	srv := kubeapi.Start(t, kubeapi.User{Name: repoServer}, kubeapi.User{Name: refresher}, kubeapi.User{Name: "nobody"})
	seed(t, srv)
	admin := srv.Config(kubeapi.Admin.Name)
	dyn := dynamic.NewForConfigOrDie(admin)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(admin)))
	applyFile(t, dyn, mapper, applicationCRD)
	app := func(name string, source map[string]any, multi bool) map[string]any {
		spec := map[string]any{"project": "default", "destination": map[string]any{"name": "in-cluster", "namespace": "x"}}
		if multi {
			spec["sources"] = []any{map[string]any{"repoURL": "https://example.com/r.git", "path": "charts/x"}, source}
		} else {
			spec["source"] = source
		}
		return map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": name, "namespace": "coco-pattern-hub"}, "spec": spec}
	}
	plugin := func(path string) map[string]any {
		return map[string]any{"repoURL": "https://example.com/r.git", "path": path, "plugin": map[string]any{"name": render.PluginName}}
	}
	apply(t, dyn, mapper, app("sandboxed-containers", plugin(render.SandboxChart), false))
	apply(t, dyn, mapper, app("hello-openshift", plugin(render.HelloChart), true))
	apply(t, dyn, mapper, app("trustee", map[string]any{"repoURL": "https://example.com/r.git", "path": render.TrusteeChart}, false))

	ctx := context.Background()
	apps := dyn.Resource(applicationsGVR).Namespace("coco-pattern-hub")
	opts := refresh.Options{Namespace: "coco-pattern-hub", Plugin: render.PluginBase, Scope: peerpods.Scope{PeerPods: true}}
	once := func(user string) []string {
		t.Helper()
		rep, err := refresh.Once(ctx, srv.Config(user), opts)
		must(t, err)
		if len(rep.Synced) > 0 {
			t.Errorf("asked to sync %v before Argo CD rendered them again", rep.Synced)
		}
		slices.Sort(rep.Refreshed)
		return rep.Refreshed
	}
	annotations := func(name string) map[string]string {
		u, err := apps.Get(ctx, name, metav1.GetOptions{})
		must(t, err)
		return u.GetAnnotations()
	}
	// What the application controller does once it has rendered again.
	refreshed := func(names ...string) {
		for _, n := range names {
			_, err := apps.Patch(ctx, n, types.MergePatchType, []byte(`{"metadata":{"annotations":{"`+refresh.RefreshAnnotation+`":null}}}`), metav1.PatchOptions{})
			must(t, err)
		}
	}

	plugins := []string{"hello-openshift", "sandboxed-containers"}
	if got := once(refresher); !slices.Equal(got, plugins) {
		t.Fatalf("first round refreshed %v, want %v (no digest recorded yet)", got, plugins)
	}
	first := annotations("sandboxed-containers")
	if first[refresh.RefreshAnnotation] != "hard" || !strings.HasPrefix(first[refresh.DigestAnnotation], "sha256:") {
		t.Errorf("annotations %v", first)
	}
	if a := annotations("trustee"); a[refresh.RefreshAnnotation] != "" || a[refresh.DigestAnnotation] != "" {
		t.Errorf("a Helm application was touched: %v", a)
	}
	refreshed(plugins...)
	if got := once(refresher); len(got) != 0 {
		t.Errorf("nothing changed, yet %v were refreshed", got)
	}

	// A new cloud-conf (a cluster moved to another resource group) and a new KBS certificate:
	// one refresh each.
	cs := kubernetes.NewForConfigOrDie(admin)
	cm, err := cs.CoreV1().ConfigMaps(cluster.CloudConfNamespace).Get(ctx, cluster.CloudConfName, metav1.GetOptions{})
	must(t, err)
	cm.Data["cloud.conf"] = strings.Replace(cm.Data["cloud.conf"], `"resourceGroup":"c1-abcde-rg"`, `"resourceGroup":"c1-moved-rg"`, 1)
	_, err = cs.CoreV1().ConfigMaps(cluster.CloudConfNamespace).Update(ctx, cm, metav1.UpdateOptions{})
	must(t, err)
	if got := once(refresher); !slices.Equal(got, plugins) {
		t.Errorf("after cloud-conf changed: refreshed %v, want %v", got, plugins)
	}
	if d := annotations("hello-openshift")[refresh.DigestAnnotation]; d == first[refresh.DigestAnnotation] {
		t.Error("the recorded digest did not change with cloud-conf")
	}
	// Argo CD has rendered them again at the same revision: both are OutOfSync. It would not
	// sync that by itself (automated sync runs once per revision without selfHeal); the
	// refresher asks, once, for the application whose policy is automated, with that policy's
	// prune and retry, and only records the other.
	refreshed(plugins...)
	setStatus := func(name, sync string) {
		patch := `{"status":{"sync":{"status":"` + sync + `","revision":"0123abcd"}}}`
		_, err := apps.Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		must(t, err)
	}
	_, err = apps.Patch(ctx, "sandboxed-containers", types.MergePatchType, []byte(`{"spec":{"syncPolicy":{"automated":{"prune":true},"retry":{"limit":20}}}}`), metav1.PatchOptions{})
	must(t, err)
	setStatus("sandboxed-containers", "OutOfSync")
	setStatus("hello-openshift", "OutOfSync")
	rep, err := refresh.Once(ctx, srv.Config(refresher), opts)
	must(t, err)
	if len(rep.Refreshed) != 0 || !slices.Equal(rep.Synced, []string{"sandboxed-containers"}) {
		t.Errorf("after the new render: %+v, want only sandboxed-containers asked to sync", rep)
	}
	u, err := apps.Get(ctx, "sandboxed-containers", metav1.GetOptions{})
	must(t, err)
	if rev, _, _ := unstructured.NestedString(u.Object, "operation", "sync", "revision"); rev != "0123abcd" {
		t.Errorf("sync operation %v, want revision 0123abcd", u.Object["operation"])
	}
	if prune, _, _ := unstructured.NestedBool(u.Object, "operation", "sync", "prune"); !prune {
		t.Errorf("sync operation %v does not keep the policy's prune", u.Object["operation"])
	}
	if limit, _, _ := unstructured.NestedInt64(u.Object, "operation", "retry", "limit"); limit != 20 {
		t.Errorf("sync operation %v does not keep the policy's retry", u.Object["operation"])
	}
	if _, found, _ := unstructured.NestedMap(liveApp(t, apps, "hello-openshift"), "operation"); found {
		t.Error("an application without automated sync was asked to sync")
	}
	if rep, err := refresh.Once(ctx, srv.Config(refresher), opts); err != nil || len(rep.Refreshed)+len(rep.Synced) != 0 {
		t.Errorf("a second round after the sync: %+v %v", rep, err)
	}
	// A render that keeps failing (say the API server was away while the plugin read it; Argo CD
	// then serves the error for an hour) is hard-refreshed again, at most every RetryEvery.
	setStatus("sandboxed-containers", "Unknown")
	later := func(d time.Duration) refresh.Options {
		o := opts
		o.Now = func() time.Time { return time.Now().Add(d) }
		return o
	}
	if rep, err := refresh.Once(ctx, srv.Config(refresher), later(time.Minute)); err != nil || len(rep.Retried) != 0 {
		t.Errorf("retried within RetryEvery: %+v %v", rep, err)
	}
	if rep, err := refresh.Once(ctx, srv.Config(refresher), later(refresh.RetryEvery+time.Minute)); err != nil || !slices.Equal(rep.Retried, []string{"sandboxed-containers"}) {
		t.Errorf("a failing render after RetryEvery: %+v %v", rep, err)
	}
	if a := annotations("sandboxed-containers"); a[refresh.RefreshAnnotation] != "hard" {
		t.Errorf("no hard refresh on the failing application: %v", a)
	}
	refreshed("sandboxed-containers")
	setStatus("sandboxed-containers", "Synced")
	must(t, cs.CoreV1().Secrets(cluster.TrusteeNamespace).Delete(ctx, cluster.KBSCertSecret, metav1.DeleteOptions{}))
	_, err = cs.CoreV1().Secrets(cluster.TrusteeNamespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: cluster.KBSCertSecret}, Data: map[string][]byte{"tls.crt": []byte(hubCert)}}, metav1.CreateOptions{})
	must(t, err)
	if got := once(refresher); !slices.Equal(got, plugins) {
		t.Errorf("after the KBS certificate changed: refreshed %v, want %v", got, plugins)
	}
	refreshed(plugins...)

	// The repo server's account may read the facts but not touch Applications; an account that
	// cannot read the facts refreshes nothing rather than mistake a refusal for a change.
	if _, err := refresh.Once(ctx, srv.Config(repoServer), opts); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("the repo server's account listed Applications: %v", err)
	}
	if rep, err := refresh.Once(ctx, srv.Config("nobody"), opts); err == nil || len(rep.Refreshed)+len(rep.Synced) != 0 {
		t.Errorf("an account without grants: %+v, %v", rep, err)
	}
	for _, n := range plugins {
		if a := annotations(n); a[refresh.RefreshAnnotation] != "" {
			t.Errorf("%s refreshed by an account that could not read the facts", n)
		}
	}
}

func liveApp(t *testing.T, apps dynamic.ResourceInterface, name string) map[string]any {
	t.Helper()
	u, err := apps.Get(context.Background(), name, metav1.GetOptions{})
	must(t, err)
	return u.Object
}
