// Package config holds pattern-gen's typed, versioned configuration: how a fork of the
// Confidential Containers pattern is shaped. It decodes a config file strictly (every unknown
// field, wrong type and invalid value is reported at once with file, line and field path),
// fills defaults, validates, and publishes the JSON Schema of the types.
package config

// APIVersion and Kind identify the only config version pattern-gen reads today.
const (
	APIVersion = "pattern-gen.io/v1alpha1"
	Kind       = "Pattern"
)

// Pattern is the whole config of one fork.
type Pattern struct {
	APIVersion string   `yaml:"apiVersion" json:"apiVersion" jsonschema:"enum=pattern-gen.io/v1alpha1" jsonschema_description:"Config version."`
	Kind       string   `yaml:"kind" json:"kind" jsonschema:"enum=Pattern"`
	Metadata   Metadata `yaml:"metadata" json:"metadata"`
	// Git is where the fork lives; written to values-global.yaml main.git.
	Git          Git         `yaml:"git" json:"git"`
	ClusterGroup string      `yaml:"clusterGroup,omitempty" json:"clusterGroup,omitempty" jsonschema_description:"Validated Patterns clusterGroup name; selects values-<name>.yaml (default hub)."`
	Topology     string      `yaml:"topology,omitempty" json:"topology,omitempty" jsonschema:"enum=converged,enum=split" jsonschema_description:"converged (default): Trustee and the confidential workloads on one cluster. split: Trustee on a trusted hub (clusterGroup, default trusted-hub) and the workloads on spoke clusters that ACM imports (spoke.clusterGroup)."`
	Spoke        Spoke       `yaml:"spoke,omitempty" json:"spoke,omitempty" jsonschema_description:"The spoke clusterGroup of topology split."`
	AppsDomain   string      `yaml:"appsDomain,omitempty" json:"appsDomain,omitempty" jsonschema_description:"Apps domain of the cluster that runs the KBS (the trusted hub with topology split), e.g. apps.mycluster.example.com, for the KBS URL in the initdata; read from the cluster at sync time when empty."`
	Platform     string      `yaml:"platform,omitempty" json:"platform,omitempty" jsonschema:"enum=Azure,enum=AWS,enum=BareMetal" jsonschema_description:"Where the confidential pods run: Azure (default) or AWS peer pods (settings under azure or aws), or BareMetal worker nodes with Intel TDX or AMD SEV-SNP (settings under hardware)."`
	Hardware     Hardware    `yaml:"hardware,omitempty" json:"hardware,omitempty" jsonschema_description:"The TEE of the bare-metal nodes that run the confidential pods (platform BareMetal only)."`
	Operators    Operators   `yaml:"operators,omitempty" json:"operators,omitempty"`
	Azure        Azure       `yaml:"azure,omitempty" json:"azure,omitempty"`
	AWS          AWS         `yaml:"aws,omitempty" json:"aws,omitempty"`
	Trustee      Trustee     `yaml:"trustee,omitempty" json:"trustee,omitempty"`
	Workloads    Workloads   `yaml:"workloads,omitempty" json:"workloads,omitempty"`
	SecretStore  SecretStore `yaml:"secretStore,omitempty" json:"secretStore,omitempty"`
	Plugin       Plugin      `yaml:"plugin,omitempty" json:"plugin,omitempty"`
}

// Spoke is the clusterGroup of the clusters that run the confidential workloads when the
// topology is split.
type Spoke struct {
	ClusterGroup string `yaml:"clusterGroup,omitempty" json:"clusterGroup,omitempty" jsonschema_description:"clusterGroup of the spoke clusters; selects values-<name>.yaml and the ACM label clusterGroup=<name> (default spoke)."`
}

// Metadata names the pattern.
type Metadata struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty" jsonschema_description:"Pattern name (global.pattern); also names the Argo CD namespace <name>-<clusterGroup> (default coco-pattern)."`
}

// Git locates the fork.
type Git struct {
	RepoURL  string `yaml:"repoURL,omitempty" json:"repoURL,omitempty" jsonschema_description:"URL of the fork's git repository (https://, ssh:// or git@host:path)."`
	Revision string `yaml:"revision,omitempty" json:"revision,omitempty" jsonschema_description:"Branch, tag or commit Argo CD follows (default main)."`
}

