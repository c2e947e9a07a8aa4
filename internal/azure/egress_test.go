package azure_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"

	"github.com/pattern-gen/pattern-gen/internal/azure"
	"github.com/pattern-gen/pattern-gen/internal/testutil/fakeazure"
)

// ipName and natName are what EnsureEgress names the pattern's resources for the fake subnet.
var ipName, natName = azure.EgressNames("coco-pattern", fakeazure.Network.SubnetID())

func ensure(t *testing.T, c *fakeazure.Cloud) (*azure.EgressResult, error) {
	t.Helper()
	return azure.EnsureEgress(context.Background(), c.Clients(t), fakeazure.Network, azure.EgressOptions{Pattern: "coco-pattern"})
}

func TestEgressCreatesNATAndKeepsTheSubnet(t *testing.T) {
	c := fakeazure.New()
	res, err := ensure(t, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"public IP " + ipName, "NAT gateway " + natName, "subnet c1-worker-subnet"}
	if !slices.Equal(c.Writes, want) || !slices.Equal(res.Changed, []string{want[0], want[1], "subnet c1-worker-subnet: NAT gateway " + natName}) {
		t.Errorf("writes %v, changed %v", c.Writes, res.Changed)
	}
	s := c.Subnets[fakeazure.Network.SubnetID()]
	if s.Properties.NatGateway == nil || *s.Properties.NatGateway.ID != res.NATGatewayID {
		t.Errorf("subnet NAT gateway %+v, want %s", s.Properties.NatGateway, res.NATGatewayID)
	}
	// The PUT carried the subnet as it was: its NSG and prefix are still there.
	if s.Properties.NetworkSecurityGroup == nil || *s.Properties.AddressPrefix != "10.0.128.0/17" {
		t.Errorf("the subnet lost its properties: %+v", s.Properties)
	}
	nat := c.NATs[res.NATGatewayID]
	if *nat.Properties.IdleTimeoutInMinutes != 10 || *nat.Tags[azure.TagPattern] != "coco-pattern" || *nat.Location != "westeurope" {
		t.Errorf("NAT gateway %+v", nat)
	}
	// Run again: nothing changes, nothing is duplicated.
	c.Writes = nil
	again, err := ensure(t, c)
	if err != nil || !again.Existing || len(c.Writes) != 0 || again.NATGatewayID != res.NATGatewayID {
		t.Errorf("second run: %+v, %v, writes %v", again, err, c.Writes)
	}
}

func TestEgressLeavesAnExistingNATAlone(t *testing.T) {
	c := fakeazure.New()
	s := c.Subnets[fakeazure.Network.SubnetID()]
	s.Properties.NatGateway = &armnetwork.SubResource{ID: to.Ptr(fakeazure.ResourceID("net-rg", "natGateways", "fakeazure.Network-team-nat"))}
	c.Subnets[fakeazure.Network.SubnetID()] = s
	res, err := ensure(t, c)
	if err != nil || !res.Existing || len(c.Writes) != 0 || !strings.HasSuffix(res.NATGatewayID, "/fakeazure.Network-team-nat") {
		t.Errorf("%+v, %v, writes %v", res, err, c.Writes)
	}
}

// A run that stopped half-way (the NAT gateway failed after the IP was made) is completed by the
// next one, with the same IP and no second one.
func TestEgressCompletesAHalfCreatedRun(t *testing.T) {
	c := fakeazure.New()
	c.Fail["nat.put"] = []int{http.StatusInternalServerError}
	if _, err := ensure(t, c); err == nil || !strings.Contains(err.Error(), "create NAT gateway "+natName+": Azure answered InternalServerError (HTTP 500)") {
		t.Fatalf("first run: %v", err)
	}
	if len(c.IPs) != 1 || len(c.NATs) != 0 {
		t.Fatalf("after the failure: %d IPs, %d NAT gateways", len(c.IPs), len(c.NATs))
	}
	c.Writes = nil
	res, err := ensure(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IPs) != 1 || len(c.NATs) != 1 || !slices.Equal(c.Writes, []string{"NAT gateway " + natName, "subnet c1-worker-subnet"}) {
		t.Errorf("second run wrote %v; %d IPs, %d NAT gateways; %+v", c.Writes, len(c.IPs), len(c.NATs), res)
	}
}

