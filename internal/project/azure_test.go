package project_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/azure"
	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/testutil/fakeazure"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

// cloudConf is the cluster's cloud-conf for fakeazure's network.
var cloudConf = &peerpods.CloudConf{SubscriptionID: fakeazure.Sub, Location: "westeurope", ResourceGroup: "c1-rg", VnetResourceGroup: "net-rg",
	VnetName: "c1-vnet", SubnetName: "c1-worker-subnet", SecurityGroupName: "c1-nsg"}

// azure check on a fork: the sizes are the fork's (what the next sync configures), the limit
// and the image the live peer-pods-cm's; the Azure edge is the SDK's fake servers.
func TestAzureCheckOfAFork(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	c := fakeazure.Ready()
	o := project.AzureOptions{Fork: fork,
		Facts:   &cluster.AzureFacts{CloudConf: cloudConf, Workers: 3, PeerPods: map[string]string{"PEERPODS_LIMIT_PER_NODE": "5", "AZURE_INSTANCE_SIZES": "Standard_D2s_v5", "AZURE_IMAGE_ID": fakeazure.ImageID}},
		Clients: func(sub string) (*azure.Clients, error) { return c.Clients(t), nil }}
	findings, err := project.AzureCheck(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]azure.Finding{}
	for _, f := range findings {
		got[f.Check+" "+f.Subject] = f
	}
	// The default fork offers DC2as_v5 to DC16as_v5; the fake region has DC2 and DC4 only.
	for key, want := range map[string]azure.Status{
		"size Standard_DC2as_v5": azure.OK, "size Standard_DC4as_v5": azure.OK, "size Standard_DC8as_v5": azure.Problem,
		"size Standard_D2s_v5": "", "image 0.0.1": azure.OK, "outbound c1-worker-subnet": azure.OK,
	} {
		if got[key].Status != want {
			t.Errorf("%s: %+v, want %q", key, got[key], want)
		}
	}
	if q := got["quota standardDCASv5Family"]; !strings.Contains(q.Detail, "3 worker nodes x 5 pod VMs (PEERPODS_LIMIT_PER_NODE) x 2 vCPUs of Standard_DC2as_v5 = 30") {
		t.Errorf("quota: %+v", q)
	}
}

func TestAzureCheckCannotCheck(t *testing.T) {
	c := fakeazure.Ready()
	clients := func(string) (*azure.Clients, error) { return c.Clients(t), nil }
	for name, tc := range map[string]struct {
		facts       cluster.AzureFacts
		want        string
		cannotCheck bool
	}{
		"not-azure": {cluster.AzureFacts{Workers: 3}, "cannot check: the cluster has no ConfigMap openshift-cloud-controller-manager/cloud-conf: is it an OpenShift cluster on Azure?", true},
		"half-conf": {cluster.AzureFacts{CloudConf: &peerpods.CloudConf{SubscriptionID: fakeazure.Sub, Location: "westeurope"}}, "cannot check: cloud-conf has no resourceGroup, vnetName, subnetName, securityGroupName", true},
		"no-sizes":  {cluster.AzureFacts{CloudConf: cloudConf}, "cannot check: no instance sizes: run in a fork", true},
		"bad-limit": {cluster.AzureFacts{CloudConf: cloudConf, PeerPods: map[string]string{"AZURE_INSTANCE_SIZE": "Standard_DC2as_v5", "PEERPODS_LIMIT_PER_NODE": "ten"}}, `peer-pods-cm PEERPODS_LIMIT_PER_NODE: "ten" is not a positive number`, false},
	} {
		_, err := project.AzureCheck(context.Background(), project.AzureOptions{Facts: &tc.facts, Clients: clients})
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, project.ErrCannotCheck) != tc.cannotCheck {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(c.Writes) != 0 {
		t.Errorf("the check wrote %v", c.Writes)
	}
}

// The egress Job's form: the subnet and region come as flags from cmp-plugin's render, and the
// NAT gateway is tagged with the pattern given.
func TestAzureEgressForASubnet(t *testing.T) {
	c := fakeazure.New()
	n, err := azure.SubnetNetwork(fakeazure.Network.SubnetID(), "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	res, err := project.AzureEgress(context.Background(), project.AzureOptions{Network: &n, Pattern: "lab",
		Clients: func(sub string) (*azure.Clients, error) {
			if sub != fakeazure.Sub {
				t.Errorf("clients for subscription %s", sub)
			}
			return c.Clients(t), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, nat := azure.EgressNames("lab", fakeazure.Network.SubnetID())
	if !strings.HasSuffix(res.NATGatewayID, "/natGateways/"+nat) || len(c.Writes) != 3 {
		t.Errorf("%+v, writes %v", res, c.Writes)
	}
	for _, bad := range []struct{ id, loc, want string }{
		{"not-an-id", "westeurope", "--subnet-id: not a subnet resource ID"},
		{"/subscriptions/" + fakeazure.Sub + "/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg", "westeurope", "--subnet-id: not a subnet resource ID"},
		{fakeazure.Network.SubnetID(), "<cluster-provided: cloud-conf location>", "--location: give the cluster's Azure region"},
	} {
		if _, err := azure.SubnetNetwork(bad.id, bad.loc); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %s: %v", bad.id, bad.loc, err)
		}
	}
}

// A fork that pins its subnet is checked on that subnet, the one cmp-plugin gives the pod VMs,
// not on cloud-conf's.
func TestAzureCheckUsesThePinnedSubnet(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pattern-gen.yaml")
	pinned := "/subscriptions/" + fakeazure.Sub + "/resourceGroups/pods-rg/providers/Microsoft.Network/virtualNetworks/pods-vnet/subnets/pods-subnet"
	if err := os.WriteFile(cfg, []byte("apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\ngit:\n  repoURL: "+forkrepo.URL+"\nazure:\n  subnetID: "+pinned+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fork := filepath.Join(dir, "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: cfg, Dir: fork}); err != nil {
		t.Fatal(err)
	}
	c := fakeazure.Ready()
	findings, err := project.AzureCheck(context.Background(), project.AzureOptions{Fork: fork,
		Facts:   &cluster.AzureFacts{CloudConf: cloudConf, Workers: 1},
		Clients: func(string) (*azure.Clients, error) { return c.Clients(t), nil }})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range findings {
		if f.Check == "outbound" {
			found = true
			if f.Subject != "pods-subnet" || !strings.Contains(f.Detail, "subnets/pods-subnet does not exist") {
				t.Errorf("outbound checked on %s: %+v", f.Subject, f)
			}
		}
	}
	if !found {
		t.Errorf("no outbound finding: %+v", findings)
	}
}
