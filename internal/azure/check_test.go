package azure_test

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"

	"github.com/pattern-gen/pattern-gen/internal/azure"
	"github.com/pattern-gen/pattern-gen/internal/testutil/fakeazure"
)

var defaultNeeds = azure.Needs{Sizes: []string{"Standard_DC2as_v5", "Standard_DC4as_v5"}, DefaultSize: "Standard_DC2as_v5", PodVMsPerNode: 10, Workers: 3,
	ImageID:   fakeazure.ImageID,
	VXLANPort: azure.DefaultVXLANPort, ForwarderPort: azure.DefaultForwarderPort}

func check(t *testing.T, c *fakeazure.Cloud, needs azure.Needs) map[string]azure.Finding {
	t.Helper()
	out := map[string]azure.Finding{}
	for _, f := range azure.Check(context.Background(), c.Clients(t), fakeazure.Network, needs) {
		out[f.Check+" "+f.Subject] = f
	}
	if len(c.Writes) != 0 {
		t.Errorf("the check wrote %v", c.Writes)
	}
	return out
}

func TestCheckAllReady(t *testing.T) {
	got := check(t, fakeazure.Ready(), defaultNeeds)
	want := map[string]string{
		"size Standard_DC2as_v5":     "offered in westeurope, zones 1,2,3",
		"size Standard_DC4as_v5":     "offered in westeurope, zones 1,2,3",
		"quota standardDCASv5Family": "92 of 100 vCPUs left; up to 3 worker nodes x 10 pod VMs (PEERPODS_LIMIT_PER_NODE) x 2 vCPUs of Standard_DC2as_v5 = 60",
		"quota Total Regional vCPUs": "310 of 350 vCPUs left",
		"outbound c1-worker-subnet":  "NAT gateway egress",
		"tunnel c1-nsg UDP/4789":     "VXLAN between workers and pod VMs allowed",
		"tunnel c1-nsg TCP/15150":    "agent-protocol-forwarder between workers and pod VMs allowed",
		"image 0.0.1":                "exists",
	}
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d: %+v", len(got), len(want), got)
	}
	for k, detail := range want {
		if f, ok := got[k]; !ok || f.Status != azure.OK || !strings.HasPrefix(f.Detail, detail) {
			t.Errorf("%s: %+v, want ok %q", k, f, detail)
		}
	}
}

