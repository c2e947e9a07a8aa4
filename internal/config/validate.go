package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/pattern-gen/pattern-gen/internal/buildinfo"
	"github.com/pattern-gen/pattern-gen/internal/peerpods/pemcert"
)

// Defaults, in one place so documentation, schema and code agree.
const (
	DefaultName         = "coco-pattern"
	DefaultClusterGroup = "hub"
	DefaultTopology     = TopologyConverged
	DefaultHubGroup     = "trusted-hub" // the clusterGroup default with topology split
	DefaultSpokeGroup   = "spoke"
	DefaultPlatform     = PlatformAzure
	DefaultRevision     = "main"
	DefaultChannel      = "stable"
	DefaultApproval     = "Manual"
	DefaultInstanceSize = "Standard_DC2as_v5"
	// DefaultAWSInstanceType is the cloud API adaptor's own default pod VM type.
	DefaultAWSInstanceType = "m6a.large"
	DefaultFlavour         = "insecure"
	DefaultBackend         = "vault"
	// DevPluginImage is the cmp-plugin image a build that is not a release writes: a tag, which
	// validate warns about (DefaultPluginImage pins a release's own by digest).
	DevPluginImage = PluginRepo + ":v0.1.0"
	// PluginRepo is where the project's releases push the cmp-plugin image.
	PluginRepo    = "ghcr.io/pattern-gen/cmp-plugin"
	DefaultACMCSV = "advanced-cluster-management.v2.14.0"
)

// ImageRefProblem says what is wrong with an image reference, or "": registry/repository with a
// tag, a sha256 digest or both.
func ImageRefProblem(ref string) string {
	if _, digest, ok := strings.Cut(ref, "@"); ok {
		hex, isSHA := strings.CutPrefix(digest, "sha256:")
		switch {
		case !isSHA:
			return fmt.Sprintf("%q: the digest must be sha256:<64 hex digits>", ref)
		case len(hex) != 64:
			return fmt.Sprintf("%q: the sha256 digest has %d characters, not 64 hex digits; copy it whole from the release notes or `make image`", ref, len(hex))
		case strings.Trim(hex, "0123456789abcdef") != "":
			return fmt.Sprintf("%q: the sha256 digest must be 64 lowercase hex digits", ref)
		}
	}
	if name, _, _ := strings.Cut(ref, "@"); strings.LastIndex(name, ":") > strings.LastIndex(name, "/") {
		if tag := name[strings.LastIndex(name, ":")+1:]; len(tag) > 128 {
			return fmt.Sprintf("%q: the tag has %d characters; a tag has at most 128", ref, len(tag))
		}
	}
	if !imageRefRe.MatchString(ref) {
		return fmt.Sprintf("%q is not an image reference; use registry/repository:tag, registry/repository@sha256:<digest> or registry/repository:tag@sha256:<digest>", ref)
	}
	return ""
}

// PinnedByDigest reports whether an image reference names its digest, so what runs is what was
// tested whatever the tag later points at.
func PinnedByDigest(ref string) bool { return strings.Contains(ref, "@sha256:") }

// DefaultPluginImage is the image init writes: the one this binary's release published, pinned by
// digest, or DevPluginImage.
func DefaultPluginImage() string {
	if ref, ok := buildinfo.PluginImage(); ok {
		return ref
	}
	// A release installed without the digest (go install ...@v1.2.3) names its own tag.
	if v := buildinfo.Version(); releaseTag.MatchString(v) {
		return PluginRepo + ":" + v
	}
	return DevPluginImage
}

