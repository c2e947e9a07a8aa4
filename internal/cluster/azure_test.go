package cluster_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/testutil/kubeapi"
)

// What `pattern-gen azure check` reads with the user's kubeconfig, from a real kube-apiserver.
// The Node objects stand in for kubelets registering; only their labels are read.
func TestReadAzure(t *testing.T) {
	srv := kubeapi.Start(t, kubeapi.User{Name: "nobody"})
	seed(t, srv)
	cs := kubernetes.NewForConfigOrDie(srv.Config(kubeapi.Admin.Name))
	for name, labels := range map[string]map[string]string{
		"master-0": {"node-role.kubernetes.io/master": ""}, "worker-a": {cluster.WorkerLabel: ""}, "worker-b": {cluster.WorkerLabel: ""},
	} {
		must(t, create(cs.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})))
	}
	f, err := cluster.ReadAzure(context.Background(), srv.Config(kubeapi.Admin.Name))
	if err != nil {
		t.Fatal(err)
	}
	if f.CloudConf == nil || f.CloudConf.VnetResourceGroup != "c1-network-rg" || f.Workers != 2 || !strings.HasSuffix(f.PeerPods["AZURE_IMAGE_ID"], "/versions/0.0.1") {
		t.Errorf("facts %+v (cloud-conf %+v)", f, f.CloudConf)
	}
	if _, err := cluster.ReadAzure(context.Background(), srv.Config("nobody")); err == nil || !strings.Contains(err.Error(), "read ConfigMap openshift-cloud-controller-manager/cloud-conf: Forbidden") {
		t.Errorf("without access: %v", err)
	}
}