// Azure throttles (429): the SDK's retry policy retries, and the run completes.
func TestEgressRetriesWhenThrottled(t *testing.T) {
	c := fakeazure.New()
	c.Throttle["GET subnets"], c.Throttle["PUT subnets"] = 2, 1
	if _, err := ensure(t, c); err != nil {
		t.Fatal(err)
	}
	// The subnet is read twice (before the creations and again before its write).
	if c.Calls["throttled GET subnets"] != 2 || c.Calls["throttled PUT subnets"] != 1 || c.Calls["subnet.get"] != 2 || c.Calls["subnet.put"] != 1 {
		t.Errorf("calls %v: want each throttled request retried until it reached Azure once", c.Calls)
	}
}

func TestEgressRefusals(t *testing.T) {
	t.Run("missing-permission", func(t *testing.T) {
		c := fakeazure.New()
		c.Fail["ip.put"] = []int{http.StatusForbidden}
		_, err := ensure(t, c)
		if err == nil || !strings.Contains(err.Error(), "create public IP "+ipName+": the Azure credentials lack a permission (AuthorizationFailed, HTTP 403)") || len(c.IPs) != 0 {
			t.Errorf("%v, %d IPs", err, len(c.IPs))
		}
	})
	t.Run("no-such-subnet", func(t *testing.T) {
		c := fakeazure.New()
		n := fakeazure.Network
		n.SubnetName = "typo-subnet"
		_, err := azure.EnsureEgress(context.Background(), c.Clients(t), n, azure.EgressOptions{Pattern: "coco-pattern"})
		if err == nil || !strings.Contains(err.Error(), "subnets/typo-subnet does not exist: check subnetName and vnetName in cloud-conf") || len(c.Writes) != 0 {
			t.Errorf("%v, writes %v", err, c.Writes)
		}
	})
	t.Run("someone-elses-ip", func(t *testing.T) {
		c := fakeazure.New()
		id := fakeazure.ResourceID("net-rg", "publicIPAddresses", ipName)
		c.IPs[id] = armnetwork.PublicIPAddress{ID: to.Ptr(id), Location: to.Ptr("westeurope"), SKU: &armnetwork.PublicIPAddressSKU{Name: to.Ptr(armnetwork.PublicIPAddressSKUNameStandard)}}
		_, err := ensure(t, c)
		if err == nil || !strings.Contains(err.Error(), "public IP "+ipName+" in resource group net-rg exists and is not this pattern's") || len(c.Writes) != 0 {
			t.Errorf("%v, writes %v", err, c.Writes)
		}
	})
}

// Someone attaches a NAT gateway while the pattern's are being made: the subnet is read again
// before its write, and theirs stays.
func TestEgressLeavesANATAttachedMeanwhile(t *testing.T) {
	c := fakeazure.New()
	theirs := fakeazure.ResourceID("net-rg", "natGateways", "network-team-nat")
	c.AfterPut = func(what string) {
		if what == "NAT gateway "+natName {
			s := c.Subnets[fakeazure.Network.SubnetID()]
			s.Properties.NatGateway = &armnetwork.SubResource{ID: to.Ptr(theirs)}
			c.Subnets[fakeazure.Network.SubnetID()] = s
		}
	}
	res, err := ensure(t, c)
	if err != nil || !res.Existing || res.NATGatewayID != theirs || slices.Contains(c.Writes, "subnet c1-worker-subnet") {
		t.Errorf("%+v, %v, writes %v", res, err, c.Writes)
	}
}

// A NAT gateway of the pattern's in another region (a cluster moved, a resource group shared)
// cannot serve the subnet: refused with what to do, nothing written.
func TestEgressRefusesAnotherRegion(t *testing.T) {
	c := fakeazure.New()
	if _, err := ensure(t, c); err != nil {
		t.Fatal(err)
	}
	s := c.Subnets[fakeazure.Network.SubnetID()]
	s.Properties.NatGateway = nil
	c.Subnets[fakeazure.Network.SubnetID()] = s
	for id, nat := range c.NATs {
		nat.Location = to.Ptr("eastus")
		c.NATs[id] = nat
	}
	for id, ip := range c.IPs {
		ip.Location = to.Ptr("eastus")
		c.IPs[id] = ip
	}
	c.Writes = nil
	_, err := ensure(t, c)
	if err == nil || !strings.Contains(err.Error(), "is in eastus, the subnet in westeurope; Azure attaches only a NAT gateway of the subnet's region") || len(c.Writes) != 0 {
		t.Errorf("%v, writes %v", err, c.Writes)
	}
}
