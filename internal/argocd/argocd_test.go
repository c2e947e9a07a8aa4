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
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/pattern-gen/pattern-gen/internal/argocd"
	"github.com/pattern-gen/pattern-gen/internal/testutil/kubeapi"
)

// The Application CRD of the Argo CD release the e2e tests run, from the shared reference.
const applicationCRD = "../../../shared/reference/crds/argo-cd-v2.14.21/application-crd.yaml"

// Error paths against a real API server; the happy paths run with the real Argo CD in e2e/.
func TestErrors(t *testing.T) {
	srv := kubeapi.Start(t, kubeapi.User{Name: "viewer"})
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
	_, err = (&argocd.Client{Dyn: dynamic.NewForConfigOrDie(srv.Config("viewer")), Namespace: "coco-pattern-hub", Pattern: "coco-pattern"}).List(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "forbidden: your user may not read or change Argo CD applications in namespace coco-pattern-hub") {
		t.Errorf("forbidden: %v", err)
	}
}