// releaseTag matches a release version, the tag its image is pushed under.
var releaseTag = newPattern(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$`, 128)

// Topologies.
const (
	TopologyConverged = "converged"
	TopologySplit     = "split"
)

// groupNameProblem says what is wrong with a clusterGroup name, or "". values-global.yaml and
// values-secret.yaml already mean something else, so those names are reserved.
func groupNameProblem(name string) string {
	switch {
	case !dnsLabel.MatchString(name):
		return fmt.Sprintf("%q is not a DNS label (lowercase letters, digits and '-')", name)
	case name == "global" || name == "secret":
		return fmt.Sprintf("%q is reserved: values-%s.yaml is the pattern's own file; choose another name", name, name)
	}
	return ""
}

// nfdCSVRe matches a Node Feature Discovery CSV: per OpenShift release, with the build stamp
// the catalog adds (nfd.4.20.0-202511201134) or without it.
var nfdCSVRe = newPattern(`^nfd\.v?4\.[0-9]{1,3}\.[0-9]{1,3}(-[0-9]{1,14})?$`, 0)

// The Intel operators a TDX node needs, pinned to the certified-operators bundles whose CRDs
// the baremetal chart is written for (redhat-openshift-ecosystem/certified-operators 3b7b563:
// intel-device-plugins-operator 0.36.0, the stable channel's head for OpenShift 4.20 to 4.22;
// intel-tdx-dcap-operator 0.1.0, channel alpha, OpenShift 4.19 to 4.22).
const (
	IntelDevicePluginsCSV = "intel-device-plugins-operator.v0.36.0"
	IntelTDXDCAPCSV       = "intel-tdx-dcap-operator.v0.1.0"
)

// acmCSVRe matches an ACM ClusterServiceVersion and captures its major.minor.
var acmCSVRe = newPattern(`^advanced-cluster-management\.v(\d{1,2}\.\d{1,3})\.\d{1,3}$`, 0)

// DefaultInstanceSizes is upstream's list of AMD SEV-SNP confidential VM sizes.
var DefaultInstanceSizes = []string{"Standard_DC2as_v5", "Standard_DC4as_v5", "Standard_DC8as_v5", "Standard_DC16as_v5"}

// Platforms: Azure and AWS run the confidential pods as peer pods (confidential VMs beside the
// cluster); BareMetal runs them on the worker nodes' own TEE.
const (
	PlatformAzure     = "Azure"
	PlatformAWS       = "AWS"
	PlatformBareMetal = "BareMetal"
)

// Platforms lists the supported platforms, for messages and the schema.
var Platforms = []string{PlatformAzure, PlatformAWS, PlatformBareMetal}

// TEE kinds of bare-metal nodes, as Trustee names their evidence (input.tdx, input.snp).
const (
	TEETDX = "tdx"
	TEESNP = "snp"
)

// HardwareProfile is one value of hardware.profile: the TEE kinds the workload clusters have.
type HardwareProfile struct {
	Name      string
	TEEs      []string // what Trustee must verify and the nodes must be prepared for
	SplitOnly bool     // only for the spokes of a split topology (each cluster has one kind)
	Note      string
}

// HardwareProfiles are the supported values of hardware.profile (upstream coco-pattern's
// overrides/values-hw-<profile>.yaml without the GPU ones). OSC creates runtime class kata-cc
// for the one TEE kind a cluster's nodes are labelled with and refuses a cluster with two
// ("multiple TEE platforms detected; only one per cluster supported",
// controllers/confidential_handler.go), so mixed is a property of a group of spoke clusters.
var HardwareProfiles = []HardwareProfile{
	{Name: "intel-tdx", TEEs: []string{TEETDX}, Note: "Intel TDX nodes"},
	{Name: "amd-snp", TEEs: []string{TEESNP}, Note: "AMD SEV-SNP nodes"},
	{Name: "mixed", TEEs: []string{TEETDX, TEESNP}, SplitOnly: true, Note: "topology split: spokes of either kind, each cluster of one"},
}

// HardwareProfileOf returns the profile named name.
func HardwareProfileOf(name string) (HardwareProfile, bool) {
	for _, h := range HardwareProfiles {
		if h.Name == name {
			return h, true
		}
	}
	return HardwareProfile{}, false
}

// PeerPods reports whether the platform runs confidential pods as peer pods.
func PeerPods(platform string) bool { return platform == PlatformAzure || platform == PlatformAWS }

// DefaultAWSInstanceTypes are the AMD SEV-SNP instance types pods may ask for by default.
var DefaultAWSInstanceTypes = []string{"m6a.large", "m6a.xlarge", "m6a.2xlarge", "m6a.4xlarge"}

// DefaultSecretResources are the KBS resources the upstream pattern serves.
var DefaultSecretResources = []string{"kbsres1", "passphrase"}

// Release is one supported pair of operator releases: the templates know their formats.
type Release struct {
	OSCLine, TrusteeLine string   // "1.12", "1.1"
	OSCCSVs, TrusteeCSVs []string // published CSVs of that line
	Note                 string
	// BareMetal: OSC of this line creates runtime class kata-cc on TDX or SNP nodes.
	BareMetal bool
}

// Supported lists the OSC/Trustee pairs pattern-gen renders, newest first. The CSVs are those
// published in the redhat-operators catalog (stable channel).
var Supported = []Release{
	{
		// Trustee 1.2 ships with OSC 1.13 (openshift/trustee-operator 3f6c15d, "rhocca-1.13");
		// OSC 1.13 is in the catalogs of OpenShift 4.19 to 4.22 (openshift/sandboxed-containers-operator#2502).
		OSCLine: "1.13", TrusteeLine: "1.2",
		OSCCSVs:     []string{"sandboxed-containers-operator.v1.13.0", "sandboxed-containers-operator.v1.13.1"},
		TrusteeCSVs: []string{"trustee-operator.v1.2.0", "trustee-operator.v1.2.1"},
		Note:        "OpenShift 4.19 to 4.22",
		BareMetal:   true,
	},
	{
		OSCLine: "1.12", TrusteeLine: "1.1",
		OSCCSVs:     []string{"sandboxed-containers-operator.v1.12.0", "sandboxed-containers-operator.v1.12.1"},
		TrusteeCSVs: []string{"trustee-operator.v1.1.0"},
		Note:        "OpenShift 4.17.45+, 4.18.30+, 4.19.20+, 4.20.6+",
		// The operator refuses bare metal below OpenShift 4.20.6 (UnsupportedOCPVersion).
		BareMetal: true,
	},
	{
		OSCLine: "1.10", TrusteeLine: "0.4",
		OSCCSVs:     []string{"sandboxed-containers-operator.v1.10.0", "sandboxed-containers-operator.v1.10.1", "sandboxed-containers-operator.v1.10.2", "sandboxed-containers-operator.v1.10.3"},
		TrusteeCSVs: []string{"trustee-operator.v0.4.0", "trustee-operator.v0.4.1", "trustee-operator.v0.4.2"},
		Note:        "OpenShift 4.16+",
	},
}

// SetDefaults fills every optional field the user left out.
func SetDefaults(p *Pattern) {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&p.Metadata.Name, DefaultName)
	def(&p.Git.Revision, DefaultRevision)
	def(&p.Topology, DefaultTopology)
	if p.Topology == TopologySplit {
		def(&p.ClusterGroup, DefaultHubGroup)
		def(&p.Spoke.ClusterGroup, DefaultSpokeGroup)
	}
	def(&p.ClusterGroup, DefaultClusterGroup)
	def(&p.Platform, DefaultPlatform)
	if p.Platform == PlatformBareMetal && p.Operators.NFD.CSV != "" {
		def(&p.Operators.NFD.Channel, DefaultChannel)
		def(&p.Operators.NFD.InstallPlanApproval, DefaultApproval)
	}
	def(&p.Operators.SandboxedContainers.CSV, Supported[0].OSCCSVs[0])
	def(&p.Operators.Trustee.CSV, Supported[0].TrusteeCSVs[0])
	for _, op := range []*OperatorPin{&p.Operators.SandboxedContainers, &p.Operators.Trustee} {
		def(&op.Channel, DefaultChannel)
		def(&op.InstallPlanApproval, DefaultApproval)
	}
	if p.Topology == TopologySplit {
		acm := &p.Operators.ACM
		def(&acm.CSV, DefaultACMCSV)
		if m := acmCSVRe.FindStringSubmatch(acm.CSV); m != nil {
			def(&acm.Channel, "release-"+m[1])
		}
		def(&acm.InstallPlanApproval, DefaultApproval)
	}
	switch p.Platform {
	case PlatformAzure:
		def(&p.Azure.InstanceSize, DefaultInstanceSize)
		def(&p.Azure.Egress, EgressManaged)
		if len(p.Azure.InstanceSizes) == 0 {
			p.Azure.InstanceSizes = slices.Clone(DefaultInstanceSizes)
		}
	case PlatformAWS:
		def(&p.AWS.InstanceType, DefaultAWSInstanceType)
		if len(p.AWS.InstanceTypes) == 0 {
			p.AWS.InstanceTypes = slices.Clone(DefaultAWSInstanceTypes)
		}
	}
	def(&p.Trustee.SecurityPolicyFlavour, DefaultFlavour)
	if p.Trustee.HTTPS == nil {
		t := true
		p.Trustee.HTTPS = &t
	}
	if len(p.Trustee.SecretResources) == 0 {
		p.Trustee.SecretResources = slices.Clone(DefaultSecretResources)
	}
	if p.Workloads.HelloOpenshift == nil {
		t := true
		p.Workloads.HelloOpenshift = &t
	}
	if p.Workloads.KBSAccess == nil {
		f := false
		p.Workloads.KBSAccess = &f
	}
	def(&p.SecretStore.Backend, DefaultBackend)
	def(&p.Plugin.Image, DefaultPluginImage())
}

// The patterns are compiled on first use: cmp-plugin starts once per manifest request and needs
// few of them. They avoid bounded repetitions such as {0,251}, which Go compiles into that many
// copies; lengths are checked apart.
var (
	dnsLabel      = newPattern(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, 63)
	dnsSubdomain  = newPattern(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`, 253)
	guid          = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	rgName        = `[-\w._()]*[-\w_()]`
	azName        = `[A-Za-z0-9]([-\w.]*[\w])?`
	subnetIDRe    = newPattern(`(?i)^/subscriptions/`+guid+`/resourceGroups/`+rgName+`/providers/Microsoft\.Network/virtualNetworks/`+azName+`/subnets/`+azName+`$`, 1024)
	nsgIDRe       = newPattern(`(?i)^/subscriptions/`+guid+`/resourceGroups/`+rgName+`/providers/Microsoft\.Network/networkSecurityGroups/`+azName+`$`, 1024)
	rgRe          = newPattern(`^`+rgName+`$`, 90)
	regionRe      = newPattern(`^[a-z][a-z0-9]+$`, 40)
	tagKeyRe      = newPattern(`^[^=,<>%&\\?/]+$`, 512)
	tagValueRe    = newPattern(`^[^=,]*$`, 256)
	imageRefRe    = newPattern(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+(:[\w][\w.-]*(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$`, 512)
	scpLikeGitURL = newPattern(`^[\w.-]+@[\w.-]+:[\w./~-]+$`, 0)
	// Confidential VM sizes: AMD SEV-SNP (as/ads) and Intel TDX (es/eds) DC/EC series v5 and v6,
	// and the H100 confidential GPU size. SGX sizes such as Standard_DC2s_v3 are not CVMs.
	cvmSizeRe = newPattern(ConfidentialVMSizePattern, 0)
	snpTypeRe = newPattern(ConfidentialInstanceTypePattern, 0)
	// EC2 resource IDs: the prefix, then 8 (older) or 17 hexadecimal digits.
	awsSubnetRe   = newPattern(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`, 0)
	awsSGRe       = newPattern(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`, 0)
	awsVPCRe      = newPattern(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`, 0)
	awsAMIRe      = newPattern(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`, 0)
	awsTagKeyRe   = newPattern(`^[^=,\r\n]{1,128}$`, 0)
	awsTagValueRe = newPattern(`^[^=,\r\n]{0,256}$`, 0)
	awsRegionRe   = newPattern(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`, 0)
)

// pattern is a regular expression compiled on first use, with a maximum length (0: none).
type pattern struct {
	re  func() *regexp.Regexp
	max int
}

func newPattern(expr string, max int) pattern {
	return pattern{sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) }), max}
}

