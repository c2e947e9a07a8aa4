package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/pattern-gen/pattern-gen/internal/peerpods"
)

// WorkerLabel marks the nodes that run cloud-api-adaptor, and so start pod VMs.
const WorkerLabel = "node-role.kubernetes.io/worker"

// peerPodsKeys are the peer-pods-cm keys `pattern-gen azure check` reads: sizes, limits, ports
// and the image, none of them secret.
var peerPodsKeys = []string{"AZURE_INSTANCE_SIZE", "AZURE_INSTANCE_SIZES", "PEERPODS_LIMIT_PER_NODE", "AZURE_IMAGE_ID", "VXLAN_PORT"}

// AzureFacts is what a laptop's `pattern-gen azure check` reads of the cluster.
type AzureFacts struct {
	CloudConf *peerpods.CloudConf // nil: not an Azure cluster
	PeerPods  map[string]string   // the keys of peerPodsKeys that the live peer-pods-cm has
	Workers   int
}

// ReadAzure reads cloud-conf, peer-pods-cm (when there is one) and counts the worker nodes.
// Unlike Read it fails when an object cannot be read: the check would be wrong without it.
func ReadAzure(ctx context.Context, cfg *rest.Config) (*AzureFacts, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	f := &AzureFacts{PeerPods: map[string]string{}}
	cm, err := dyn.Resource(configMapGVR).Namespace(CloudConfNamespace).Get(ctx, CloudConfName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("read ConfigMap %s/%s: %s", CloudConfNamespace, CloudConfName, short(err))
	default:
		if raw, ok := dataOf(cm.Object)[CloudConfKey]; ok {
			if f.CloudConf, err = peerpods.ParseCloudConf([]byte(raw)); err != nil {
				return nil, fmt.Errorf("ConfigMap %s/%s: %w", CloudConfNamespace, CloudConfName, err)
			}
		}
	}
	cm, err = dyn.Resource(configMapGVR).Namespace(OSCNamespace).Get(ctx, PeerPodsConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("read ConfigMap %s/%s: %s", OSCNamespace, PeerPodsConfigMap, short(err))
	default:
		data := dataOf(cm.Object)
		for _, k := range peerPodsKeys {
			if v, ok := data[k]; ok {
				f.PeerPods[k] = v
			}
		}
	}
	nodes, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "nodes"}).List(ctx, metav1.ListOptions{LabelSelector: WorkerLabel})
	if err != nil {
		return nil, fmt.Errorf("list worker nodes: %s", short(err))
	}
	f.Workers = len(nodes.Items)
	return f, nil
}
