// Package fakeazure is a subscription served by the Azure SDK's own fake servers (the fake
// packages of armnetwork and armcompute): the one fake allowed here, at the Azure edge. It keeps
// resources by ID and holds writes to the Azure rules that matter to pattern-gen.
package fakeazure

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	computefake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"
	netfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8/fake"

	"github.com/pattern-gen/pattern-gen/internal/azure"
)

// Cloud is a subscription as the Azure SDK's fake servers serve it: the one fake allowed, at the
// Azure edge. It keeps resources by ID and holds writes to Azure's rules that matter here: a
// NAT gateway needs a Standard public IP in its region, a subnet's NAT gateway must exist, and a
// subnet PUT replaces the whole subnet. Fail injects errors per operation, in order.
type Cloud struct {
	mu      sync.Mutex
	Subnets map[string]armnetwork.Subnet
	IPs     map[string]armnetwork.PublicIPAddress
	NATs    map[string]armnetwork.NatGateway
	NSGs    map[string]armnetwork.SecurityGroup
	SKUs    []*armcompute.ResourceSKU
	Usage   []*armcompute.Usage
	Images  map[string]bool // gallery image version and managed image IDs
	Fail    map[string][]int
	// Throttle answers this many requests per "METHOD kind" (kind: the resource type in the
	// path, such as subnets) with 429 and Retry-After before they reach the fake servers, as
	// Azure Resource Manager throttles: the fakes' own errors are final, never retried.
	Throttle map[string]int
	Calls    map[string]int
	Forbid   string // "skus": listing sizes answers 403, as for credentials without Reader
	Writes   []string
	// AfterPut runs after each successful write, with what was written (as in Writes), so a
	// test can change the subscription between two of EnsureEgress's steps.
	AfterPut func(what string)
}

// Sub is the fake subscription.
const Sub = "11111111-2222-3333-4444-555555555555"

// Network is the cluster network the fake subscription holds: its worker subnet exists.
var Network = azure.Network{SubscriptionID: Sub, Location: "westeurope", ResourceGroup: "c1-rg", VnetResourceGroup: "net-rg",
	VnetName: "c1-vnet", SubnetName: "c1-worker-subnet", SecurityGroupName: "c1-nsg"}

func New() *Cloud {
	c := &Cloud{Subnets: map[string]armnetwork.Subnet{}, IPs: map[string]armnetwork.PublicIPAddress{}, NATs: map[string]armnetwork.NatGateway{},
		NSGs: map[string]armnetwork.SecurityGroup{}, Images: map[string]bool{}, Fail: map[string][]int{}, Throttle: map[string]int{}, Calls: map[string]int{}}
	c.Subnets[Network.SubnetID()] = armnetwork.Subnet{ID: to.Ptr(Network.SubnetID()), Name: to.Ptr(Network.SubnetName), Properties: &armnetwork.SubnetPropertiesFormat{
		AddressPrefix:        to.Ptr("10.0.128.0/17"),
		NetworkSecurityGroup: &armnetwork.SecurityGroup{ID: to.Ptr(NSGID(Network.ResourceGroup, Network.SecurityGroupName))},
	}}
	return c
}

// ResourceID is the ID of a network resource in the fake subscription.
func ResourceID(rg, kind, name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/%s/%s", Sub, rg, kind, name)
}

// NSGID is the ID of a network security group in the fake subscription.
func NSGID(rg, name string) string { return ResourceID(rg, "networkSecurityGroups", name) }

// failing reports the HTTP status to fail op with on this call, or 0.
func (c *Cloud) failing(op string) int {
	c.Calls[op]++
	if q := c.Fail[op]; len(q) > 0 {
		c.Fail[op] = q[1:]
		return q[0]
	}
	return 0
}

