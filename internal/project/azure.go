package project

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pattern-gen/pattern-gen/internal/azure"
	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/contract"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// ErrCannotCheck marks what stops `azure check` before it can say anything of the subscription:
// no cluster, not an Azure cluster, no Azure credentials. The CLI exits 2 on it.
var ErrCannotCheck = errors.New("cannot check")

// defaultPodVMsPerNode is cloud-api-adaptor's PEERPODS_LIMIT_PER_NODE when peer-pods-cm sets none.
const defaultPodVMsPerNode = 10

// AzureOptions say which cluster and fork `azure check` and `azure egress` are about.
type AzureOptions struct {
	Fork    string              // "" or a folder that is not a fork: the live peer-pods-cm only
	Facts   *cluster.AzureFacts // what the cluster says
	Network *azure.Network      // given instead of Facts' cloud-conf (the egress Job)
	Pattern string              // the pattern egress tags for; "" reads the fork's
	Clients func(subscription string) (*azure.Clients, error)
	Logf    func(format string, args ...any)
}

// AzureSource names the cluster (kubeconfig and context, as kubectl takes them) and the fork,
// or, for the egress Job, the subnet and region cmp-plugin resolved, and the pattern.
type AzureSource struct {
	Kubeconfig, Context, Fork string
	SubnetID, Location        string // set: no cluster is read
	Pattern                   string
	Logf                      func(format string, args ...any)
}

// PrepareAzure reads the cluster's facts and finds Azure credentials as the Azure SDK does
// (environment, workload identity, managed identity, the Azure CLI's sign-in). What is missing
// is an ErrCannotCheck.
func PrepareAzure(ctx context.Context, src AzureSource) (AzureOptions, error) {
	o := AzureOptions{Fork: src.Fork, Pattern: src.Pattern, Logf: src.Logf}
	if src.SubnetID != "" {
		n, err := azure.SubnetNetwork(src.SubnetID, src.Location)
		if err != nil {
			return o, err
		}
		o.Network = &n
	} else {
		cfg, err := cluster.UserConfig(src.Kubeconfig, src.Context)
		if err != nil {
			return o, fmt.Errorf("%w: no cluster: %v", ErrCannotCheck, err)
		}
		if o.Facts, err = cluster.ReadAzure(ctx, cfg); err != nil {
			return o, fmt.Errorf("%w: %v", ErrCannotCheck, err)
		}
	}
	var cred azcore.TokenCredential
	var err error
	if o.Network != nil {
		// The egress Job: only the credentials the CredentialsRequest's Secret gives (a client
		// secret, or a Workload Identity token), never the node's managed identity.
		cred, err = jobCredential()
	} else {
		cred, err = azidentity.NewDefaultAzureCredential(nil)
	}
	if err == nil {
		_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	}
	if err != nil {
		return o, fmt.Errorf("%w: no Azure credentials: sign in with az login, or set AZURE_CLIENT_ID and AZURE_TENANT_ID with AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE", ErrCannotCheck)
	}
	o.Clients = func(sub string) (*azure.Clients, error) { return azure.NewClients(sub, cred, nil) }
	return o, nil
}

// jobCredential is the egress Job's Azure credential: the environment's client secret, else its
// Workload Identity token file.
func jobCredential() (azcore.TokenCredential, error) {
	var chain []azcore.TokenCredential
	if env, err := azidentity.NewEnvironmentCredential(nil); err == nil {
		chain = append(chain, env)
	}
	if wi, err := azidentity.NewWorkloadIdentityCredential(nil); err == nil {
		chain = append(chain, wi)
	}
	if len(chain) == 0 {
		return nil, errors.New("neither AZURE_CLIENT_SECRET nor AZURE_FEDERATED_TOKEN_FILE is set")
	}
	return azidentity.NewChainedTokenCredential(chain, nil)
}

// AzureCheck runs the read-only checks of what peer pods need of the cluster's subscription.
func AzureCheck(ctx context.Context, o AzureOptions) ([]azure.Finding, error) {
	p, err := forkPattern(o.Fork)
	if err != nil {
		return nil, err
	}
	n, c, err := azureTarget(o, p)
	if err != nil {
		return nil, err
	}
	needs, err := azureNeeds(o, p)
	if err != nil {
		return nil, err
	}
	return azure.Check(ctx, c, n, needs), nil
}

