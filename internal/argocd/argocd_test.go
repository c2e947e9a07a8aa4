package argocd_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/pattern-gen/pattern-gen/internal/argocd"
	"github.com/pattern-gen/pattern-gen/internal/testutil/kubeapi"
)

// The Application CRD of the Argo CD release the e2e tests run, from the shared reference.
const applicationCRD = "../../../shared/reference/crds/argo-cd-v2.14.21/application-crd.yaml"

// Error paths against a real API server; the happy paths run with the real Argo CD in e2e/.
// startWithCRD starts a kube-apiserver with Argo CD's Application CRD and the pattern's Argo CD
// namespace, and returns it with an admin client.
func startWithCRD(t *testing.T, users ...kubeapi.User) (*kubeapi.Server, dynamic.Interface) {
	t.Helper()
	srv := kubeapi.Start(t, users...)
	data, err := os.ReadFile(applicationCRD)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent", applicationCRD)
	}
	if err != nil {
		t.Fatal(err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	admin := srv.Config(kubeapi.Admin.Name)
	dyn := dynamic.NewForConfigOrDie(admin)
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crdGVR).Create(context.Background(), &unstructured.Unstructured{Object: crd}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(admin).CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "coco-pattern-hub"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return srv, dyn
}

func TestErrors(t *testing.T) {
	srv, dyn := startWithCRD(t, kubeapi.User{Name: "viewer"})
	ctx := context.Background()
	var lastErr error
	for i := 0; i < 50; i++ { // the CRD takes a moment to be served
		_, lastErr = (&argocd.Client{Dyn: dyn, Namespace: "coco-pattern-hub", Pattern: "coco-pattern"}).List(ctx)
		if lastErr != nil && strings.Contains(lastErr.Error(), "no Argo CD applications") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if lastErr == nil || lastErr.Error() != "no Argo CD applications of pattern coco-pattern in namespace coco-pattern-hub (label validatedpatterns.io/pattern=coco-pattern); is the pattern installed, and is -n right?" {
		t.Errorf("no applications: %v", lastErr)
	}
	_, err := (&argocd.Client{Dyn: dynamic.NewForConfigOrDie(srv.Config("viewer")), Namespace: "coco-pattern-hub", Pattern: "coco-pattern"}).List(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "forbidden: your user may not read or change Argo CD applications in namespace coco-pattern-hub") {
		t.Errorf("forbidden: %v", err)
	}
}

// wait ends at once when an operation fails while it waits, with the operation's message; an
// operation that failed before the wait began does not end it (a new sync may be on its way).
func TestWaitEndsOnAFailedOperation(t *testing.T) {
	_, dyn := startWithCRD(t)
	ctx := context.Background()
	apps := dyn.Resource(argocd.ApplicationGVR).Namespace("coco-pattern-hub")
	app := func(name, phase string, finished time.Time) {
		t.Helper()
		obj := map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": name, "labels": map[string]any{argocd.PatternLabel: "coco-pattern"}},
			"spec":     map[string]any{"project": "default", "destination": map[string]any{"server": "https://kubernetes.default.svc"}, "source": map[string]any{"repoURL": "https://example.com/r.git", "path": "p"}},
			"status": map[string]any{"sync": map[string]any{"status": "OutOfSync"}, "health": map[string]any{"status": "Progressing"},
				"operationState": map[string]any{"operation": map[string]any{"sync": map[string]any{"revision": "HEAD"}}, "phase": phase, "message": "one or more objects failed to apply", "startedAt": finished.Add(-time.Minute).Format(time.RFC3339), "finishedAt": finished.Format(time.RFC3339)}}}
		var err error
		for i := 0; i < 50; i++ { // the CRD takes a moment to be served
			if _, err = apps.Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatal(err)
	}
	c := &argocd.Client{Dyn: dyn, Namespace: "coco-pattern-hub", Pattern: "coco-pattern"}
	app("old-failure", "Failed", time.Now().Add(-time.Hour))
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Polls 250 ms apart stay within client-go's default 5 requests a second (the CLI polls every
	// 2 s), so the rate limiter never decides the outcome.
	if _, err := c.Wait(waitCtx, argocd.WaitOptions{For: "synced", Interval: 250 * time.Millisecond}); err == nil || !strings.HasPrefix(err.Error(), "not synced in time: old-failure") {
		t.Errorf("a failure from before the wait: %v", err)
	}
	start := time.Now()
	go func() {
		time.Sleep(1500 * time.Millisecond)
		app("new-failure", "Error", time.Now().Add(time.Second))
	}()
	waitCtx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := c.Wait(waitCtx, argocd.WaitOptions{For: "healthy", Interval: 250 * time.Millisecond})
	if err == nil || err.Error() != "sync failed: new-failure (Error: one or more objects failed to apply)" || time.Since(start) > 30*time.Second {
		t.Errorf("after %v: %v", time.Since(start), err)
	}

	// status --refresh hard: the annotation Argo CD reads (and removes) on every application.
	if err := c.Refresh(ctx, "hard"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"old-failure", "new-failure"} {
		u, err := apps.Get(ctx, name, metav1.GetOptions{})
		if err != nil || u.GetAnnotations()["argocd.argoproj.io/refresh"] != "hard" {
			t.Errorf("%s: annotations %v, %v", name, u.GetAnnotations(), err)
		}
	}
	if err := c.Refresh(ctx, "soft"); err == nil || !strings.Contains(err.Error(), "use normal or hard") {
		t.Errorf("refresh soft: %v", err)
	}
	// sync --refresh waits for Argo CD to have refreshed: no controller runs here, so the wait
	// ends with the deadline, naming the applications; once the annotation is gone (Argo CD's
	// persistAppStatus removes it), it returns.
	shortCtx, cancelShort := context.WithTimeout(ctx, time.Second)
	defer cancelShort()
	if err := c.WaitRefreshed(shortCtx, 200*time.Millisecond, "new-failure"); err == nil || !strings.Contains(err.Error(), "did not finish refreshing new-failure in time") {
		t.Errorf("wait for a refresh nobody does: %v", err)
	}
	remove := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":null}}}`)
	if _, err := apps.Patch(ctx, "new-failure", types.MergePatchType, remove, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitRefreshed(ctx, 200*time.Millisecond, "new-failure"); err != nil {
		t.Errorf("after the refresh: %v", err)
	}
}
