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
	LiveImageID string     // AZURE_IMAGE_ID of the live peer-pods-cm, written by the operator
	// The KBS, as the cluster knows it: its apps domain and the PEM certificate it serves
	// (public), and the objects they are read from. On a converged cluster or the trusted hub
	// that is the ingress domain and Secret kbs-https-certificate; on a spoke, the Secret the
	// hub's kbs-publish policy writes.
	AppsDomain, KBSCert         string
	AppsDomainFrom, KBSCertFrom string
}

// Scope says which of the cluster's facts a render needs. TrustedHub: a spoke, whose KBS runs on
// the trusted hub (its domain and certificate come from what the hub publishes). PeerPods: the
// cluster runs OpenShift sandboxed containers, so its live peer-pods-cm is read (a trusted hub
// has none, and grants none to read).
type Scope struct {
	TrustedHub, PeerPods bool
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
	valuesKey string // under global.coco.azure in the fork's values
	cluster   func(*Cluster) string
	clusterAt string // where on the cluster, for messages
	def       string
	required  bool
}

var keys = []key{
	{name: "AZURE_REGION", setting: config.SetAzureRegion, valuesKey: "region", required: true,
		cluster: func(c *Cluster) string { return cc(c).Location }, clusterAt: "cloud-conf location"},
	{name: "AZURE_RESOURCE_GROUP", setting: config.SetAzureResourceGroup, valuesKey: "resourceGroup", required: true,
		cluster: func(c *Cluster) string { return cc(c).ResourceGroup }, clusterAt: "cloud-conf resourceGroup"},
	{name: "AZURE_SUBNET_ID", setting: config.SetAzureSubnetID, valuesKey: "subnetID", required: true,
		cluster: func(c *Cluster) string { return cc(c).SubnetID() }, clusterAt: "cloud-conf subscriptionId, vnetResourceGroup, vnetName, subnetName"},
	{name: "AZURE_NSG_ID", setting: config.SetAzureNSGID, valuesKey: "nsgID", required: true,
		cluster: func(c *Cluster) string { return cc(c).NSGID() }, clusterAt: "cloud-conf subscriptionId, resourceGroup, securityGroupName"},
	{name: "AZURE_INSTANCE_SIZE", setting: config.SetAzureInstanceSize, valuesKey: "defaultVMFlavour", def: config.DefaultInstanceSize},
	{name: "AZURE_INSTANCE_SIZES", setting: config.SetAzureInstanceSizes, valuesKey: "VMFlavours", def: strings.Join(config.DefaultInstanceSizes, ",")},
}

// ClusterKeys are the peer-pods-cm keys the cluster provides, each with its values key under
// global.coco.azure: the sandboxed-containers chart's clusterValues helper holds the same table
// (a test in internal/generate keeps the two equal).
func ClusterKeys() map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if k.cluster != nil {
			out[k.name] = k.valuesKey
		}
	}
	return out
}

// ValuesKey maps a peer-pods-cm key to the chart's value key under global.coco.azure.
func ValuesKey(name string) string {
	for _, k := range keys {
		if k.name == name {
			return k.valuesKey
		}
	}
	return ""
}

func cc(c *Cluster) *CloudConf {
	if c == nil || c.CloudConf == nil {
		return &CloudConf{}
	}
	return c.CloudConf
}

// Resolve picks each peer-pods-cm key from the highest source that has it and validates it.
// azureValues is global.coco.azure from the fork's merged values. Every key without a source and
// every invalid value is reported at once, each with the ways to supply it; the keys that did
// resolve are returned even then, for an offline render that shows the rest as placeholders.
func Resolve(env config.PluginEnv, cluster *Cluster, azureValues contract.Azure) ([]Value, error) {
	var out []Value
	var errs []string
	for _, k := range keys {
		v, src, ok := env.Lookup(k.setting)
		if !ok && cluster != nil && k.cluster != nil {
			if cv := k.cluster(cluster); cv != "" {
				v, src, ok = cv, "cluster "+k.clusterAt, true
			}
		}
		if !ok {
			if s := azureValues.Value(k.valuesKey); s != "" {
				v, src, ok = s, "values global.coco.azure."+k.valuesKey, true
			}
		}
		if !ok && k.def != "" {
			v, src, ok = k.def, "default", true
		}
		if !ok {
			if k.required {
				errs = append(errs, fmt.Sprintf("%s has no source: set plugin parameter %s or plugin env %s on the application, let the plugin read it from the cluster (%s), or set azure.%s in pattern-gen.yaml (global.coco.azure.%s in values-global.yaml)",
					k.name, k.setting.Param, k.setting.Env, k.clusterAt, k.valuesKey, k.valuesKey))
			}
			continue
		}
		if k.name == "AZURE_INSTANCE_SIZES" {
			v = strings.ReplaceAll(v, " ", "")
		}
		if err := config.CheckAzureValue(k.name, v); err != nil {
			errs = append(errs, fmt.Sprintf("%s from %s: %v", k.name, src, err))
			continue
		}
		out = append(out, Value{Key: k.name, Value: v, Source: src})
	}
	if size, sizes := find(out, "AZURE_INSTANCE_SIZE"), find(out, "AZURE_INSTANCE_SIZES"); size != nil && sizes != nil {
		if !slices.Contains(strings.Split(sizes.Value, ","), size.Value) {
			errs = append(errs, fmt.Sprintf("AZURE_INSTANCE_SIZE %s (from %s) is not in AZURE_INSTANCE_SIZES %s (from %s); pods may only use listed sizes", size.Value, size.Source, sizes.Value, sizes.Source))
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
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
	}{}
	if c != nil {
		facts.CloudConf, facts.LiveImageID, facts.AppsDomain, facts.KBSCert = c.CloudConf, c.LiveImageID, c.AppsDomain, c.KBSCert
	}
	data, err := json.Marshal(facts)
	if err != nil {
		panic(err) // strings and a struct of strings always encode
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