// Operators pins the two operators by CSV; subscriptions are always rendered with csv:,
// never version: (which the clustergroup chart turns into an OLMv1 ClusterExtension).
type Operators struct {
	SandboxedContainers OperatorPin `yaml:"sandboxedContainers,omitempty" json:"sandboxedContainers,omitempty"`
	Trustee             OperatorPin `yaml:"trustee,omitempty" json:"trustee,omitempty"`
	// ACM runs on the trusted hub of a split topology only.
	ACM OperatorPin `yaml:"acm,omitempty" json:"acm,omitempty" jsonschema_description:"Red Hat Advanced Cluster Management on the trusted hub (topology split only); default csv advanced-cluster-management.v2.14.0, channel release-<major.minor of the csv>."`
	// NFD labels bare-metal nodes with their TEE; its CSVs follow the OpenShift release.
	NFD OperatorPin `yaml:"nfd,omitempty" json:"nfd,omitempty" jsonschema_description:"Node Feature Discovery (platform BareMetal only, required there): the csv your OpenShift release's redhat-operators catalog offers, such as nfd.4.20.0-202511201134 (oc get packagemanifest nfd -n openshift-marketplace -o jsonpath='{.status.channels[?(@.name==\"stable\")].currentCSV}'); channel stable."`
}

// OperatorPin is one OLM subscription pin.
type OperatorPin struct {
	CSV                 string `yaml:"csv,omitempty" json:"csv,omitempty" jsonschema_description:"ClusterServiceVersion to install, e.g. sandboxed-containers-operator.v1.13.0."`
	Channel             string `yaml:"channel,omitempty" json:"channel,omitempty" jsonschema_description:"OLM channel (default stable)."`
	InstallPlanApproval string `yaml:"installPlanApproval,omitempty" json:"installPlanApproval,omitempty" jsonschema:"enum=Manual,enum=Automatic" jsonschema_description:"Manual (default) keeps the pinned CSV; the framework approves the matching install plan."`
}

// Azure holds the peer-pod settings for Azure.
type Azure struct {
	InstanceSize      string            `yaml:"instanceSize,omitempty" json:"instanceSize,omitempty" jsonschema_description:"Default confidential VM size for a peer pod (AZURE_INSTANCE_SIZE)."`
	InstanceSizes     []string          `yaml:"instanceSizes,omitempty" json:"instanceSizes,omitempty" jsonschema_description:"Confidential VM sizes pods may ask for (AZURE_INSTANCE_SIZES); must contain instanceSize."`
	Region            string            `yaml:"region,omitempty" json:"region,omitempty" jsonschema_description:"Azure region (AZURE_REGION); read from the cluster's cloud-conf when empty."`
	ResourceGroup     string            `yaml:"resourceGroup,omitempty" json:"resourceGroup,omitempty" jsonschema_description:"Resource group for pod VMs (AZURE_RESOURCE_GROUP); read from cloud-conf when empty."`
	SubnetID          string            `yaml:"subnetID,omitempty" json:"subnetID,omitempty" jsonschema_description:"Azure resource ID of the worker subnet (AZURE_SUBNET_ID); read from cloud-conf when empty."`
	NSGID             string            `yaml:"nsgID,omitempty" json:"nsgID,omitempty" jsonschema_description:"Azure resource ID of the network security group (AZURE_NSG_ID); read from cloud-conf when empty."`
	Tags              map[string]string `yaml:"tags,omitempty" json:"tags,omitempty" jsonschema_description:"Tags put on every pod VM resource (TAGS)."`
	Egress            string            `yaml:"egress,omitempty" json:"egress,omitempty" jsonschema:"enum=managed,enum=none" jsonschema_description:"managed (default): each sync gives the worker subnet a NAT gateway for pod VMs when it has none; none: your network team owns egress."`
	RootVolumeSizeGiB int               `yaml:"rootVolumeSizeGiB,omitempty" json:"rootVolumeSizeGiB,omitempty" jsonschema:"minimum=0,maximum=4095" jsonschema_description:"Pod VM root disk size in GiB (ROOT_VOLUME_SIZE); 0 keeps the image size."`
}

