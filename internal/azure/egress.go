package azure

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"
)

// Tags on what EnsureEgress creates: whose it is, so a later run (or a person) can tell it from
// resources someone else owns.
const (
	TagPattern = "pattern-gen.io/pattern"
	TagRole    = "pattern-gen.io/role"
	roleEgress = "peer-pod-egress"
)

// natIdleMinutes is upstream's idle timeout for the pod VMs' NAT gateway.
const natIdleMinutes = 10

// EgressOptions name the pattern whose egress is ensured.
type EgressOptions struct {
	Pattern string
	Logf    func(format string, args ...any)
}

// EgressResult says what the subnet's outbound path is and what this run changed.
type EgressResult struct {
	NATGatewayID string
	Existing     bool     // the subnet already had a NAT gateway: nothing was changed
	Changed      []string // what was created or updated, in order
}

// EgressNames are the names of the pattern's public IP and NAT gateway, in the VNet's resource group: fixed for the
// pattern and subnet, so a run that stopped half-way finds what it made and completes it instead
// of making a second one, and two clusters (spokes) of one pattern sharing a resource group get
// one each (a NAT gateway serves one VNet).
func EgressNames(pattern, subnetID string) (ip, nat string) {
	sum := sha256.Sum256([]byte(strings.ToLower(subnetID)))
	nat = fmt.Sprintf("%s-podvm-egress-%x", pattern, sum[:4])
	return nat + "-ip", nat
}

// EnsureEgress gives the worker subnet an outbound path for pod VMs, which peer pods need to
// reach the KBS and image registries (cloud-api-adaptor creates them in that subnet, outside the
// load balancer that gives the nodes theirs): when the subnet has a NAT gateway, of anyone,
// nothing changes; otherwise a Standard static public IP and a NAT gateway with it are created
// (or completed) and associated with the subnet. It is idempotent and safe to re-run.
func EnsureEgress(ctx context.Context, c *Clients, n Network, o EgressOptions) (*EgressResult, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	subnet, err := c.Subnets.Get(ctx, n.VnetResourceGroup, n.VnetName, n.SubnetName, nil)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("subnet %s does not exist: check subnetName and vnetName in cloud-conf", n.SubnetID())
		}
		return nil, explain("read subnet "+n.SubnetID(), err)
	}
	if p := subnet.Properties; p != nil && p.NatGateway != nil && p.NatGateway.ID != nil {
		logf("subnet %s already has NAT gateway %s; nothing to change", n.SubnetName, *p.NatGateway.ID)
		return &EgressResult{NATGatewayID: *p.NatGateway.ID, Existing: true}, nil
	}
	res := &EgressResult{}
	tags := map[string]*string{TagPattern: to.Ptr(o.Pattern), TagRole: to.Ptr(roleEgress)}
	ipName, natName := EgressNames(o.Pattern, n.SubnetID())
	ip, err := ensureIP(ctx, c, n, ipName, tags, res)
	if err != nil {
		return res, err
	}
	nat, err := ensureNAT(ctx, c, n, natName, *ip.ID, tags, res)
	if err != nil {
		return res, err
	}
	// Read again after the minutes the creations took: someone may have attached a NAT gateway
	// meanwhile. The subnet is written back whole, as read, with only the NAT gateway set (a PUT
	// replaces every property: NSG, route table, service endpoints), and only if it is still the
	// version read (If-Match on its etag).
	if subnet, err = c.Subnets.Get(ctx, n.VnetResourceGroup, n.VnetName, n.SubnetName, nil); err != nil {
		return res, explain("read subnet "+n.SubnetID(), err)
	}
	if p := subnet.Properties; p != nil && p.NatGateway != nil && p.NatGateway.ID != nil {
		logf("subnet %s got NAT gateway %s meanwhile; leaving it", n.SubnetName, *p.NatGateway.ID)
		return &EgressResult{NATGatewayID: *p.NatGateway.ID, Existing: true, Changed: res.Changed}, nil
	}
	if subnet.Properties == nil {
		subnet.Properties = &armnetwork.SubnetPropertiesFormat{}
	}
	subnet.Properties.NatGateway = &armnetwork.SubResource{ID: nat.ID}
	putCtx := ctx
	if subnet.Etag != nil {
		putCtx = runtime.WithHTTPHeader(ctx, http.Header{"If-Match": {*subnet.Etag}})
	}
	poller, err := c.Subnets.BeginCreateOrUpdate(putCtx, n.VnetResourceGroup, n.VnetName, n.SubnetName, subnet.Subnet, nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, nil)
	}
	if err != nil {
		return res, explain("associate NAT gateway "+natName+" with subnet "+n.SubnetID(), err)
	}
	res.NATGatewayID = *nat.ID
	res.Changed = append(res.Changed, "subnet "+n.SubnetName+": NAT gateway "+natName)
	logf("subnet %s now sends outbound traffic through NAT gateway %s", n.SubnetName, natName)
	return res, nil
}