// MatchString reports whether s is at most max bytes and matches.
func (p pattern) MatchString(s string) bool {
	return (p.max == 0 || len(s) <= p.max) && p.re().MatchString(s)
}

// FindStringSubmatch is regexp's, for a string within the length limit.
func (p pattern) FindStringSubmatch(s string) []string {
	if p.max != 0 && len(s) > p.max {
		return nil
	}
	return p.re().FindStringSubmatch(s)
}

// ConfidentialVMSizePattern matches the Azure confidential VM sizes: DCas/DCads/DCes/DCeds and
// ECas/ECads/ECes/ECeds v5 and v6, and NCCads H100 v5. The sandboxed-containers chart's
// peer-pods-cm check uses the same expression (a test in internal/generate holds them equal).
const ConfidentialVMSizePattern = `^Standard_(DC|EC)[0-9]+(as|ads|es|eds)_v[56]$|^Standard_NCC[0-9]+ads_H100_v5$`

// IsConfidentialVMSize reports whether size is an Azure confidential VM size, the only kind a
// peer pod can run on with DISABLECVM=false.
func IsConfidentialVMSize(size string) bool { return cvmSizeRe.MatchString(size) }

// ConfidentialInstanceTypePattern matches the EC2 instance types a peer pod can run on with
// DISABLECVM=false: the cloud API adaptor launches every pod VM with CpuOptions.AmdSevSnp
// enabled and checks no type (confidential-containers/cloud-api-adaptor
// src/cloud-providers/aws), and "AMD SEV-SNP is supported with M6a, R6a, and C6a instance types
// only" (the EC2 API's CpuOptionsRequest documentation), in the sizes AWS lists: m6a large to
// 8xlarge, c6a large to 16xlarge, r6a large to 4xlarge (the EC2 user guide's SEV-SNP page, as
// Ubuntu's SEV-SNP guide and SPIRE's SEV-SNP attestor repeat it; regions us-east-2 and
// eu-west-1). `aws ec2 describe-instance-types --filters
// Name=processor-info.supported-features,Values=amd-sev-snp` says what a region offers.
const ConfidentialInstanceTypePattern = `^(m6a\.(large|xlarge|2xlarge|4xlarge|8xlarge)|c6a\.(large|xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge)|r6a\.(large|xlarge|2xlarge|4xlarge))$`