// AWS holds the peer-pod settings for AWS (platform: AWS). Pod VMs are EC2 instances with AMD
// SEV-SNP enabled.
type AWS struct {
	InstanceType      string            `yaml:"instanceType,omitempty" json:"instanceType,omitempty" jsonschema_description:"Default AMD SEV-SNP instance type for a peer pod (PODVM_INSTANCE_TYPE): m6a large to 8xlarge, c6a large to 16xlarge, r6a large to 4xlarge (default m6a.large)."`
	InstanceTypes     []string          `yaml:"instanceTypes,omitempty" json:"instanceTypes,omitempty" jsonschema_description:"AMD SEV-SNP instance types pods may ask for (PODVM_INSTANCE_TYPES); must contain instanceType."`
	AMIID             string            `yaml:"amiID,omitempty" json:"amiID,omitempty" jsonschema_description:"Pod VM image (PODVM_AMI_ID); empty lets the operator build it and keep its ID in peer-pods-cm."`
	Region            string            `yaml:"region,omitempty" json:"region,omitempty" jsonschema_description:"AWS region (AWS_REGION); read from the cluster's Infrastructure when empty."`
	SubnetID          string            `yaml:"subnetID,omitempty" json:"subnetID,omitempty" jsonschema_description:"Subnet of the pod VMs (AWS_SUBNET_ID), such as subnet-0123456789abcdef0; read from the worker MachineSets when they name it by ID."`
	SecurityGroupIDs  []string          `yaml:"securityGroupIDs,omitempty" json:"securityGroupIDs,omitempty" jsonschema_description:"Security groups of the pod VMs (AWS_SG_IDS); read from the worker MachineSets when they name them by ID."`
	VPCID             string            `yaml:"vpcID,omitempty" json:"vpcID,omitempty" jsonschema_description:"VPC of the subnet (AWS_VPC_ID); no cluster object holds it, so set it here or as a plugin parameter."`
	Tags              map[string]string `yaml:"tags,omitempty" json:"tags,omitempty" jsonschema_description:"Tags put on every pod VM (TAGS)."`
	RootVolumeSizeGiB int               `yaml:"rootVolumeSizeGiB,omitempty" json:"rootVolumeSizeGiB,omitempty" jsonschema:"minimum=0,maximum=16384" jsonschema_description:"Pod VM root volume size in GiB (ROOT_VOLUME_SIZE); 0 leaves the cloud API adaptor's default (30 GiB)."`
}

// Hardware is the TEE of bare-metal worker nodes (platform: BareMetal): which node preparation
// the pattern deploys and which evidence Trustee verifies.
type Hardware struct {
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty" jsonschema:"enum=intel-tdx,enum=amd-snp,enum=mixed" jsonschema_description:"intel-tdx or amd-snp: the TEE of the nodes that run the confidential pods; mixed (topology split only): spoke clusters of either kind, each of one kind, and a trusted hub that verifies both."`
}

// Trustee configures the Key Broker Service.
type Trustee struct {
	SecurityPolicyFlavour string   `yaml:"securityPolicyFlavour,omitempty" json:"securityPolicyFlavour,omitempty" jsonschema:"enum=insecure,enum=signed,enum=reject" jsonschema_description:"Container image signature policy served by the KBS (default insecure)."`
	HTTPS                 *bool    `yaml:"https,omitempty" json:"https,omitempty" jsonschema_description:"KBS terminates TLS itself behind a passthrough Route (default true)."`
	KBSCertificate        string   `yaml:"kbsCertificate,omitempty" json:"kbsCertificate,omitempty" jsonschema_description:"PEM certificate the KBS serves, carried in the initdata; read from the cluster (Secret kbs-https-certificate) when empty. Public: never a key."`
	SecretResources       []string `yaml:"secretResources,omitempty" json:"secretResources,omitempty" jsonschema_description:"Vault secrets under secret/hub/ that the KBS releases to attested pods (default kbsres1, passphrase)."`
}

// Workloads switches the sample applications.
type Workloads struct {
	HelloOpenshift *bool `yaml:"helloOpenshift,omitempty" json:"helloOpenshift,omitempty" jsonschema_description:"Deploy hello-openshift in its standard, secure and insecure-policy variants (default true)."`
	KBSAccess      *bool `yaml:"kbsAccess,omitempty" json:"kbsAccess,omitempty" jsonschema_description:"Deploy the kbs-access sample that fetches a KBS resource inside the TEE (default false)."`
}

// SecretStore selects the secret backend of the framework.
type SecretStore struct {
	Backend string `yaml:"backend,omitempty" json:"backend,omitempty" jsonschema:"enum=vault,enum=none" jsonschema_description:"vault (default) deploys Vault and External Secrets; none skips every ExternalSecret."`
}

// Plugin names the Argo CD config-management plugin sidecar.
type Plugin struct {
	Image string `yaml:"image,omitempty" json:"image,omitempty" jsonschema_description:"Container image of the cmp-plugin sidecar (registry/repository:tag or @sha256 digest)."`
}

// Bool reads an optional boolean with its default.
func Bool(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