func TestCheckFindsEachProblem(t *testing.T) {
	for name, tc := range map[string]struct {
		edit        func(*fakeazure.Cloud, *azure.Needs)
		key, detail string
		status      azure.Status
	}{
		"size-not-offered": {func(c *fakeazure.Cloud, n *azure.Needs) { n.Sizes = append(n.Sizes, "Standard_DC8es_v5") },
			"size Standard_DC8es_v5", "not offered in westeurope", azure.Problem},
		"size-restricted": {func(c *fakeazure.Cloud, n *azure.Needs) {
			c.SKUs[1].Restrictions = []*armcompute.ResourceSKURestrictions{{Type: to.Ptr(armcompute.ResourceSKURestrictionsTypeLocation), ReasonCode: to.Ptr(armcompute.ResourceSKURestrictionsReasonCodeNotAvailableForSubscription)}}
		}, "size Standard_DC4as_v5", "offered in westeurope but not to this subscription (NotAvailableForSubscription)", azure.Problem},
		"zone-restricted": {func(c *fakeazure.Cloud, n *azure.Needs) {
			c.SKUs[0].Restrictions = []*armcompute.ResourceSKURestrictions{{Type: to.Ptr(armcompute.ResourceSKURestrictionsTypeZone), RestrictionInfo: &armcompute.ResourceSKURestrictionInfo{Zones: []*string{to.Ptr("2")}}}}
		}, "size Standard_DC2as_v5", "offered in westeurope, zones 1,3", azure.OK},
		"quota-short": {func(c *fakeazure.Cloud, n *azure.Needs) { c.Usage[0].Limit = to.Ptr[int64](24) },
			"quota standardDCASv5Family", "16 of 24 vCPUs left", azure.Problem},
		"no-nat": {func(c *fakeazure.Cloud, n *azure.Needs) {
			s := c.Subnets[fakeazure.Network.SubnetID()]
			s.Properties.NatGateway = nil
			c.Subnets[fakeazure.Network.SubnetID()] = s
		}, "outbound c1-worker-subnet", "no NAT gateway: pod VMs cannot reach the KBS or image registries", azure.Problem},
		"vxlan-denied": {func(c *fakeazure.Cloud, n *azure.Needs) {
			addRules(c, fakeazure.Rule("deny-udp", 200, "Inbound", "Deny", "Udp", "10.0.0.0/16", "4000-5000"))
		}, "tunnel c1-nsg UDP/4789", "inbound rule deny-udp (priority 200) denies VXLAN UDP/4789 within the worker subnet", azure.Problem},
		"vxlan-allowed-first": {func(c *fakeazure.Cloud, n *azure.Needs) {
			addRules(c, fakeazure.Rule("deny-udp", 200, "Inbound", "Deny", "Udp", "*", "*"), fakeazure.Rule("allow-vxlan", 150, "Inbound", "Allow", "Udp", "VirtualNetwork", "4789"))
		}, "tunnel c1-nsg UDP/4789", "VXLAN between workers and pod VMs allowed", azure.OK},
		"forwarder-denied-outbound": {func(c *fakeazure.Cloud, n *azure.Needs) {
			addRules(c, fakeazure.Rule("no-tcp-out", 300, "Outbound", "Deny", "Tcp", "*", "*"))
		}, "tunnel c1-nsg TCP/15150", "outbound rule no-tcp-out (priority 300) denies", azure.Problem},
		"other-subnet-deny-ignored": {func(c *fakeazure.Cloud, n *azure.Needs) {
			addRules(c, fakeazure.Rule("deny-elsewhere", 200, "Inbound", "Deny", "Udp", "192.168.0.0/24", "*"))
		}, "tunnel c1-nsg UDP/4789", "VXLAN between workers and pod VMs allowed", azure.OK},
		// Pod VMs may get any address of the subnet: a deny on part of it is a problem.
		"deny-part-of-the-subnet": {func(c *fakeazure.Cloud, n *azure.Needs) {
			addRules(c, fakeazure.Rule("deny-half", 200, "Inbound", "Deny", "Udp", "10.0.128.0/18", "4789"))
		}, "tunnel c1-nsg UDP/4789", "inbound rule deny-half (priority 200) denies", azure.Problem},
		"deny-second-prefix": {func(c *fakeazure.Cloud, n *azure.Needs) {
			s := c.Subnets[fakeazure.Network.SubnetID()]
			s.Properties.AddressPrefixes = []*string{to.Ptr("10.1.0.0/24")}
			c.Subnets[fakeazure.Network.SubnetID()] = s
			addRules(c, fakeazure.Rule("deny-b", 200, "Outbound", "Deny", "Tcp", "10.1.0.0/24", "15150"))
		}, "tunnel c1-nsg TCP/15150", "outbound rule deny-b (priority 200) denies", azure.Problem},
		// An allow decides only when it covers the whole subnet: two halves together do.
		"allow-in-two-halves": {func(c *fakeazure.Cloud, n *azure.Needs) {
			allow := fakeazure.Rule("allow-halves", 100, "Inbound", "Allow", "Udp", "10.0.128.0/18", "4789")
			allow.Properties.SourceAddressPrefix, allow.Properties.SourceAddressPrefixes = nil, []*string{to.Ptr("10.0.128.0/18"), to.Ptr("10.0.192.0/18")}
			allow.Properties.DestinationAddressPrefix = to.Ptr("10.0.128.0/17")
			addRules(c, allow, fakeazure.Rule("deny-udp", 200, "Inbound", "Deny", "Udp", "*", "*"))
		}, "tunnel c1-nsg UDP/4789", "VXLAN between workers and pod VMs allowed", azure.OK},
		// VXLAN's source ports are ephemeral: an allow for source port 4789 only does not let it through.
		"allow-one-source-port": {func(c *fakeazure.Cloud, n *azure.Needs) {
			allow := fakeazure.Rule("allow-sport", 100, "Inbound", "Allow", "Udp", "VirtualNetwork", "4789")
			allow.Properties.SourcePortRange = to.Ptr("4789")
			addRules(c, allow, fakeazure.Rule("deny-udp", 200, "Inbound", "Deny", "Udp", "*", "*"))
		}, "tunnel c1-nsg UDP/4789", "inbound rule deny-udp (priority 200) denies", azure.Problem},
		"deny-dns-source-port-only": {func(c *fakeazure.Cloud, n *azure.Needs) {
			deny := fakeazure.Rule("deny-from-53", 100, "Inbound", "Deny", "Udp", "*", "*")
			deny.Properties.SourcePortRange = to.Ptr("53")
			addRules(c, deny)
		}, "tunnel c1-nsg UDP/4789", "VXLAN between workers and pod VMs allowed", azure.OK},
		"application-security-group": {func(c *fakeazure.Cloud, n *azure.Needs) {
			deny := fakeazure.Rule("deny-asg", 100, "Inbound", "Deny", "Udp", "*", "*")
			deny.Properties.SourceAddressPrefix, deny.Properties.SourceApplicationSecurityGroups = nil, []*armnetwork.ApplicationSecurityGroup{{ID: to.Ptr("/subscriptions/x/resourceGroups/r/providers/Microsoft.Network/applicationSecurityGroups/a")}}
			addRules(c, deny)
		}, "tunnel c1-nsg UDP/4789", "inbound rule deny-asg (priority 100) names application security groups", azure.Unknown},
		"image-missing": {func(c *fakeazure.Cloud, n *azure.Needs) { n.ImageID = strings.Replace(n.ImageID, "0.0.1", "0.0.2", 1) },
			"image 0.0.2", "names an image that does not exist", azure.Problem},
		"image-unknown": {func(c *fakeazure.Cloud, n *azure.Needs) { n.ImageID = "" },
			"image AZURE_IMAGE_ID", "not known yet", azure.Unknown},
		"skus-forbidden": {func(c *fakeazure.Cloud, n *azure.Needs) { c.Forbid = "skus" },
			"sizes westeurope", "list VM sizes: the Azure credentials lack a permission (AuthorizationFailed, HTTP 403)", azure.Unknown},
	} {
		t.Run(name, func(t *testing.T) {
			c, needs := fakeazure.Ready(), defaultNeeds
			needs.Sizes = append([]string(nil), needs.Sizes...)
			tc.edit(c, &needs)
			got := check(t, c, needs)
			f, ok := got[tc.key]
			if !ok || f.Status != tc.status || !strings.HasPrefix(f.Detail, tc.detail) {
				t.Fatalf("%s: %+v\nwant %s %q; all: %+v", tc.key, f, tc.status, tc.detail, got)
			}
			if tc.status == azure.Problem && !strings.Contains(f.Fix, `README.md "Azure prerequisites"`) {
				t.Errorf("the fix does not point to the README: %q", f.Fix)
			}
		})
	}
}

// addRules appends rules to the workers' NSG of the fake subscription.
func addRules(c *fakeazure.Cloud, rules ...*armnetwork.SecurityRule) {
	nsg := c.NSGs[fakeazure.NSGID(fakeazure.Network.ResourceGroup, fakeazure.Network.SecurityGroupName)]
	nsg.Properties.SecurityRules = append(nsg.Properties.SecurityRules, rules...)
}