// ensureIP returns the pattern's public IP, creating it when absent. One of that name that is not
// the pattern's is refused rather than taken over.
func ensureIP(ctx context.Context, c *Clients, n Network, name string, tags map[string]*string, res *EgressResult) (*armnetwork.PublicIPAddress, error) {
	got, err := c.IPs.Get(ctx, n.VnetResourceGroup, name, nil)
	switch {
	case err == nil:
		if !ours(got.Tags, tags) {
			return nil, fmt.Errorf("public IP %s in resource group %s exists and is not this pattern's (no tag %s=%s); remove it or let your network team own egress (azure.egress: none)", name, n.VnetResourceGroup, TagPattern, *tags[TagPattern])
		}
		if err := sameRegion("public IP "+name, got.Location, n.Location); err != nil {
			return nil, err
		}
		return &got.PublicIPAddress, nil
	case !notFound(err):
		return nil, explain("read public IP "+name, err)
	}
	poller, err := c.IPs.BeginCreateOrUpdate(ctx, n.VnetResourceGroup, name, armnetwork.PublicIPAddress{
		Location: to.Ptr(n.Location), Tags: tags,
		SKU: &armnetwork.PublicIPAddressSKU{Name: to.Ptr(armnetwork.PublicIPAddressSKUNameStandard), Tier: to.Ptr(armnetwork.PublicIPAddressSKUTierRegional)},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{
			PublicIPAllocationMethod: to.Ptr(armnetwork.IPAllocationMethodStatic),
			PublicIPAddressVersion:   to.Ptr(armnetwork.IPVersionIPv4),
		},
	}, nil)
	if err != nil {
		return nil, explain("create public IP "+name, err)
	}
	done, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		return nil, explain("create public IP "+name, err)
	}
	res.Changed = append(res.Changed, "public IP "+name)
	return &done.PublicIPAddress, nil
}

// ensureNAT returns the pattern's NAT gateway with the public IP ipID, creating it when absent
// and adding the IP when a run stopped before it had.
func ensureNAT(ctx context.Context, c *Clients, n Network, name, ipID string, tags map[string]*string, res *EgressResult) (*armnetwork.NatGateway, error) {
	got, err := c.NATs.Get(ctx, n.VnetResourceGroup, name, nil)
	switch {
	case err == nil:
		if !ours(got.Tags, tags) {
			return nil, fmt.Errorf("NAT gateway %s in resource group %s exists and is not this pattern's (no tag %s=%s); remove it or let your network team own egress (azure.egress: none)", name, n.VnetResourceGroup, TagPattern, *tags[TagPattern])
		}
		if err := sameRegion("NAT gateway "+name, got.Location, n.Location); err != nil {
			return nil, err
		}
		if p := got.Properties; p != nil && hasIP(p.PublicIPAddresses, ipID) {
			return &got.NatGateway, nil
		}
	case !notFound(err):
		return nil, explain("read NAT gateway "+name, err)
	}
	poller, err := c.NATs.BeginCreateOrUpdate(ctx, n.VnetResourceGroup, name, armnetwork.NatGateway{
		Location: to.Ptr(n.Location), Tags: tags,
		SKU: &armnetwork.NatGatewaySKU{Name: to.Ptr(armnetwork.NatGatewaySKUNameStandard)},
		Properties: &armnetwork.NatGatewayPropertiesFormat{
			IdleTimeoutInMinutes: to.Ptr[int32](natIdleMinutes),
			PublicIPAddresses:    []*armnetwork.SubResource{{ID: to.Ptr(ipID)}},
		},
	}, nil)
	if err != nil {
		return nil, explain("create NAT gateway "+name, err)
	}
	done, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		return nil, explain("create NAT gateway "+name, err)
	}
	res.Changed = append(res.Changed, "NAT gateway "+name)
	return &done.NatGateway, nil
}

// sameRegion refuses a resource of the pattern's that is in another region than the subnet.
func sameRegion(what string, have *string, want string) error {
	if have != nil && !strings.EqualFold(strings.ReplaceAll(*have, " ", ""), want) {
		return fmt.Errorf("%s is in %s, the subnet in %s; Azure attaches only a NAT gateway of the subnet's region: delete it and sync again", what, *have, want)
	}
	return nil
}

func ours(have, want map[string]*string) bool {
	for k, v := range want {
		if h, ok := have[k]; !ok || h == nil || *h != *v {
			return false
		}
	}
	return true
}

func hasIP(ips []*armnetwork.SubResource, id string) bool {
	for _, ip := range ips {
		if ip != nil && ip.ID != nil && strings.EqualFold(*ip.ID, id) { // Azure does not keep an ID's case
			return true
		}
	}
	return false
}
