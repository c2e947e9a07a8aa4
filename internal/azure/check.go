package azure

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"
)

// Ports between the workers and the pod VMs (cloud-api-adaptor): the VXLAN tunnel of the pod
// network (pkg/podnetwork/tunneler/vxlan, VXLAN_PORT) and the agent-protocol-forwarder
// (pkg/forwarder, FORWARDER_PORT).
const (
	DefaultVXLANPort     = 4789
	DefaultForwarderPort = 15150
)

// Needs is what the pattern will ask of the subscription.
type Needs struct {
	Sizes         []string // every size pods may ask for (AZURE_INSTANCE_SIZES)
	DefaultSize   string   // AZURE_INSTANCE_SIZE
	PodVMsPerNode int      // PEERPODS_LIMIT_PER_NODE
	Workers       int      // worker nodes that run cloud-api-adaptor
	ImageID       string   // AZURE_IMAGE_ID; "" when not known yet
	VXLANPort     int
	ForwarderPort int
}

// Status of one finding.
type Status string

const (
	OK      Status = "ok"
	Problem Status = "problem"
	Unknown Status = "unknown" // could not be checked
)

// Finding is the result of one check, with what to do when it is a problem.
type Finding struct {
	Check   string `json:"check"`
	Subject string `json:"subject"`
	Status  Status `json:"status"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

// prereqs is where the fixes point: README.md's section on what a subscription needs.
const prereqs = `README.md "Azure prerequisites"`

// Check reads, and never changes, what peer pods need of the subscription and the network:
// each size offered in the region and not restricted, vCPU quota for the pod VMs the nodes may
// run, the worker subnet's outbound path, the NSG letting the tunnel through, and the pod VM
// image. A check that Azure refuses is Unknown, with why; the others still run.
func Check(ctx context.Context, c *Clients, n Network, needs Needs) []Finding {
	var out []Finding
	skus, err := vmSKUs(ctx, c, n.Location)
	if err != nil {
		out = append(out, Finding{Check: "sizes", Subject: n.Location, Status: Unknown, Detail: explain("list VM sizes", err).Error()})
	} else {
		out = append(out, checkSizes(n, needs, skus)...)
		out = append(out, checkQuota(ctx, c, n, needs, skus)...)
	}
	out = append(out, checkSubnet(ctx, c, n, needs)...)
	return append(out, checkImage(ctx, c, n.SubscriptionID, needs))
}

// vmSKUs lists the region's virtual machine sizes by lower-case name.
func vmSKUs(ctx context.Context, c *Clients, location string) (map[string]*armcompute.ResourceSKU, error) {
	out := map[string]*armcompute.ResourceSKU{}
	filter := "location eq '" + location + "'"
	pager := c.SKUs.NewListPager(&armcompute.ResourceSKUsClientListOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Value {
			if s != nil && s.Name != nil && s.ResourceType != nil && *s.ResourceType == "virtualMachines" {
				out[strings.ToLower(*s.Name)] = s
			}
		}
	}
	return out, nil
}

func checkSizes(n Network, needs Needs, skus map[string]*armcompute.ResourceSKU) []Finding {
	var out []Finding
	for _, size := range sizesOf(needs) {
		f := Finding{Check: "size", Subject: size, Status: OK}
		sku := skus[strings.ToLower(size)]
		if sku == nil {
			f.Status, f.Detail = Problem, "not offered in "+n.Location
			f.Fix = "choose confidential sizes offered in " + n.Location + " (azure.instanceSizes in pattern-gen.yaml); see " + prereqs
			out = append(out, f)
			continue
		}
		var restrictedZones []string
		for _, r := range sku.Restrictions {
			if r == nil || r.Type == nil {
				continue
			}
			switch *r.Type {
			case armcompute.ResourceSKURestrictionsTypeLocation:
				f.Status, f.Detail = Problem, "offered in "+n.Location+" but not to this subscription ("+reason(r)+")"
				f.Fix = "ask Azure support to enable " + size + " in " + n.Location + " for the subscription, or choose another size; see " + prereqs
			case armcompute.ResourceSKURestrictionsTypeZone:
				if r.RestrictionInfo != nil {
					for _, z := range r.RestrictionInfo.Zones {
						if z != nil {
							restrictedZones = append(restrictedZones, *z)
						}
					}
				}
			}
		}
		if f.Status == OK {
			zones := zonesOf(sku, restrictedZones)
			f.Detail = "offered in " + n.Location
			if len(zones) > 0 {
				f.Detail += ", zones " + strings.Join(zones, ",")
			}
		}
		out = append(out, f)
	}
	return out
}

// sizesOf lists every size the pattern may use, the default first, once each.
func sizesOf(needs Needs) []string {
	var out []string
	for _, s := range append([]string{needs.DefaultSize}, needs.Sizes...) {
		if s != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
			out = append(out, s)
		}
	}
	return out
}

func reason(r *armcompute.ResourceSKURestrictions) string {
	if r.ReasonCode == nil {
		return "restricted"
	}
	return string(*r.ReasonCode)
}

// zonesOf is the size's zones in the region, without the restricted ones.
func zonesOf(sku *armcompute.ResourceSKU, restricted []string) []string {
	var zones []string
	for _, li := range sku.LocationInfo {
		if li == nil {
			continue
		}
		for _, z := range li.Zones {
			if z != nil && !slices.Contains(restricted, *z) {
				zones = append(zones, *z)
			}
		}
	}
	sort.Strings(zones)
	return zones
}

// checkQuota holds the vCPU quota left against what the pod VMs may take: every node running
// its limit of pod VMs of the default size, in that size's family and in the regional total.
func checkQuota(ctx context.Context, c *Clients, n Network, needs Needs, skus map[string]*armcompute.ResourceSKU) []Finding {
	sku := skus[strings.ToLower(needs.DefaultSize)]
	if sku == nil || sku.Family == nil {
		return nil // reported by checkSizes
	}
	vcpus := capability(sku, "vCPUs")
	if vcpus == 0 || needs.Workers == 0 || needs.PodVMsPerNode == 0 {
		return []Finding{{Check: "quota", Subject: *sku.Family, Status: Unknown, Detail: "cannot tell how many pod VMs may run (worker nodes or PEERPODS_LIMIT_PER_NODE unknown)"}}
	}
	need := int64(vcpus * needs.PodVMsPerNode * needs.Workers)
	usage := map[string]*armcompute.Usage{}
	pager := c.Usage.NewListPager(n.Location, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return []Finding{{Check: "quota", Subject: *sku.Family, Status: Unknown, Detail: explain("read vCPU usage", err).Error()}}
		}
		for _, u := range page.Value {
			if u != nil && u.Name != nil && u.Name.Value != nil {
				usage[strings.ToLower(*u.Name.Value)] = u
			}
		}
	}
	why := fmt.Sprintf("%d worker nodes x %d pod VMs (PEERPODS_LIMIT_PER_NODE) x %d vCPUs of %s = %d", needs.Workers, needs.PodVMsPerNode, vcpus, needs.DefaultSize, need)
	var out []Finding
	for _, family := range []string{*sku.Family, "cores"} {
		f := Finding{Check: "quota", Subject: family, Status: OK}
		if family == "cores" {
			f.Subject = "Total Regional vCPUs"
		}
		u := usage[strings.ToLower(family)]
		if u == nil || u.Limit == nil || u.CurrentValue == nil {
			f.Status, f.Detail = Unknown, "Azure reports no usage for it in "+n.Location
			out = append(out, f)
			continue
		}
		left := *u.Limit - int64(*u.CurrentValue)
		f.Detail = fmt.Sprintf("%d of %d vCPUs left; up to %s", left, *u.Limit, why)
		if left < need {
			f.Status = Problem
			f.Fix = fmt.Sprintf("request a quota increase of %s in %s to at least %d vCPUs, or lower PEERPODS_LIMIT_PER_NODE; see %s", f.Subject, n.Location, int64(*u.CurrentValue)+need, prereqs)
		}
		out = append(out, f)
	}
	return out
}

func capability(sku *armcompute.ResourceSKU, name string) int {
	for _, c := range sku.Capabilities {
		if c != nil && c.Name != nil && *c.Name == name && c.Value != nil {
			v, _ := strconv.Atoi(*c.Value)
			return v
		}
	}
	return 0
}

// checkSubnet reports the worker subnet's outbound path and whether its NSG lets the tunnel
// between the workers and the pod VMs (both in that subnet) through, in both directions.
func checkSubnet(ctx context.Context, c *Clients, n Network, needs Needs) []Finding {
	subnet, err := c.Subnets.Get(ctx, n.VnetResourceGroup, n.VnetName, n.SubnetName, nil)
	if err != nil {
		what := explain("read the worker subnet", err).Error()
		if notFound(err) {
			what = "subnet " + n.SubnetID() + " does not exist: check subnetName and vnetName in cloud-conf"
		}
		return []Finding{{Check: "outbound", Subject: n.SubnetName, Status: Unknown, Detail: what}}
	}
	p := subnet.Properties
	if p == nil {
		p = &armnetwork.SubnetPropertiesFormat{}
	}
	out := Finding{Check: "outbound", Subject: n.SubnetName, Status: OK}
	if p.NatGateway != nil && p.NatGateway.ID != nil {
		out.Detail = "NAT gateway " + lastSegment(*p.NatGateway.ID)
	} else {
		out.Status, out.Detail = Problem, "no NAT gateway: pod VMs cannot reach the KBS or image registries"
		out.Fix = "let the pattern create one (azure.egress: managed, the default) or run pattern-gen azure egress, or have your network team attach one; see " + prereqs
	}
	findings := []Finding{out}
	var prefixes []netip.Prefix
	for _, s := range append([]*string{p.AddressPrefix}, p.AddressPrefixes...) {
		if s != nil {
			if pf, err := netip.ParsePrefix(*s); err == nil {
				prefixes = append(prefixes, pf.Masked())
			}
		}
	}
	nsgRG, nsgName := n.ResourceGroup, n.SecurityGroupName
	if p.NetworkSecurityGroup != nil && p.NetworkSecurityGroup.ID != nil {
		if id, err := arm.ParseResourceID(*p.NetworkSecurityGroup.ID); err == nil {
			nsgRG, nsgName = id.ResourceGroupName, id.Name
		}
	}
	nsg, err := c.NSGs.Get(ctx, nsgRG, nsgName, nil)
	if err != nil {
		return append(findings, Finding{Check: "tunnel", Subject: nsgName, Status: Unknown, Detail: explain("read network security group "+nsgName, err).Error()})
	}
	for _, port := range []struct {
		proto string
		port  int
		what  string
	}{{"Udp", needs.VXLANPort, "VXLAN"}, {"Tcp", needs.ForwarderPort, "agent-protocol-forwarder"}} {
		f := Finding{Check: "tunnel", Subject: fmt.Sprintf("%s %s/%d", nsgName, strings.ToUpper(port.proto), port.port), Status: OK, Detail: port.what + " between workers and pod VMs allowed"}
		for _, dir := range []armnetwork.SecurityRuleDirection{armnetwork.SecurityRuleDirectionInbound, armnetwork.SecurityRuleDirectionOutbound} {
			rule, verdict := decide(nsg.SecurityGroup, dir, port.proto, port.port, prefixes)
			switch verdict {
			case denied:
				f.Status = Problem
				f.Detail = fmt.Sprintf("%s rule %s (priority %d) denies %s %s/%d within the worker subnet", strings.ToLower(string(dir)), *rule.Name, *rule.Properties.Priority, port.what, strings.ToUpper(port.proto), port.port)
				f.Fix = fmt.Sprintf("add an allow rule with a lower priority number for %s/%d from and to %s; see %s", strings.ToUpper(port.proto), port.port, prefixList(prefixes), prereqs)
			case undecided:
				f.Status = Unknown
				f.Detail = fmt.Sprintf("%s rule %s (priority %d) names application security groups; whether it applies to workers and pod VMs cannot be told from the NSG", strings.ToLower(string(dir)), *rule.Name, *rule.Properties.Priority)
			}
			if verdict != allowed {
				break
			}
		}
		findings = append(findings, f)
	}
	return findings
}

type verdict int

const (
	allowed verdict = iota
	denied
	undecided // a rule that may apply cannot be evaluated (application security groups)
)

// ephemeral is the source-port range of the tunnel's packets: VXLAN picks a source port per
// flow, and TCP clients an ephemeral one.
var ephemeral = [2]int{1024, 65535}

// decide finds, by priority (the NSG's rules, then Azure's defaults), the rule that decides
// traffic in dir on proto/port between any two addresses of the subnet. Pod VMs may get any
// address in it, so a deny decides as soon as it touches part of the subnet or of the ephemeral
// source ports, while an allow decides only when it covers all of them.
func decide(nsg armnetwork.SecurityGroup, dir armnetwork.SecurityRuleDirection, proto string, port int, subnet []netip.Prefix) (*armnetwork.SecurityRule, verdict) {
	if nsg.Properties == nil {
		return nil, allowed
	}
	rules := append(slices.Clone(nsg.Properties.SecurityRules), nsg.Properties.DefaultSecurityRules...)
	rules = slices.DeleteFunc(rules, func(r *armnetwork.SecurityRule) bool {
		return r == nil || r.Properties == nil || r.Properties.Priority == nil || r.Properties.Access == nil || r.Properties.Direction == nil || r.Name == nil
	})
	slices.SortStableFunc(rules, func(a, b *armnetwork.SecurityRule) int { return int(*a.Properties.Priority - *b.Properties.Priority) })
	for _, r := range rules {
		p := r.Properties
		if *p.Direction != dir || !protoMatches(p.Protocol, proto) || !portsOverlap(p.DestinationPortRange, p.DestinationPortRanges, [2]int{port, port}) {
			continue
		}
		if len(p.SourceApplicationSecurityGroups) > 0 || len(p.DestinationApplicationSecurityGroups) > 0 {
			return r, undecided
		}
		src, dst := addrs(p.SourceAddressPrefix, p.SourceAddressPrefixes), addrs(p.DestinationAddressPrefix, p.DestinationAddressPrefixes)
		if *p.Access == armnetwork.SecurityRuleAccessDeny {
			if overlaps(src, subnet) && overlaps(dst, subnet) && portsOverlap(p.SourcePortRange, p.SourcePortRanges, ephemeral) {
				return r, denied
			}
			continue
		}
		if covers(src, subnet) && covers(dst, subnet) && portsCover(p.SourcePortRange, p.SourcePortRanges, ephemeral) {
			return r, allowed
		}
	}
	return nil, allowed // Azure's defaults end with DenyAll; an NSG read without them allows
}

// addrs are a rule's address prefixes; "any" stands for *, Any and VirtualNetwork (the subnet is
// in the VNet). Other service tags are left out: they never name the subnet.
func addrs(one *string, many []*string) (out []netip.Prefix) {
	for _, a := range append([]*string{one}, many...) {
		if a == nil {
			continue
		}
		switch *a {
		case "*", "Any", "VirtualNetwork":
			out = append(out, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
			continue
		}
		if pf, err := netip.ParsePrefix(*a); err == nil {
			out = append(out, pf.Masked())
		} else if addr, err := netip.ParseAddr(*a); err == nil {
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
		}
	}
	return out
}

// overlaps says whether any rule prefix shares an address with any subnet prefix.
func overlaps(rule, subnet []netip.Prefix) bool {
	for _, r := range rule {
		for _, s := range subnet {
			if r.Overlaps(s) {
				return true
			}
		}
	}
	return false
}

// covers says whether the rule prefixes together hold every address of every subnet prefix.
func covers(rule, subnet []netip.Prefix) bool {
	for _, s := range subnet {
		if !coveredBy(s, rule) {
			return false
		}
	}
	return len(subnet) > 0
}

// coveredBy splits s in halves until each half lies in one rule prefix (or none does).
func coveredBy(s netip.Prefix, rule []netip.Prefix) bool {
	for _, r := range rule {
		if r.Bits() <= s.Bits() && r.Contains(s.Addr()) {
			return true
		}
	}
	if !overlaps(rule, []netip.Prefix{s}) || s.Bits() == s.Addr().BitLen() {
		return false
	}
	lo, hi := halves(s)
	return coveredBy(lo, rule) && coveredBy(hi, rule)
}

// halves splits a prefix into its two halves.
func halves(s netip.Prefix) (lo, hi netip.Prefix) {
	b := s.Addr().AsSlice()
	b[s.Bits()/8] |= 0x80 >> (s.Bits() % 8)
	hiAddr, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(s.Addr(), s.Bits()+1), netip.PrefixFrom(hiAddr, s.Bits()+1)
}

func protoMatches(p *armnetwork.SecurityRuleProtocol, proto string) bool {
	return p == nil || *p == armnetwork.SecurityRuleProtocolAsterisk || strings.EqualFold(string(*p), proto)
}

// portRanges parses a rule's port ranges ("*", "N", "A-B").
func portRanges(one *string, many []*string) (out [][2]int) {
	for _, r := range append([]*string{one}, many...) {
		if r == nil {
			continue
		}
		if *r == "*" {
			out = append(out, [2]int{0, 65535})
			continue
		}
		lo, hi, isRange := strings.Cut(*r, "-")
		a, errA := strconv.Atoi(lo)
		b, errB := a, error(nil)
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if errA == nil && errB == nil && a <= b {
			out = append(out, [2]int{a, b})
		}
	}
	return out
}

func portsOverlap(one *string, many []*string, want [2]int) bool {
	for _, r := range portRanges(one, many) {
		if r[0] <= want[1] && want[0] <= r[1] {
			return true
		}
	}
	return false
}

// portsCover says whether the ranges hold every port of want.
func portsCover(one *string, many []*string, want [2]int) bool {
	ranges := portRanges(one, many)
	slices.SortFunc(ranges, func(a, b [2]int) int { return a[0] - b[0] })
	next := want[0]
	for _, r := range ranges {
		if r[0] > next {
			break
		}
		next = max(next, r[1]+1)
	}
	return next > want[1]
}

func prefixList(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "the worker subnet"
	}
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// checkImage reports whether AZURE_IMAGE_ID names an image that exists: a gallery image version
// or a managed image.
func checkImage(ctx context.Context, c *Clients, subscription string, needs Needs) Finding {
	f := Finding{Check: "image", Subject: "AZURE_IMAGE_ID", Status: Unknown}
	if needs.ImageID == "" {
		f.Detail = "not known yet (the operator writes it into peer-pods-cm once the KataConfig has built the pod VM image)"
		return f
	}
	id, err := arm.ParseResourceID(needs.ImageID)
	if err != nil {
		f.Status, f.Detail, f.Fix = Problem, "not an Azure resource ID", "set AZURE_IMAGE_ID to /subscriptions/.../images/<name> or a gallery image version ID, or leave it to the operator"
		return f
	}
	f.Subject = lastSegment(needs.ImageID)
	if !strings.EqualFold(id.SubscriptionID, subscription) {
		f.Detail = "in subscription " + id.SubscriptionID + ", not the cluster's; not checked"
		return f
	}
	switch {
	case strings.EqualFold(id.ResourceType.String(), "Microsoft.Compute/galleries/images/versions"):
		_, err = c.Versions.Get(ctx, id.ResourceGroupName, id.Parent.Parent.Name, id.Parent.Name, id.Name, nil)
	case strings.EqualFold(id.ResourceType.String(), "Microsoft.Compute/images"):
		_, err = c.Images.Get(ctx, id.ResourceGroupName, id.Name, nil)
	default:
		f.Detail = "cannot check an image of type " + id.ResourceType.String()
		return f
	}
	switch {
	case err == nil:
		f.Status, f.Detail = OK, "exists"
	case notFound(err):
		f.Status, f.Detail = Problem, "names an image that does not exist"
		f.Fix = "remove AZURE_IMAGE_ID from peer-pods-cm so the operator builds the image again, or set it to an existing image; see " + prereqs
	default:
		f.Detail = explain("read the image", err).Error()
	}
	return f
}