// AzureEgress gives the worker subnet a NAT gateway when it has none (the manual form of what
// the sync does with azure.egress: managed).
func AzureEgress(ctx context.Context, o AzureOptions) (*azure.EgressResult, error) {
	p, err := forkPattern(o.Fork)
	if err != nil {
		return nil, err
	}
	n, c, err := azureTarget(o, p)
	if err != nil {
		return nil, err
	}
	pattern := cmp.Or(o.Pattern, "coco-pattern")
	if p != nil && o.Pattern == "" {
		pattern = p.Name
	}
	return azure.EnsureEgress(ctx, c, n, azure.EgressOptions{Pattern: pattern, Logf: o.Logf})
}

// azureTarget is the network to check or change and the clients for its subscription. p is the
// fork's values (nil without a fork).
func azureTarget(o AzureOptions, p *render.Pattern) (azure.Network, *azure.Clients, error) {
	var n azure.Network
	var err error
	if o.Network != nil {
		n = *o.Network
	} else if n, err = azure.NetworkOf(o.Facts.CloudConf); err != nil {
		return n, nil, fmt.Errorf("%w: %v", ErrCannotCheck, err)
	}
	// The subnet pod VMs are created in: the fork's pinned subnetID (what cmp-plugin resolves
	// before cloud-conf), else cloud-conf's worker subnet.
	if pinned := forkAzure(p).SubnetID; pinned != "" && o.Network == nil {
		sn, err := azure.SubnetNetwork(pinned, n.Location)
		if err != nil {
			return n, nil, fmt.Errorf("fork %s: global.coco.azure.subnetID: %w", o.Fork, err)
		}
		n.SubscriptionID, n.VnetResourceGroup, n.VnetName, n.SubnetName = sn.SubscriptionID, sn.VnetResourceGroup, sn.VnetName, sn.SubnetName
	}
	c, err := o.Clients(n.SubscriptionID)
	if err != nil {
		return n, nil, fmt.Errorf("%w: %v", ErrCannotCheck, err)
	}
	return n, c, nil
}

// azureNeeds is what the pattern will ask: the sizes from the fork's values p (what the next
// sync writes into peer-pods-cm), else from the live peer-pods-cm; limits, ports and the image
// from the live peer-pods-cm.
func azureNeeds(o AzureOptions, p *render.Pattern) (azure.Needs, error) {
	cm := o.Facts.PeerPods
	needs := azure.Needs{Workers: o.Facts.Workers, ImageID: cm["AZURE_IMAGE_ID"], PodVMsPerNode: defaultPodVMsPerNode,
		VXLANPort: azure.DefaultVXLANPort, ForwarderPort: azure.DefaultForwarderPort,
		DefaultSize: cm["AZURE_INSTANCE_SIZE"], Sizes: splitList(cm["AZURE_INSTANCE_SIZES"])}
	for _, kv := range []struct {
		key string
		dst *int
	}{{"PEERPODS_LIMIT_PER_NODE", &needs.PodVMsPerNode}, {"VXLAN_PORT", &needs.VXLANPort}} {
		if v, ok := cm[kv.key]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n <= 0 {
				return needs, fmt.Errorf("peer-pods-cm %s: %q is not a positive number", kv.key, v)
			}
			*kv.dst = n
		}
	}
	if v := forkAzure(p).DefaultVMFlavour; v != "" {
		needs.DefaultSize = v
	}
	if v := forkAzure(p).VMFlavours; v != "" {
		needs.Sizes = splitList(v)
	}
	if needs.DefaultSize == "" && len(needs.Sizes) == 0 {
		return needs, fmt.Errorf("%w: no instance sizes: run in a fork (or name it), or sync the pattern so peer-pods-cm has AZURE_INSTANCE_SIZES", ErrCannotCheck)
	}
	return needs, nil
}

// forkPattern reads the fork's main clusterGroup (with values-global.yaml: the Azure settings
// and the pattern's name) when dir is a fork; nil when it is not (the egress Job runs in none).
func forkPattern(dir string) (*render.Pattern, error) {
	if dir == "" {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "values-global.yaml")); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	t, err := generate.ReadFork(dir)
	if err != nil {
		return nil, err
	}
	p, err := render.ReadPattern(t)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", dir, err)
	}
	return p, nil
}

// forkAzure is global.coco.azure of the fork's values p; empty without a fork.
func forkAzure(p *render.Pattern) contract.Azure {
	if p == nil {
		return contract.Azure{}
	}
	return p.Coco().Azure
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
