package peerpods

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/contract"
)

// Cluster is what cmp-plugin read from the cluster it runs in. A nil *Cluster means discovery
// was off or the cluster could not be read.
type Cluster struct {
	CloudConf   *CloudConf // nil when cloud-conf is absent
	LiveImageID string     // the pod VM image of the live peer-pods-cm (Provider.ImageKey), written by the operator
	// The KBS, as the cluster knows it: its apps domain and the PEM certificate it serves
	// (public), and the objects they are read from. On a converged cluster or the trusted hub
	// that is the ingress domain and Secret kbs-https-certificate; on a spoke, the Secret the
	// hub's kbs-publish policy writes.
	AppsDomain, KBSCert         string
	AppsDomainFrom, KBSCertFrom string
	AWS                         AWSFacts // on AWS
}

// AWSFacts are the AWS settings the cluster holds: the region of its Infrastructure, and the
// subnet and security groups its worker MachineSets name by ID (empty where they select by
// filter). The security groups are comma-separated.
type AWSFacts struct {
	Region, SubnetID, SecurityGroupIDs string
	// PlatformType is the Infrastructure's status.platformStatus.type: a fork for AWS must not
	// render its peer-pods-cm on another cloud.
	PlatformType string
	// NetworkNote says why the subnet and security groups are not known when they are not:
	// the worker MachineSet selects them by a tag filter, which only the AWS API resolves.
	NetworkNote string
}

// Scope says which of the cluster's facts a render needs. TrustedHub: a spoke, whose KBS runs on
// the trusted hub (its domain and certificate come from what the hub publishes). PeerPods: the
// cluster runs OpenShift sandboxed containers, so its live peer-pods-cm is read (a trusted hub
// has none, and grants none to read).
type Scope struct {
	TrustedHub, PeerPods bool
	// Platform is the fork's platform: which cloud objects hold the peer-pods settings.
	Platform string
}

// Value is one resolved setting and where it came from.
type Value struct {
	Key, Value, Source string
}

// key describes how one peer-pods-cm key is resolved, highest source first: plugin parameter,
// plugin env, the cluster, the repository's values, a default.
type key struct {
	name      string
	setting   config.Setting
	valuesKey string // under global.coco.<provider> in the fork's values
	cluster   func(*Cluster) string
	clusterAt string // where on the cluster, for messages
	// clusterNote says, when the cluster did not give the key, why (shown with the error).
	clusterNote func(*Cluster) string
	def         string
	required    bool
	list        bool // comma-separated; spaces are dropped
}

// Provider is the peer-pods settings of one platform: the peer-pods-cm keys the plugin resolves
// and where the fork's values keep them (global.coco.<ValuesRoot>, pattern-gen.yaml
// <ValuesRoot>). It is the one table of them: the charts' cluster-value helpers are held equal
// to it by a test in internal/generate.
type Provider struct {
	Platform   string // the config's platform
	ValuesRoot string // azure, aws
	ImageKey   string // the peer-pods-cm key of the pod VM image the operator builds and writes
	values     func(contract.Coco) contract.Values
	keys       []key
	// sizes are the instance-size keys: the default and the list it must be in.
	size, sizes string
}

var azure = &Provider{Platform: "Azure", ValuesRoot: "azure", ImageKey: "AZURE_IMAGE_ID",
	values: func(c contract.Coco) contract.Values { return c.Azure }, size: "AZURE_INSTANCE_SIZE", sizes: "AZURE_INSTANCE_SIZES", keys: []key{
		{name: "AZURE_REGION", setting: config.SetAzureRegion, valuesKey: "region", required: true,
			cluster: func(c *Cluster) string { return cc(c).Location }, clusterAt: "cloud-conf location"},
		{name: "AZURE_RESOURCE_GROUP", setting: config.SetAzureResourceGroup, valuesKey: "resourceGroup", required: true,
			cluster: func(c *Cluster) string { return cc(c).ResourceGroup }, clusterAt: "cloud-conf resourceGroup"},
		{name: "AZURE_SUBNET_ID", setting: config.SetAzureSubnetID, valuesKey: "subnetID", required: true,
			cluster: func(c *Cluster) string { return cc(c).SubnetID() }, clusterAt: "cloud-conf subscriptionId, vnetResourceGroup, vnetName, subnetName"},
		{name: "AZURE_NSG_ID", setting: config.SetAzureNSGID, valuesKey: "nsgID", required: true,
			cluster: func(c *Cluster) string { return cc(c).NSGID() }, clusterAt: "cloud-conf subscriptionId, resourceGroup, securityGroupName"},
		{name: "AZURE_INSTANCE_SIZE", setting: config.SetAzureInstanceSize, valuesKey: "defaultVMFlavour", def: config.DefaultInstanceSize},
		{name: "AZURE_INSTANCE_SIZES", setting: config.SetAzureInstanceSizes, valuesKey: "VMFlavours", def: strings.Join(config.DefaultInstanceSizes, ","), list: true},
	}}