// IsConfidentialInstanceType reports whether an EC2 instance type can run an AMD SEV-SNP pod VM.
func IsConfidentialInstanceType(t string) bool { return snpTypeRe.MatchString(t) }

// ReleaseOf returns the supported pair both pins belong to.
func ReleaseOf(osc, trustee string) (Release, bool) {
	for _, r := range Supported {
		if slices.Contains(r.OSCCSVs, osc) && slices.Contains(r.TrusteeCSVs, trustee) {
			return r, true
		}
	}
	return Release{}, false
}

// CSVVersion returns "1.12.0" for "sandboxed-containers-operator.v1.12.0".
func CSVVersion(csv string) string {
	_, v, _ := strings.Cut(csv, ".v")
	return v
}

func (l *Loaded) validate() Problems {
	var ps Problems
	p := &l.Pattern
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{File: l.File, Line: l.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if !dnsLabel.MatchString(p.Metadata.Name) {
		bad("metadata.name", "%q is not a DNS label (lowercase letters, digits and '-', at most 63)", p.Metadata.Name)
	} else if len(p.Metadata.Name)+1+len(p.ClusterGroup) > 63 {
		bad("metadata.name", "the Argo CD namespace %q is longer than 63 characters; shorten the name or clusterGroup", p.Metadata.Name+"-"+p.ClusterGroup)
	}
	if msg := groupNameProblem(p.ClusterGroup); msg != "" {
		bad("clusterGroup", "%s", msg)
	}
	switch p.Topology {
	case TopologyConverged:
		if p.Spoke.ClusterGroup != "" {
			bad("spoke.clusterGroup", "set, but topology is converged; remove spoke or set topology: split")
		}
	case TopologySplit:
		switch msg := groupNameProblem(p.Spoke.ClusterGroup); {
		case msg != "":
			bad("spoke.clusterGroup", "%s", msg)
		case p.Spoke.ClusterGroup == p.ClusterGroup:
			bad("spoke.clusterGroup", "%q is also the hub's clusterGroup; the trusted hub and the spokes need different clusterGroups", p.Spoke.ClusterGroup)
		case dnsLabel.MatchString(p.Metadata.Name) && len(p.Metadata.Name)+1+len(p.Spoke.ClusterGroup) > 63:
			bad("spoke.clusterGroup", "the Argo CD namespace %q is longer than 63 characters; shorten the name or the spoke clusterGroup", p.Metadata.Name+"-"+p.Spoke.ClusterGroup)
		}
	default:
		bad("topology", "unsupported topology %q; supported: converged (one cluster), split (a trusted hub runs Trustee, spokes run the workloads)", p.Topology)
	}
	switch {
	case p.Git.RepoURL == "":
		bad("git.repoURL", "%s", RepoURLMissing)
	case scpLikeGitURL.MatchString(p.Git.RepoURL):
	default:
		u, err := url.Parse(p.Git.RepoURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh") || u.Host == "":
			bad("git.repoURL", "%q is not a git URL; use https://host/org/repo.git, ssh://host/org/repo.git or git@host:org/repo.git", redactURL(p.Git.RepoURL, u))
		case u.User != nil && (u.Scheme != "ssh" || hasPassword(u)):
			// Not shown: it is a credential, and values-global.yaml is public.
			bad("git.repoURL", "carries credentials; give the URL without them and Argo CD a repository Secret")
		}
	}
	if strings.ContainsAny(p.Git.Revision, " \t~^:?*[\\") {
		bad("git.revision", "%q is not a valid branch, tag or commit", p.Git.Revision)
	}
	if p.AppsDomain != "" && len(validation.IsDNS1123Subdomain(p.AppsDomain)) > 0 {
		// Not quoted: the domain goes into the initdata, and errors reach CI logs and PRs.
		bad("appsDomain", "not a DNS name (%d characters); use lowercase letters, digits, '-' and '.', such as apps.mycluster.example.com", len(p.AppsDomain))
	}
	ps = append(ps, l.validateOperators()...)
	switch p.Platform {
	case PlatformAzure:
		if !reflect.DeepEqual(p.AWS, AWS{}) {
			bad("aws", "set, but platform is Azure; move the settings under azure, or set platform: AWS")
		}
		ps = append(ps, l.validateAzure()...)
	case PlatformAWS:
		if !reflect.DeepEqual(p.Azure, Azure{}) {
			bad("azure", "set, but platform is AWS; remove it (AWS settings go under aws)")
		}
		ps = append(ps, l.validateAWS()...)
	case PlatformBareMetal:
		if !reflect.DeepEqual(p.Azure, Azure{}) {
			bad("azure", "set, but platform is BareMetal, which runs no peer pods; remove it")
		}
		if !reflect.DeepEqual(p.AWS, AWS{}) {
			bad("aws", "set, but platform is BareMetal, which runs no peer pods; remove it")
		}
		ps = append(ps, l.validateBareMetal()...)
	default:
		bad("platform", "unsupported platform %q; supported: %s", p.Platform, strings.Join(Platforms, ", "))
	}
	if p.Platform != PlatformBareMetal && p.Hardware != (Hardware{}) {
		bad("hardware", "set, but platform is %s; hardware describes bare-metal nodes (platform: BareMetal)", p.Platform)
	}
	ps = append(ps, l.validateTrustee()...)
	if p.SecretStore.Backend != "vault" && p.SecretStore.Backend != "none" {
		bad("secretStore.backend", "unsupported backend %q; supported: vault, none", p.SecretStore.Backend)
	}
	if msg := ImageRefProblem(p.Plugin.Image); msg != "" {
		bad("plugin.image", "%s", msg)
	}
	return ps
}

func (l *Loaded) validateOperators() Problems {
	var ps Problems
	p := &l.Pattern
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{File: l.File, Line: l.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	var oscAll, trusteeAll []string
	for _, r := range Supported {
		oscAll = append(oscAll, r.OSCCSVs...)
		trusteeAll = append(trusteeAll, r.TrusteeCSVs...)
	}
	osc, tr := p.Operators.SandboxedContainers.CSV, p.Operators.Trustee.CSV
	oscOK, trOK := slices.Contains(oscAll, osc), slices.Contains(trusteeAll, tr)
	if !oscOK {
		bad("operators.sandboxedContainers.csv", "unsupported CSV %q; supported: %s", osc, strings.Join(oscAll, ", "))
	}
	if !trOK {
		bad("operators.trustee.csv", "unsupported CSV %q; supported: %s", tr, strings.Join(trusteeAll, ", "))
	}
	if oscOK && trOK {
		if _, ok := ReleaseOf(osc, tr); !ok {
			var pairs []string
			for _, r := range Supported {
				pairs = append(pairs, fmt.Sprintf("OSC %s.x with Trustee %s.x (%s)", r.OSCLine, r.TrusteeLine, r.Note))
			}
			bad("operators.trustee.csv", "%s does not pair with %s; supported pairs: %s", tr, osc, strings.Join(pairs, "; "))
		}
	}
	pins := []struct {
		path string
		pin  OperatorPin
	}{{"operators.sandboxedContainers", p.Operators.SandboxedContainers}, {"operators.trustee", p.Operators.Trustee}}
	switch acm := p.Operators.ACM; {
	case p.Topology != TopologySplit:
		if acm != (OperatorPin{}) {
			bad("operators.acm", "set, but topology is not split; ACM runs only on the trusted hub of a split topology")
		}
	case !acmCSVRe.MatchString(acm.CSV):
		bad("operators.acm.csv", "%q is not an ACM CSV such as %s", acm.CSV, DefaultACMCSV)
	default:
		pins = append(pins, struct {
			path string
			pin  OperatorPin
		}{"operators.acm", acm})
	}
	switch nfd := p.Operators.NFD; {
	case p.Platform != PlatformBareMetal:
		if nfd != (OperatorPin{}) {
			bad("operators.nfd", "set, but platform is %s; Node Feature Discovery prepares bare-metal nodes (platform: BareMetal)", p.Platform)
		}
	case nfd.CSV == "":
		bad("operators.nfd.csv", "missing; platform BareMetal needs the Node Feature Discovery CSV of your OpenShift release, such as nfd.4.20.0-202511201134: oc get packagemanifest nfd -n openshift-marketplace -o jsonpath='{.status.channels[?(@.name==\"stable\")].currentCSV}'")
	case !nfdCSVRe.MatchString(nfd.CSV):
		bad("operators.nfd.csv", "%q is not a Node Feature Discovery CSV such as nfd.4.20.0-202511201134", nfd.CSV)
	default:
		pins = append(pins, struct {
			path string
			pin  OperatorPin
		}{"operators.nfd", nfd})
	}
	for _, k := range pins {
		if k.pin.InstallPlanApproval != "Manual" && k.pin.InstallPlanApproval != "Automatic" {
			bad(k.path+".installPlanApproval", "unsupported value %q; supported: Manual, Automatic", k.pin.InstallPlanApproval)
		}
		if !dnsSubdomain.MatchString(k.pin.Channel) {
			bad(k.path+".channel", "%q is not a valid OLM channel name", k.pin.Channel)
		}
	}
	return ps
}

// sizeRule is a platform's default pod VM size and its allow-list: every entry of the
// confidential kind, none twice, the default among them.
type sizeRule struct {
	path, listPath string
	size           string
	list           []string
	ok             func(string) bool
	what, unit     string // "a confidential VM size", "sizes"
	hint           string
}

func (r sizeRule) check(bad func(path, format string, args ...any)) {
	if !r.ok(r.size) {
		bad(r.path, "%q is not %s; %s", r.size, r.what, r.hint)
	}
	seen := map[string]bool{}
	for i, s := range r.list {
		path := fmt.Sprintf("%s[%d]", r.listPath, i)
		switch {
		case !r.ok(s):
			bad(path, "%q is not %s; %s", s, r.what, r.hint)
		case seen[s]:
			bad(path, "%q is listed twice", s)
		}
		seen[s] = true
	}
	if r.ok(r.size) && !seen[r.size] {
		bad(r.path, "%q is not in %s; add it there (pods may only use listed %s)", r.size, r.listPath, r.unit)
	}
}

func (l *Loaded) validateAWS() Problems {
	var ps Problems
	a := &l.Pattern.AWS
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{File: l.File, Line: l.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	sizeRule{
		path: "aws.instanceType", listPath: "aws.instanceTypes", size: a.InstanceType, list: a.InstanceTypes,
		ok: IsConfidentialInstanceType, what: "an AMD SEV-SNP instance type", unit: "types",
		hint: "use an AMD SEV-SNP instance type: m6a large to 8xlarge, c6a large to 16xlarge or r6a large to 4xlarge (such as m6a.large); DISABLECVM is \"false\", so EC2 launches every pod VM with SEV-SNP",
	}.check(bad)
	for _, f := range []struct{ path, key, value string }{
		{"aws.region", "AWS_REGION", a.Region}, {"aws.subnetID", "AWS_SUBNET_ID", a.SubnetID},
		{"aws.vpcID", "AWS_VPC_ID", a.VPCID}, {"aws.amiID", "PODVM_AMI_ID", a.AMIID},
	} {
		if f.value == "" {
			continue
		}
		if err := CheckPeerPodsValue(f.key, f.value); err != nil {
			bad(f.path, "%q: %v", f.value, err)
		}
	}
	for i, g := range a.SecurityGroupIDs {
		if err := CheckPeerPodsValue("AWS_SG_IDS", g); err != nil {
			bad(fmt.Sprintf("aws.securityGroupIDs[%d]", i), "%q is not a security group ID such as sg-0123456789abcdef0", g)
		}
	}
	if len(a.Tags) > 50 {
		bad("aws.tags", "%d tags; EC2 allows at most 50 on an instance", len(a.Tags))
	}
	for _, k := range sortedKeys(a.Tags) {
		// The cloud API adaptor splits TAGS on "," and "=" and trims spaces, and EC2 reserves
		// the aws: prefix.
		path := "aws.tags." + k
		if !awsTagKeyRe.MatchString(k) || strings.TrimSpace(k) != k || strings.HasPrefix(strings.ToLower(k), "aws:") {
			bad(path, "tag name %q must be 1-128 characters without = , or line breaks, not start or end with a space, and not start with aws:", k)
		}
		if !awsTagValueRe.MatchString(a.Tags[k]) {
			bad(path, "tag value %q must be at most 256 characters without = or ,", a.Tags[k])
		}
	}
	if a.RootVolumeSizeGiB < 0 || a.RootVolumeSizeGiB > 16384 {
		bad("aws.rootVolumeSizeGiB", "%d is out of range; use 0 (the cloud API adaptor's default, 30 GiB) to 16384", a.RootVolumeSizeGiB)
	}
	return ps
}

func (l *Loaded) validateBareMetal() Problems {
	var ps Problems
	p := &l.Pattern
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{File: l.File, Line: l.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	var names []string
	for _, h := range HardwareProfiles {
		names = append(names, fmt.Sprintf("%s (%s)", h.Name, h.Note))
	}
	switch h, ok := HardwareProfileOf(p.Hardware.Profile); {
	case p.Hardware.Profile == "":
		bad("hardware.profile", "missing; platform BareMetal needs the TEE of its nodes: %s", strings.Join(names, ", "))
	case !ok:
		bad("hardware.profile", "unknown profile %q; supported: %s", p.Hardware.Profile, strings.Join(names, ", "))
	case h.SplitOnly && p.Topology != TopologySplit:
		bad("hardware.profile", "%q needs topology split: OSC runs one TEE kind per cluster, so one cluster is intel-tdx or amd-snp", h.Name)
	}
	if r, ok := ReleaseOf(p.Operators.SandboxedContainers.CSV, p.Operators.Trustee.CSV); ok && !r.BareMetal {
		var lines []string
		for _, s := range Supported {
			if s.BareMetal {
				lines = append(lines, fmt.Sprintf("OSC %s.x with Trustee %s.x", s.OSCLine, s.TrusteeLine))
			}
		}
		bad("operators.sandboxedContainers.csv", "OSC %s has no confidential containers on bare metal (it creates no kata-cc runtime class); on BareMetal use %s", r.OSCLine, strings.Join(lines, " or "))
	}
	return ps
}

func (l *Loaded) validateAzure() Problems {
	var ps Problems
	a := &l.Pattern.Azure
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{File: l.File, Line: l.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	sizeRule{
		path: "azure.instanceSize", listPath: "azure.instanceSizes", size: a.InstanceSize, list: a.InstanceSizes,
		ok: IsConfidentialVMSize, what: "a confidential VM size", unit: "sizes",
		hint: "use an AMD SEV-SNP (e.g. Standard_DC2as_v5) or Intel TDX (e.g. Standard_DC2es_v5) confidential VM size",
	}.check(bad)
	if a.Region != "" && !regionRe.MatchString(a.Region) {
		bad("azure.region", "%q is not an Azure region name such as eastus or westeurope", a.Region)
	}
	if a.ResourceGroup != "" && !rgRe.MatchString(a.ResourceGroup) {
		bad("azure.resourceGroup", "%q is not a resource group name (1-90 letters, digits, '-', '_', '.', '(', ')'; not ending in '.')", a.ResourceGroup)
	}
	if a.SubnetID != "" && !subnetIDRe.MatchString(a.SubnetID) {
		bad("azure.subnetID", "not a subnet resource ID; expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, got %q", a.SubnetID)
	}
	if a.NSGID != "" && !nsgIDRe.MatchString(a.NSGID) {
		bad("azure.nsgID", "not a network security group resource ID; expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/networkSecurityGroups/<nsg>, got %q", a.NSGID)
	}
	for _, k := range sortedKeys(a.Tags) {
		path := "azure.tags." + k
		if !tagKeyRe.MatchString(k) {
			bad(path, "tag name %q must be 1-512 characters without = , < > %% & \\ ? /", k)
		}
		if !tagValueRe.MatchString(a.Tags[k]) {
			bad(path, "tag value %q must be at most 256 characters without = or ,", a.Tags[k])
		}
	}
	if a.Egress != EgressManaged && a.Egress != EgressNone {
		bad("azure.egress", "unsupported value %q; supported: %s (the pattern gives the worker subnet a NAT gateway), %s (your network team owns egress)", a.Egress, EgressManaged, EgressNone)
	}
	if a.RootVolumeSizeGiB < 0 || a.RootVolumeSizeGiB > 4095 {
		bad("azure.rootVolumeSizeGiB", "%d is out of range; use 0 (image size) to 4095", a.RootVolumeSizeGiB)
	}
	return ps
}

// Values of azure.egress.
const (
	EgressManaged = "managed"
	EgressNone    = "none"
)

// KBSHostPrefix is the host of the trustee chart's Route kbs, before the apps domain: what the
// KBS certificate must name.
const KBSHostPrefix = "kbs-trustee-operator-system."

// reservedResources are Secrets the trustee chart serves itself: the same list as its
// trustee.reservedSecretNames helper (a test in internal/generate holds the two equal).
var reservedResources = []string{"security-policy", "cosign-keys", "attestation-token", "kbs-auth-public-key", "kbs-https-key", "kbs-https-certificate"}

// ReservedSecretResources are the Secret names global.coco.trustee.secretResources cannot take.
func ReservedSecretResources() []string { return slices.Clone(reservedResources) }

func (l *Loaded) validateTrustee() Problems {
	var ps Problems
	t := &l.Pattern.Trustee
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{File: l.File, Line: l.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	switch t.SecurityPolicyFlavour {
	case "insecure", "signed", "reject":
	default:
		bad("trustee.securityPolicyFlavour", "unsupported value %q; supported: insecure, signed, reject", t.SecurityPolicyFlavour)
	}
	if t.KBSCertificate != "" {
		// The same parser the initdata builder uses: what passes here passes at sync time.
		canonical, err := pemcert.Parse(t.KBSCertificate)
		if err == nil {
			// What the pod VMs will hold the KBS to; the host only once the domain is pinned.
			o := pemcert.CheckOptions{Now: time.Now()}
			if l.Pattern.AppsDomain != "" {
				o.Host = KBSHostPrefix + l.Pattern.AppsDomain
			}
			err = pemcert.Check(canonical, o)
		}
		switch {
		case errors.Is(err, pemcert.ErrPrivateKey):
			bad("trustee.kbsCertificate", "%v; give only the certificate, and remove the key from this file and its history", err)
		case err != nil:
			bad("trustee.kbsCertificate", "%v", err)
		}
	}
	seen := map[string]bool{}
	for i, r := range t.SecretResources {
		path := fmt.Sprintf("trustee.secretResources[%d]", i)
		switch {
		case !dnsSubdomain.MatchString(r) || len(r) > 253-len("-eso"):
			bad(path, "%q is not a valid Secret name (lowercase letters, digits, '-' and '.')", r)
		case slices.Contains(reservedResources, r):
			bad(path, "%q is reserved for the trustee chart; choose another name", r)
		case seen[r]:
			bad(path, "%q is listed twice", r)
		}
		seen[r] = true
	}
	return ps
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SortedTags returns the tags as the comma-separated k=v list peer-pods-cm TAGS expects.
func (a Azure) SortedTags() string { return joinTags(a.Tags) }

// SortedTags is the tags as TAGS wants them: key=value pairs, comma-separated, in key order.
func (a AWS) SortedTags() string { return joinTags(a.Tags) }

func joinTags(tags map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(tags) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ",")
}

// CheckPeerPodsValue validates one peer-pods-cm value, whatever its source (config, plugin
// parameter, env or the cluster), so every source is held to the same rules. Its errors never
// quote the value: they reach Argo CD's UI, and a secret pasted into the wrong field must not.
func CheckPeerPodsValue(key, v string) error {
	r, ok := peerPodsRules[key]
	if !ok {
		return nil
	}
	if !r.list {
		if !r.ok(v) {
			return fmt.Errorf("the value (%d characters) is not valid; want %s", len(v), r.want)
		}
		return nil
	}
	for i, s := range strings.Split(v, ",") {
		if !r.ok(s) {
			return fmt.Errorf("entry %d is not valid; want a comma-separated list of %s", i+1, r.want)
		}
	}
	return nil
}

// peerPodsRules are the value rules of the peer-pods-cm keys, by key; a list is comma-separated.
var peerPodsRules = map[string]struct {
	ok   func(string) bool
	want string
	list bool
}{
	"AZURE_REGION":         {regionRe.MatchString, "an Azure region name such as eastus", false},
	"AZURE_RESOURCE_GROUP": {rgRe.MatchString, "a resource group name", false},
	"AZURE_SUBNET_ID":      {subnetIDRe.MatchString, "/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>", false},
	"AZURE_NSG_ID":         {nsgIDRe.MatchString, "/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/networkSecurityGroups/<nsg>", false},
	"AZURE_INSTANCE_SIZE":  {IsConfidentialVMSize, "a confidential VM size such as Standard_DC2as_v5", false},
	"AZURE_INSTANCE_SIZES": {IsConfidentialVMSize, "confidential VM sizes such as Standard_DC2as_v5,Standard_DC4as_v5", true},
	"AWS_REGION":           {awsRegionRe.MatchString, "an AWS region name such as us-east-2", false},
	"AWS_SUBNET_ID":        {awsSubnetRe.MatchString, "a subnet ID such as subnet-0123456789abcdef0", false},
	"AWS_VPC_ID":           {awsVPCRe.MatchString, "a VPC ID such as vpc-0123456789abcdef0", false},
	"AWS_SG_IDS":           {awsSGRe.MatchString, "security group IDs such as sg-0123456789abcdef0", true},
	"PODVM_AMI_ID":         {awsAMIRe.MatchString, "an AMI ID such as ami-0123456789abcdef0", false},
	"PODVM_INSTANCE_TYPE":  {IsConfidentialInstanceType, "an AMD SEV-SNP instance type such as m6a.large (m6a up to 8xlarge, c6a up to 16xlarge, r6a up to 4xlarge)", false},
	"PODVM_INSTANCE_TYPES": {IsConfidentialInstanceType, "AMD SEV-SNP instance types such as m6a.large,m6a.xlarge", true},
}

// RepoURLMissing is the problem of a fork without a repository URL, naming every way to give one.
const RepoURLMissing = "missing; the fork's bootstrap points the cluster at it: set git.repoURL in the config, pass --repo-url URL, or run pattern-gen init in a clone of your fork (it reads the origin remote)"

func hasPassword(u *url.URL) bool {
	_, ok := u.User.Password()
	return ok
}

// redactURL shows a URL in a message without its user information.
func redactURL(raw string, u *url.URL) string {
	if u != nil && u.User != nil {
		c := *u
		c.User = nil
		return c.String()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 && !scpLikeGitURL.MatchString(raw) {
		return "<redacted>" + raw[at:]
	}
	return raw
}
