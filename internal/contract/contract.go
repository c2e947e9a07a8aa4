// Package contract is the values contract between the value files pattern-gen writes, the charts
// it ships and cmp-plugin: the global.coco values (docs/values-contract.md), as one Go type
// decoded once per fork read. Decoding is as lenient as the charts are: a key of the wrong type
// reads as unset, as a chart's `| default` does, and validate reports it against the schema.
package contract

// Coco is global.coco.
type Coco struct {
	Versions              Versions
	SecurityPolicyFlavour string // insecure | signed | reject
	AppsDomain            string // pinned apps domain for the KBS URL (cmp-plugin only)
	KBSCertificate        string // pinned KBS certificate, PEM (cmp-plugin only)
	Azure                 Azure
	AWS                   AWS
	Trustee               Trustee
	Hardware              Hardware
}

// Hardware is global.coco.hardware: the bare-metal TEE profile (platform BareMetal only).
type Hardware struct {
	Profile string // intel-tdx | amd-snp | mixed
}

// Values is one provider's peer-pods settings by values key (global.coco.<provider>.<key>), ""
// when unset: the peer-pods key table names the values key, and each provider type is the one
// place that maps it to a field.
type Values interface {
	Value(key string) string
}

// Versions are the pinned operator versions.
type Versions struct {
	SandboxedContainers string // e.g. 1.12.0
	Trustee             string // e.g. 1.1.0
}

// Azure is global.coco.azure: the peer-pods settings the fork pins.
type Azure struct {
	DefaultVMFlavour     string
	VMFlavours           string // comma-separated
	Tags                 string
	RootVolumeSize       string
	Region               string
	ResourceGroup        string
	SubnetID             string
	NSGID                string
	Initdata             string
	RequireClusterValues bool
	Egress               string
}

// AWS is global.coco.aws: the peer-pods settings the fork pins on AWS.
type AWS struct {
	InstanceType     string
	InstanceTypes    string // comma-separated
	AMIID            string // kept like AZURE_IMAGE_ID: empty lets the operator build the image
	Region           string
	SubnetID         string
	SecurityGroupIDs string // comma-separated
	VPCID            string
	Tags             string
	RootVolumeSize   string
	Initdata         string
}

// Value is the AWS value under its values key (global.coco.aws.<key>), "" when unset.
func (a AWS) Value(key string) string {
	switch key {
	case "instanceType":
		return a.InstanceType
	case "instanceTypes":
		return a.InstanceTypes
	case "amiID":
		return a.AMIID
	case "region":
		return a.Region
	case "subnetID":
		return a.SubnetID
	case "securityGroupIDs":
		return a.SecurityGroupIDs
	case "vpcID":
		return a.VPCID
	case "tags":
		return a.Tags
	case "rootVolumeSize":
		return a.RootVolumeSize
	case "initdata":
		return a.Initdata
	}
	return ""
}

// Trustee is global.coco.trustee, the part pattern-gen reads.
type Trustee struct {
	HTTPS bool
}

// Value is the Azure value under its values key (global.coco.azure.<key>), "" when unset: the
// peer-pods key table names its values key, and this is the one place that maps it to a field.
func (a Azure) Value(key string) string {
	switch key {
	case "defaultVMFlavour":
		return a.DefaultVMFlavour
	case "VMFlavours":
		return a.VMFlavours
	case "tags":
		return a.Tags
	case "rootVolumeSize":
		return a.RootVolumeSize
	case "region":
		return a.Region
	case "resourceGroup":
		return a.ResourceGroup
	case "subnetID":
		return a.SubnetID
	case "nsgID":
		return a.NSGID
	case "initdata":
		return a.Initdata
	case "egress":
		return a.Egress
	}
	return ""
}

// Decode reads global.coco from a fork's merged values (the root holding "global").
func Decode(root map[string]any) Coco {
	coco := mapAt(root, "global", "coco")
	azure := mapAt(coco, "azure")
	aws := mapAt(coco, "aws")
	versions := mapAt(coco, "versions")
	return Coco{
		Versions:              Versions{SandboxedContainers: str(versions, "sandboxedContainers"), Trustee: str(versions, "trustee")},
		SecurityPolicyFlavour: str(coco, "securityPolicyFlavour"),
		AppsDomain:            str(coco, "appsDomain"),
		KBSCertificate:        str(coco, "kbsCertificate"),
		Azure: Azure{
			DefaultVMFlavour: str(azure, "defaultVMFlavour"), VMFlavours: str(azure, "VMFlavours"),
			Tags: str(azure, "tags"), RootVolumeSize: str(azure, "rootVolumeSize"),
			Region: str(azure, "region"), ResourceGroup: str(azure, "resourceGroup"),
			SubnetID: str(azure, "subnetID"), NSGID: str(azure, "nsgID"), Initdata: str(azure, "initdata"),
			RequireClusterValues: boolean(azure, "requireClusterValues"), Egress: str(azure, "egress"),
		},
		AWS: AWS{
			InstanceType: str(aws, "instanceType"), InstanceTypes: str(aws, "instanceTypes"), AMIID: str(aws, "amiID"),
			Region: str(aws, "region"), SubnetID: str(aws, "subnetID"), SecurityGroupIDs: str(aws, "securityGroupIDs"),
			VPCID: str(aws, "vpcID"), Tags: str(aws, "tags"), RootVolumeSize: str(aws, "rootVolumeSize"), Initdata: str(aws, "initdata"),
		},
		Trustee:  Trustee{HTTPS: boolean(mapAt(coco, "trustee"), "https")},
		Hardware: Hardware{Profile: str(mapAt(coco, "hardware"), "profile")},
	}
}

func mapAt(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func boolean(m map[string]any, k string) bool {
	b, _ := m[k].(bool)
	return b
}
