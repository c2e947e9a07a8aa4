// Package azure reads and changes, with the Azure SDK for Go, the few Azure resources peer pods
// depend on: the worker subnet's outbound path for pod VMs (a NAT gateway, which EnsureEgress
// creates when the subnet has none) and the subscription facts `pattern-gen azure check` reports
// (sizes offered, vCPU quota, the NSG's tunnel ports, the pod VM image). It never runs the az
// command line itself. Tests run the SDK's real clients against its fake servers.
package azure

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"

	"github.com/pattern-gen/pattern-gen/internal/peerpods"
)

// Network is where the cluster's workers, and so its pod VMs, live: from cloud-conf.
type Network struct {
	SubscriptionID    string
	Location          string
	ResourceGroup     string // the cluster's
	VnetResourceGroup string
	VnetName          string
	SubnetName        string // the worker subnet
	SecurityGroupName string // the workers' NSG, in ResourceGroup
}

// NetworkOf takes the network from cloud-conf; every field is required.
func NetworkOf(c *peerpods.CloudConf) (Network, error) {
	if c == nil {
		return Network{}, errors.New("the cluster has no ConfigMap openshift-cloud-controller-manager/cloud-conf: is it an OpenShift cluster on Azure?")
	}
	n := Network{SubscriptionID: c.SubscriptionID, Location: c.Location, ResourceGroup: c.ResourceGroup,
		VnetResourceGroup: c.VnetResourceGroup, VnetName: c.VnetName, SubnetName: c.SubnetName, SecurityGroupName: c.SecurityGroupName}
	if n.VnetResourceGroup == "" {
		n.VnetResourceGroup = n.ResourceGroup // the installer's default
	}
	var missing []string
	for _, f := range []struct{ key, v string }{
		{"subscriptionId", n.SubscriptionID}, {"location", n.Location}, {"resourceGroup", n.ResourceGroup},
		{"vnetName", n.VnetName}, {"subnetName", n.SubnetName}, {"securityGroupName", n.SecurityGroupName},
	} {
		if f.v == "" {
			missing = append(missing, f.key)
		}
	}
	if len(missing) > 0 {
		return Network{}, fmt.Errorf("cloud-conf has no %s", strings.Join(missing, ", "))
	}
	return n, nil
}

// SubnetNetwork is the network of a subnet given by its resource ID and region, for the egress
// Job, which gets them from cmp-plugin rather than from cloud-conf.
func SubnetNetwork(subnetID, location string) (Network, error) {
	id, err := arm.ParseResourceID(subnetID)
	if err != nil || !strings.EqualFold(id.ResourceType.String(), "Microsoft.Network/virtualNetworks/subnets") || id.Parent == nil {
		return Network{}, fmt.Errorf("--subnet-id: not a subnet resource ID; expected /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet> (%d characters given)", len(subnetID))
	}
	if location == "" || strings.ContainsAny(location, "<> /") {
		return Network{}, fmt.Errorf("--location: give the cluster's Azure region, such as westeurope")
	}
	return Network{SubscriptionID: id.SubscriptionID, Location: location, ResourceGroup: id.ResourceGroupName,
		VnetResourceGroup: id.ResourceGroupName, VnetName: id.Parent.Name, SubnetName: id.Name}, nil
}

// SubnetID is the worker subnet's resource ID.
func (n Network) SubnetID() string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/%s/subnets/%s",
		n.SubscriptionID, n.VnetResourceGroup, n.VnetName, n.SubnetName)
}

// Clients are the SDK clients the package uses, for one subscription.
type Clients struct {
	Subnets  *armnetwork.SubnetsClient
	NATs     *armnetwork.NatGatewaysClient
	IPs      *armnetwork.PublicIPAddressesClient
	NSGs     *armnetwork.SecurityGroupsClient
	SKUs     *armcompute.ResourceSKUsClient
	Usage    *armcompute.UsageClient
	Images   *armcompute.ImagesClient
	Versions *armcompute.GalleryImageVersionsClient
}

// NewClients builds the clients; opts carries the transport (the fake servers in tests) and the
// retry policy.
func NewClients(subscription string, cred azcore.TokenCredential, opts *arm.ClientOptions) (*Clients, error) {
	net, err := armnetwork.NewClientFactory(subscription, cred, opts)
	if err != nil {
		return nil, err
	}
	cmp, err := armcompute.NewClientFactory(subscription, cred, opts)
	if err != nil {
		return nil, err
	}
	return &Clients{
		Subnets: net.NewSubnetsClient(), NATs: net.NewNatGatewaysClient(), IPs: net.NewPublicIPAddressesClient(), NSGs: net.NewSecurityGroupsClient(),
		SKUs: cmp.NewResourceSKUsClient(), Usage: cmp.NewUsageClient(), Images: cmp.NewImagesClient(), Versions: cmp.NewGalleryImageVersionsClient(),
	}, nil
}

// notFound says whether err is Azure's 404.
func notFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// explain says what an Azure error means for the user: a missing permission names the action
// and scope Azure reported; everything else keeps Azure's code. Azure's messages name resources
// and principals, never a secret.
func explain(what string, err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case re.ErrorCode == "RequestDisallowedByPolicy":
		return fmt.Errorf("%s: an Azure Policy of the subscription forbids it (RequestDisallowedByPolicy); ask its owner for an exemption, or let your network team own egress (azure.egress: none)", what)
	case re.StatusCode == http.StatusForbidden || re.ErrorCode == "AuthorizationFailed" || re.ErrorCode == "LinkedAuthorizationFailed":
		return fmt.Errorf("%s: the Azure credentials lack a permission (%s, HTTP %d); grant the role in README.md \"Azure prerequisites\"", what, re.ErrorCode, re.StatusCode)
	case re.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s: Azure refused the credentials (HTTP 401); sign in again (az login) or check AZURE_CLIENT_ID/AZURE_TENANT_ID", what)
	}
	return fmt.Errorf("%s: Azure answered %s (HTTP %d)", what, re.ErrorCode, re.StatusCode)
}