// aws: the keys the operator requires before it builds the pod VM image (AWS_REGION,
// AWS_SUBNET_ID, AWS_VPC_ID, AWS_SG_IDS; openshift/sandboxed-containers-operator's peer-pods
// image validation) and the instance types. The cluster knows only the region
// (Infrastructure) and, where the worker MachineSets name them by ID, the subnet and security
// groups; an installer-made MachineSet selects them by tag filter, and no cluster object holds
// the VPC.
var aws = &Provider{Platform: "AWS", ValuesRoot: "aws", ImageKey: "PODVM_AMI_ID",
	values: func(c contract.Coco) contract.Values { return c.AWS }, size: "PODVM_INSTANCE_TYPE", sizes: "PODVM_INSTANCE_TYPES", keys: []key{
		{name: "AWS_REGION", setting: config.SetAWSRegion, valuesKey: "region", required: true,
			cluster: func(c *Cluster) string { return awsOf(c).Region }, clusterAt: "infrastructures.config.openshift.io/cluster status.platformStatus.aws.region"},
		{name: "AWS_SUBNET_ID", setting: config.SetAWSSubnetID, valuesKey: "subnetID", required: true,
			cluster: func(c *Cluster) string { return awsOf(c).SubnetID }, clusterAt: "the worker MachineSets' providerSpec subnet.id",
			clusterNote: func(c *Cluster) string { return awsOf(c).NetworkNote }},
		{name: "AWS_SG_IDS", setting: config.SetAWSSecurityGroupIDs, valuesKey: "securityGroupIDs", required: true, list: true,
			cluster: func(c *Cluster) string { return awsOf(c).SecurityGroupIDs }, clusterAt: "the worker MachineSets' providerSpec securityGroups[].id",
			clusterNote: func(c *Cluster) string { return awsOf(c).NetworkNote }},
		{name: "AWS_VPC_ID", setting: config.SetAWSVPCID, valuesKey: "vpcID", required: true},
		{name: "PODVM_INSTANCE_TYPE", setting: config.SetAWSInstanceType, valuesKey: "instanceType", def: config.DefaultAWSInstanceType},
		{name: "PODVM_INSTANCE_TYPES", setting: config.SetAWSInstanceTypes, valuesKey: "instanceTypes", def: strings.Join(config.DefaultAWSInstanceTypes, ","), list: true},
	}}

// ProviderOf is the peer-pods settings of a platform; false for a platform without peer pods.
func ProviderOf(platform string) (*Provider, bool) {
	for _, p := range []*Provider{azure, aws} {
		if p.Platform == platform {
			return p, true
		}
	}
	return nil, false
}

// RequiredKeys are the peer-pods-cm keys without a default, each with its values key: what the
// cluster or the fork must supply (the chart renders a placeholder for each when it is empty).
func (p *Provider) RequiredKeys() map[string]string {
	out := map[string]string{}
	for _, k := range p.keys {
		if k.required {
			out[k.name] = k.valuesKey
		}
	}
	return out
}

// Values is this provider's settings in the fork's values contract (global.coco.<ValuesRoot>).
func (p *Provider) Values(c contract.Coco) contract.Values { return p.values(c) }

// ValuesPath is where the fork's values keep a setting of this provider (global.coco.<root>.<key>).
func (p *Provider) ValuesPath(key string) string { return "global.coco." + p.ValuesRoot + "." + key }

// ValuesKey maps a peer-pods-cm key to the chart's value key under global.coco.<ValuesRoot>.
func (p *Provider) ValuesKey(name string) string {
	for _, k := range p.keys {
		if k.name == name {
			return k.valuesKey
		}
	}
	return ""
}

func awsOf(c *Cluster) AWSFacts {
	if c == nil {
		return AWSFacts{}
	}
	return c.AWS
}

func cc(c *Cluster) *CloudConf {
	if c == nil || c.CloudConf == nil {
		return &CloudConf{}
	}
	return c.CloudConf
}