// Clients are real SDK clients whose requests this subscription serves.
func (c *Cloud) Clients(t testing.TB) *azure.Clients {
	t.Helper()
	nf := netfake.ServerFactory{
		SubnetsServer: netfake.SubnetsServer{
			Get: func(_ context.Context, rg, vnet, name string, _ *armnetwork.SubnetsClientGetOptions) (resp azfake.Responder[armnetwork.SubnetsClientGetResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				if code := c.failing("subnet.get"); code != 0 {
					er.SetResponseError(code, codeFor(code))
					return
				}
				s, ok := c.Subnets[fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/%s/subnets/%s", Sub, rg, vnet, name)]
				if !ok {
					er.SetResponseError(http.StatusNotFound, "NotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armnetwork.SubnetsClientGetResponse{Subnet: s}, nil)
				return
			},
			BeginCreateOrUpdate: func(_ context.Context, rg, vnet, name string, s armnetwork.Subnet, _ *armnetwork.SubnetsClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armnetwork.SubnetsClientCreateOrUpdateResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				if code := c.failing("subnet.put"); code != 0 {
					er.SetResponseError(code, codeFor(code))
					return
				}
				if p := s.Properties; p != nil && p.NatGateway != nil {
					if _, ok := c.NATs[*p.NatGateway.ID]; !ok {
						er.SetResponseError(http.StatusBadRequest, "InvalidResourceReference")
						return
					}
				}
				id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/%s/subnets/%s", Sub, rg, vnet, name)
				c.Subnets[id] = s
				c.Writes = append(c.Writes, "subnet "+name)
				if c.AfterPut != nil {
					c.AfterPut("subnet " + name)
				}
				resp.AddNonTerminalResponse(http.StatusCreated, nil)
				resp.SetTerminalResponse(http.StatusOK, armnetwork.SubnetsClientCreateOrUpdateResponse{Subnet: s}, nil)
				return
			},
		},
		PublicIPAddressesServer: netfake.PublicIPAddressesServer{
			Get: func(_ context.Context, rg, name string, _ *armnetwork.PublicIPAddressesClientGetOptions) (resp azfake.Responder[armnetwork.PublicIPAddressesClientGetResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				ip, ok := c.IPs[ResourceID(rg, "publicIPAddresses", name)]
				if !ok {
					er.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armnetwork.PublicIPAddressesClientGetResponse{PublicIPAddress: ip}, nil)
				return
			},
			BeginCreateOrUpdate: func(_ context.Context, rg, name string, ip armnetwork.PublicIPAddress, _ *armnetwork.PublicIPAddressesClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armnetwork.PublicIPAddressesClientCreateOrUpdateResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				if code := c.failing("ip.put"); code != 0 {
					er.SetResponseError(code, codeFor(code))
					return
				}
				ip.ID, ip.Name = to.Ptr(ResourceID(rg, "publicIPAddresses", name)), to.Ptr(name)
				c.IPs[*ip.ID] = ip
				c.Writes = append(c.Writes, "public IP "+name)
				if c.AfterPut != nil {
					c.AfterPut("public IP " + name)
				}
				resp.SetTerminalResponse(http.StatusOK, armnetwork.PublicIPAddressesClientCreateOrUpdateResponse{PublicIPAddress: ip}, nil)
				return
			},
		},
		NatGatewaysServer: netfake.NatGatewaysServer{
			Get: func(_ context.Context, rg, name string, _ *armnetwork.NatGatewaysClientGetOptions) (resp azfake.Responder[armnetwork.NatGatewaysClientGetResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				nat, ok := c.NATs[ResourceID(rg, "natGateways", name)]
				if !ok {
					er.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armnetwork.NatGatewaysClientGetResponse{NatGateway: nat}, nil)
				return
			},
			BeginCreateOrUpdate: func(_ context.Context, rg, name string, nat armnetwork.NatGateway, _ *armnetwork.NatGatewaysClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armnetwork.NatGatewaysClientCreateOrUpdateResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				if code := c.failing("nat.put"); code != 0 {
					er.SetResponseError(code, codeFor(code))
					return
				}
				// Azure's rule: the NAT gateway's public IPs exist, are Standard and in its region.
				for _, ref := range nat.Properties.PublicIPAddresses {
					ip, ok := c.IPs[*ref.ID]
					if !ok || *ip.SKU.Name != armnetwork.PublicIPAddressSKUNameStandard || *ip.Location != *nat.Location {
						er.SetResponseError(http.StatusBadRequest, "NatGatewayPublicIpAddressInvalid")
						return
					}
				}
				nat.ID, nat.Name = to.Ptr(ResourceID(rg, "natGateways", name)), to.Ptr(name)
				c.NATs[*nat.ID] = nat
				c.Writes = append(c.Writes, "NAT gateway "+name)
				if c.AfterPut != nil {
					c.AfterPut("NAT gateway " + name)
				}
				resp.SetTerminalResponse(http.StatusOK, armnetwork.NatGatewaysClientCreateOrUpdateResponse{NatGateway: nat}, nil)
				return
			},
		},
		SecurityGroupsServer: netfake.SecurityGroupsServer{
			Get: func(_ context.Context, rg, name string, _ *armnetwork.SecurityGroupsClientGetOptions) (resp azfake.Responder[armnetwork.SecurityGroupsClientGetResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				nsg, ok := c.NSGs[NSGID(rg, name)]
				if !ok {
					er.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armnetwork.SecurityGroupsClientGetResponse{SecurityGroup: nsg}, nil)
				return
			},
		},
	}
	cf := computefake.ServerFactory{
		ResourceSKUsServer: computefake.ResourceSKUsServer{
			NewListPager: func(o *armcompute.ResourceSKUsClientListOptions) (resp azfake.PagerResponder[armcompute.ResourceSKUsClientListResponse]) {
				c.mu.Lock()
				defer c.mu.Unlock()
				if c.Forbid == "skus" {
					resp.AddResponseError(http.StatusForbidden, "AuthorizationFailed")
					return
				}
				var page []*armcompute.ResourceSKU
				for _, s := range c.SKUs {
					if o != nil && o.Filter != nil && !strings.Contains(*o.Filter, "'"+*s.Locations[0]+"'") {
						continue
					}
					page = append(page, s)
				}
				half := len(page) / 2 // two pages, as Azure pages long lists
				resp.AddPage(http.StatusOK, armcompute.ResourceSKUsClientListResponse{ResourceSKUsResult: armcompute.ResourceSKUsResult{Value: page[:half]}}, nil)
				resp.AddPage(http.StatusOK, armcompute.ResourceSKUsClientListResponse{ResourceSKUsResult: armcompute.ResourceSKUsResult{Value: page[half:]}}, nil)
				return
			},
		},
		UsageServer: computefake.UsageServer{
			NewListPager: func(location string, _ *armcompute.UsageClientListOptions) (resp azfake.PagerResponder[armcompute.UsageClientListResponse]) {
				c.mu.Lock()
				defer c.mu.Unlock()
				resp.AddPage(http.StatusOK, armcompute.UsageClientListResponse{ListUsagesResult: armcompute.ListUsagesResult{Value: c.Usage}}, nil)
				return
			},
		},
		GalleryImageVersionsServer: computefake.GalleryImageVersionsServer{
			Get: func(_ context.Context, rg, gallery, image, version string, _ *armcompute.GalleryImageVersionsClientGetOptions) (resp azfake.Responder[armcompute.GalleryImageVersionsClientGetResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s/versions/%s", Sub, rg, gallery, image, version)
				if !c.Images[id] {
					er.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armcompute.GalleryImageVersionsClientGetResponse{GalleryImageVersion: armcompute.GalleryImageVersion{ID: to.Ptr(id)}}, nil)
				return
			},
		},
		ImagesServer: computefake.ImagesServer{
			Get: func(_ context.Context, rg, name string, _ *armcompute.ImagesClientGetOptions) (resp azfake.Responder[armcompute.ImagesClientGetResponse], er azfake.ErrorResponder) {
				c.mu.Lock()
				defer c.mu.Unlock()
				id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/images/%s", Sub, rg, name)
				if !c.Images[id] {
					er.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armcompute.ImagesClientGetResponse{Image: armcompute.Image{ID: to.Ptr(id)}}, nil)
				return
			},
		},
	}
	netT, cmpT := netfake.NewServerFactoryTransport(&nf), computefake.NewServerFactoryTransport(&cf)
	route := policyTransport(func(req *http.Request) (*http.Response, error) {
		if key := req.Method + " " + kindOf(req.URL.Path); c.takeThrottle(key) {
			return &http.Response{StatusCode: http.StatusTooManyRequests, Status: "429 Too Many Requests", Request: req,
				Header: http.Header{"Retry-After": {"0"}, "Content-Type": {"application/json"}},
				Body:   io.NopCloser(strings.NewReader(`{"error":{"code":"TooManyRequests","message":"throttled"}}`))}, nil
		}
		if strings.Contains(req.URL.Path, "/providers/Microsoft.Compute/") {
			return cmpT.Do(req)
		}
		return netT.Do(req)
	})
	opts := &arm.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: route,
		// The SDK's own retry policy, with short delays so a throttled call is retried quickly.
		Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond},
	}}
	cl, err := azure.NewClients(Sub, &azfake.TokenCredential{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// kindOf is the resource type a request path addresses: the segment before its last name.
func kindOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 {
		return path
	}
	return parts[len(parts)-2]
}

func (c *Cloud) takeThrottle(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Throttle[key] > 0 {
		c.Throttle[key]--
		c.Calls["throttled "+key]++
		return true
	}
	return false
}

type policyTransport func(*http.Request) (*http.Response, error)

func (f policyTransport) Do(req *http.Request) (*http.Response, error) { return f(req) }

func codeFor(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusForbidden:
		return "AuthorizationFailed"
	}
	return "InternalServerError"
}

// Ready is a subscription where everything the default pattern needs is in place: the sizes
// Standard_DC2as_v5 and Standard_DC4as_v5 in westeurope, quota, a NAT gateway on the worker
// subnet, an NSG with its default rules, and the pod VM image ImageID.
func Ready() *Cloud {
	c := New()
	s := c.Subnets[Network.SubnetID()]
	s.Properties.NatGateway = &armnetwork.SubResource{ID: to.Ptr(ResourceID("net-rg", "natGateways", "egress"))}
	c.Subnets[Network.SubnetID()] = s
	sku := func(name, family string, vcpus int, restrictions ...*armcompute.ResourceSKURestrictions) *armcompute.ResourceSKU {
		return &armcompute.ResourceSKU{Name: to.Ptr(name), ResourceType: to.Ptr("virtualMachines"), Family: to.Ptr(family), Locations: []*string{to.Ptr("westeurope")},
			LocationInfo: []*armcompute.ResourceSKULocationInfo{{Location: to.Ptr("westeurope"), Zones: []*string{to.Ptr("3"), to.Ptr("1"), to.Ptr("2")}}},
			Capabilities: []*armcompute.ResourceSKUCapabilities{{Name: to.Ptr("vCPUs"), Value: to.Ptr(fmt.Sprint(vcpus))}}, Restrictions: restrictions}
	}
	c.SKUs = []*armcompute.ResourceSKU{
		sku("Standard_DC2as_v5", "standardDCASv5Family", 2), sku("Standard_DC4as_v5", "standardDCASv5Family", 4),
		sku("Standard_D2s_v5", "standardDSv5Family", 2),
		{Name: to.Ptr("Standard_DC2as_v5"), ResourceType: to.Ptr("disks"), Locations: []*string{to.Ptr("westeurope")}},
		sku("Standard_DC2as_v5", "standardDCASv5Family", 2), // another region's entry
	}
	c.SKUs[len(c.SKUs)-1].Locations = []*string{to.Ptr("eastus")}
	c.Usage = []*armcompute.Usage{
		{Name: &armcompute.UsageName{Value: to.Ptr("standardDCASv5Family")}, CurrentValue: to.Ptr[int32](8), Limit: to.Ptr[int64](100)},
		{Name: &armcompute.UsageName{Value: to.Ptr("cores")}, CurrentValue: to.Ptr[int32](40), Limit: to.Ptr[int64](350)},
	}
	c.NSGs[NSGID(Network.ResourceGroup, Network.SecurityGroupName)] = armnetwork.SecurityGroup{Name: to.Ptr(Network.SecurityGroupName), Properties: &armnetwork.SecurityGroupPropertiesFormat{
		SecurityRules:        []*armnetwork.SecurityRule{Rule("apiserver_in", 101, "Inbound", "Allow", "Tcp", "Internet", "6443")},
		DefaultSecurityRules: DefaultRules(),
	}}
	c.Images[ImageID] = true
	return c
}

// DefaultRules are the rules Azure puts in every NSG (learn.microsoft.com, "Network security
// groups", default security rules).
func DefaultRules() []*armnetwork.SecurityRule {
	return []*armnetwork.SecurityRule{
		Rule("AllowVnetInBound", 65000, "Inbound", "Allow", "*", "VirtualNetwork", "*"),
		Rule("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "*", "AzureLoadBalancer", "*"),
		Rule("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*", "*"),
		Rule("AllowVnetOutBound", 65000, "Outbound", "Allow", "*", "VirtualNetwork", "*"),
		Rule("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "*", "*"),
		Rule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*", "*"),
	}
}

// Rule is an NSG rule from src to dst (VirtualNetwork when src is, else any) on port.
func Rule(name string, prio int32, dir, access, proto, src, port string) *armnetwork.SecurityRule {
	dst := "*"
	if src == "VirtualNetwork" {
		dst = "VirtualNetwork"
	}
	return &armnetwork.SecurityRule{Name: to.Ptr(name), Properties: &armnetwork.SecurityRulePropertiesFormat{
		Priority: to.Ptr(prio), Direction: to.Ptr(armnetwork.SecurityRuleDirection(dir)), Access: to.Ptr(armnetwork.SecurityRuleAccess(access)),
		Protocol: to.Ptr(armnetwork.SecurityRuleProtocol(proto)), SourceAddressPrefix: to.Ptr(src), DestinationAddressPrefix: to.Ptr(dst),
		SourcePortRange: to.Ptr("*"), DestinationPortRange: to.Ptr(port),
	}}
}

// ImageID is the pod VM image Ready holds.
var ImageID = "/subscriptions/" + Sub + "/resourceGroups/c1-rg/providers/Microsoft.Compute/galleries/PodVMGallery/images/podvm-image/versions/0.0.1"
