// Package peerpods resolves the Azure settings of peer-pods-cm and builds the initdata that
// points peer pods at the KBS. It is pure: whatever it needs from the cluster (cloud-conf,
// the apps domain, the live peer-pods-cm) is read at the edge and passed in.
package peerpods

import (
	"encoding/json"
	"errors"
	"fmt"
)

// CloudConf is the part of openshift-cloud-controller-manager/cloud-conf (key cloud.conf)
// that peer pods need; the installer writes it for every Azure cluster.
type CloudConf struct {
	SubscriptionID    string `json:"subscriptionId"`
	ResourceGroup     string `json:"resourceGroup"`
	Location          string `json:"location"`
	VnetName          string `json:"vnetName"`
	VnetResourceGroup string `json:"vnetResourceGroup"`
	SubnetName        string `json:"subnetName"`
	SecurityGroupName string `json:"securityGroupName"`
}

// ParseCloudConf decodes the cloud.conf JSON. Credentials in it (aadClientSecret on older
// clusters) are never decoded, so they cannot leak into output or errors.
func ParseCloudConf(data []byte) (*CloudConf, error) {
	var c CloudConf
	if err := json.Unmarshal(data, &c); err != nil {
		// The JSON decoder's message can quote input; report only its position.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("cloud.conf is not valid JSON (at byte %d)", se.Offset)
		}
		return nil, fmt.Errorf("cloud.conf does not have the expected fields")
	}
	return &c, nil
}

// SubnetID is the worker subnet's resource ID; the VNet may live in its own resource group.
func (c *CloudConf) SubnetID() string {
	if c.SubscriptionID == "" || c.VnetName == "" || c.SubnetName == "" {
		return ""
	}
	rg := c.VnetResourceGroup
	if rg == "" {
		rg = c.ResourceGroup
	}
	if rg == "" {
		return ""
	}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/%s/subnets/%s", c.SubscriptionID, rg, c.VnetName, c.SubnetName)
}

// NSGID is the cluster network security group's resource ID (always in the cluster RG).
func (c *CloudConf) NSGID() string {
	if c.SubscriptionID == "" || c.ResourceGroup == "" || c.SecurityGroupName == "" {
		return ""
	}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/networkSecurityGroups/%s", c.SubscriptionID, c.ResourceGroup, c.SecurityGroupName)
}