// Resolve picks each peer-pods-cm key of the provider from the highest source that has it and
// validates it. values is global.coco.<ValuesRoot> from the fork's merged values. Every key
// without a source and every invalid value is reported at once, each with the ways to supply
// it; the keys that did resolve are returned even then, for an offline render that shows the
// rest as placeholders.
func (p *Provider) Resolve(env config.PluginEnv, cluster *Cluster, values contract.Values) ([]Value, error) {
	var out []Value
	var errs []string
	if t := awsOf(cluster).PlatformType; t != "" && t != p.Platform {
		errs = append(errs, fmt.Sprintf("the cluster's Infrastructure says platform %q, but the fork's platform is %s (pattern-gen.yaml platform): its peer-pods-cm would name %s resources on another cloud", t, p.Platform, p.Platform))
	}
	errs = append(errs, p.foreign(env)...)
	for _, k := range p.keys {
		v, src, ok := env.Lookup(k.setting)
		if !ok && cluster != nil && k.cluster != nil {
			if cv := k.cluster(cluster); cv != "" {
				v, src, ok = cv, "cluster "+k.clusterAt, true
			}
		}
		if !ok {
			if s := values.Value(k.valuesKey); s != "" {
				v, src, ok = s, "values "+p.ValuesPath(k.valuesKey), true
			}
		}
		if !ok && k.def != "" {
			v, src, ok = k.def, "default", true
		}
		if !ok {
			if k.required {
				msg := p.noSource(k)
				if k.clusterNote != nil && cluster != nil {
					if note := k.clusterNote(cluster); note != "" {
						msg += "; on this cluster, " + note
					}
				}
				errs = append(errs, msg)
			}
			continue
		}
		if k.list {
			v = strings.ReplaceAll(v, " ", "")
		}
		if err := config.CheckPeerPodsValue(k.name, v); err != nil {
			errs = append(errs, fmt.Sprintf("%s from %s: %v", k.name, src, err))
			continue
		}
		out = append(out, Value{Key: k.name, Value: v, Source: src})
	}
	if size, sizes := find(out, p.size), find(out, p.sizes); size != nil && sizes != nil {
		if !slices.Contains(strings.Split(sizes.Value, ","), size.Value) {
			errs = append(errs, fmt.Sprintf("%s %s (from %s) is not in %s %s (from %s); pods may only use listed sizes", p.size, size.Value, size.Source, p.sizes, sizes.Value, sizes.Source))
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

// foreign reports the parameters and env entries of another platform's keys: given to this
// platform's application they would be ignored, and the key they meant would come from elsewhere.
func (p *Provider) foreign(env config.PluginEnv) []string {
	var out []string
	for _, other := range []*Provider{azure, aws} {
		if other == p {
			continue
		}
		for _, k := range other.keys {
			if _, src, ok := env.Lookup(k.setting); ok {
				out = append(out, fmt.Sprintf("%s is a setting of platform %s; this fork's platform is %s: use the %s settings (plugin parameters %s-*)", src, other.Platform, p.Platform, p.Platform, p.ValuesRoot))
			}
		}
	}
	return out
}

// noSource is the error of a required key nothing supplied, naming every way to supply it.
func (p *Provider) noSource(k key) string {
	cluster := ""
	if k.cluster != nil {
		cluster = fmt.Sprintf(", let the plugin read it from the cluster (%s)", k.clusterAt)
	}
	return fmt.Sprintf("%s has no source: set plugin parameter %s or plugin env %s on the application%s, or set %s.%s in pattern-gen.yaml (%s in values-global.yaml)",
		k.name, k.setting.Param, k.setting.Env, cluster, p.ValuesRoot, k.valuesKey, p.ValuesPath(k.valuesKey))
}

func find(vs []Value, key string) *Value {
	for i := range vs {
		if vs[i].Key == key {
			return &vs[i]
		}
	}
	return nil
}

// Provenance is the one-line JSON record of where each key came from, for the ConfigMap's
// annotation and the log. It holds sources only, never values.
func Provenance(vs []Value) string {
	m := map[string]string{}
	for _, v := range vs {
		m[v.Key] = v.Source
	}
	b, _ := json.Marshal(m) // encoding/json sorts map keys: deterministic
	return string(b)
}

// Digest identifies the cluster facts a sync-time render used: equal digests, equal renders
// (for the same revision and parameters). The refresher compares it across time to tell when
// Argo CD's cached render is stale. It is a hash: nothing of the facts can be read back.
func (c *Cluster) Digest() string {
	facts := struct {
		CloudConf                        *CloudConf
		LiveImageID, AppsDomain, KBSCert string
		AWS                              AWSFacts `json:",omitzero"` // an Azure cluster's digest is as before
	}{}
	if c != nil {
		facts.CloudConf, facts.LiveImageID, facts.AppsDomain, facts.KBSCert, facts.AWS = c.CloudConf, c.LiveImageID, c.AppsDomain, c.KBSCert, c.AWS
	}
	data, err := json.Marshal(facts)
	if err != nil {
		panic(err) // strings and a struct of strings always encode
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
