package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Environment variables Argo CD's CMP server passes to cmp-plugin (argocd-cmp.md §1.5) that the
// plugin reads.
const (
	EnvSourcePath    = "ARGOCD_APP_SOURCE_PATH"
	EnvAppName       = "ARGOCD_APP_NAME"
	EnvAppParameters = "ARGOCD_APP_PARAMETERS"
	EnvKubeVersion   = "KUBE_VERSION"
	// EnvPrefix prefixes every entry of an Application's plugin.env.
	EnvPrefix = "ARGOCD_ENV_"
)

// Setting is one value cmp-plugin accepts from a plugin parameter or from plugin env.
type Setting struct {
	Param string // name in the Application's plugin.parameters
	Env   string // name in plugin.env (Argo CD prefixes it with ARGOCD_ENV_)
	Help  string
}

// Plugin settings, each settable as a parameter or an env entry.
var (
	SetAzureRegion         = Setting{"azure-region", "AZURE_REGION", "Azure region of the pod VMs (AZURE_REGION)"}
	SetAzureResourceGroup  = Setting{"azure-resource-group", "AZURE_RESOURCE_GROUP", "resource group of the pod VMs (AZURE_RESOURCE_GROUP)"}
	SetAzureSubnetID       = Setting{"azure-subnet-id", "AZURE_SUBNET_ID", "subnet resource ID of the pod VMs (AZURE_SUBNET_ID)"}
	SetAzureNSGID          = Setting{"azure-nsg-id", "AZURE_NSG_ID", "network security group resource ID (AZURE_NSG_ID)"}
	SetAzureInstanceSize   = Setting{"azure-instance-size", "AZURE_INSTANCE_SIZE", "default confidential VM size (AZURE_INSTANCE_SIZE)"}
	SetAzureInstanceSizes  = Setting{"azure-instance-sizes", "AZURE_INSTANCE_SIZES", "allowed confidential VM sizes, comma-separated (AZURE_INSTANCE_SIZES)"}
	SetAWSRegion           = Setting{"aws-region", "AWS_REGION", "AWS region of the pod VMs (AWS_REGION)"}
	SetAWSSubnetID         = Setting{"aws-subnet-id", "AWS_SUBNET_ID", "subnet ID of the pod VMs (AWS_SUBNET_ID)"}
	SetAWSSecurityGroupIDs = Setting{"aws-sg-ids", "AWS_SG_IDS", "security group IDs of the pod VMs, comma-separated (AWS_SG_IDS)"}
	SetAWSVPCID            = Setting{"aws-vpc-id", "AWS_VPC_ID", "VPC ID of the subnet (AWS_VPC_ID)"}
	SetAWSInstanceType     = Setting{"aws-instance-type", "PODVM_INSTANCE_TYPE", "default AMD SEV-SNP instance type (PODVM_INSTANCE_TYPE)"}
	SetAWSInstanceTypes    = Setting{"aws-instance-types", "PODVM_INSTANCE_TYPES", "allowed AMD SEV-SNP instance types, comma-separated (PODVM_INSTANCE_TYPES)"}
	SetClusterDomain       = Setting{"cluster-domain", "CLUSTER_DOMAIN", "apps domain of the cluster that runs the KBS (the trusted hub, for a spoke); the KBS URL is https://kbs-trustee-operator-system.<domain>"}
	SetClusterGroup        = Setting{"cluster-group", "CLUSTER_GROUP", "clusterGroup of the application (values-<name>.yaml); default main.clusterGroupName. Another group is a spoke, whose KBS runs on the trusted hub"}
	SetClusterDiscovery    = Setting{"cluster-discovery", "CLUSTER_DISCOVERY", "enabled (default) or disabled: read cloud-conf (Azure) or the Infrastructure and worker MachineSets (AWS), peer-pods-cm and the KBS address (the ingress domain, or on a spoke Secret trusted-hub-kbs) from the cluster"}
	SetOverlay             = Setting{"overlay", "OVERLAY", "kustomize overlay directory (from the repository root) applied to the chart output"}
)

// PluginSettings lists every setting, in the order plugin.yaml announces them.
var PluginSettings = []Setting{
	SetAzureRegion, SetAzureResourceGroup, SetAzureSubnetID, SetAzureNSGID,
	SetAzureInstanceSize, SetAzureInstanceSizes, SetClusterDomain, SetClusterDiscovery, SetOverlay,
	SetClusterGroup,
	SetAWSRegion, SetAWSSubnetID, SetAWSSecurityGroupIDs, SetAWSVPCID, SetAWSInstanceType, SetAWSInstanceTypes,
}

// listSettings are the settings a parameter may give as an array (joined with ",").
var listSettings = []Setting{SetAzureInstanceSizes, SetAWSInstanceTypes, SetAWSSecurityGroupIDs}

// PluginEnv is everything cmp-plugin learns from its environment, read in one place.
type PluginEnv struct {
	SourcePath, KubeVersion string
	AppName                 string            // the Application's name: which of the applications at SourcePath
	Params                  map[string]string // setting parameter name -> value
	Env                     map[string]string // setting env name -> value
}

// appParameter is one entry of ARGOCD_APP_PARAMETERS.
type appParameter struct {
	Name   string            `json:"name"`
	String *string           `json:"string,omitempty"`
	Array  []string          `json:"array,omitempty"`
	Map    map[string]string `json:"map,omitempty"`
}

// FromEnv reads cmp-plugin's inputs. Precedence between the two user-facing sources is applied
// later, per setting: a plugin parameter (ARGOCD_APP_PARAMETERS) wins over plugin env
// (ARGOCD_ENV_*), which wins over what the cluster and the repository say. The PARAM_* variables
// are ignored: their names are lossy (argocd-cmp.md §1.5). Unknown parameter names and bad JSON
// are errors, so a typo in an Application never silently falls back to a default.
func FromEnv(getenv func(string) string) (PluginEnv, error) {
	e := PluginEnv{
		SourcePath:  getenv(EnvSourcePath),
		AppName:     getenv(EnvAppName),
		KubeVersion: getenv(EnvKubeVersion),
		Params:      map[string]string{},
		Env:         map[string]string{},
	}
	for _, s := range PluginSettings {
		if v := getenv(EnvPrefix + s.Env); v != "" {
			e.Env[s.Env] = v
		}
	}
	raw := getenv(EnvAppParameters)
	if raw == "" {
		return e, nil
	}
	var params []appParameter
	if err := json.Unmarshal([]byte(raw), &params); err != nil {
		return e, fmt.Errorf("%s: not the JSON list Argo CD sends: %w", EnvAppParameters, err)
	}
	known, names := settingNames(func(s Setting) string { return s.Param })
	sort.Strings(names)
	var errs []string
	for _, p := range params {
		switch {
		case !known[p.Name]:
			errs = append(errs, fmt.Sprintf("plugin parameter %q is unknown; known parameters: %s", p.Name, strings.Join(names, ", ")))
		case p.Map != nil:
			errs = append(errs, fmt.Sprintf("plugin parameter %q: expected a string, got a map", p.Name))
		case p.Array != nil:
			if !slices.ContainsFunc(listSettings, func(s Setting) bool { return s.Param == p.Name }) {
				errs = append(errs, fmt.Sprintf("plugin parameter %q: expected a string, got an array", p.Name))
				continue
			}
			e.Params[p.Name] = strings.Join(p.Array, ",")
		case p.String != nil:
			e.Params[p.Name] = *p.String
		}
	}
	if len(errs) > 0 {
		return e, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return e, nil
}

// Lookup returns a setting's value from the parameter or, failing that, the env entry, with
// the name of the source.
func (e PluginEnv) Lookup(s Setting) (value, source string, ok bool) {
	if v, ok := e.Params[s.Param]; ok && v != "" {
		return v, "parameter " + s.Param, true
	}
	if v, ok := e.Env[s.Env]; ok && v != "" {
		return v, "env " + s.Env, true
	}
	return "", "", false
}

// EnvFromPairs builds the plugin env an Application would give, from KEY=VALUE pairs (the
// names of plugin env entries, without ARGOCD_ENV_), for offline renders and diffs.
func EnvFromPairs(pairs []string) (PluginEnv, error) {
	known, names := settingNames(func(s Setting) string { return s.Env })
	vars := map[string]string{}
	var errs []string
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("--set-env %q: expected KEY=VALUE", p))
		case !known[k]:
			errs = append(errs, fmt.Sprintf("--set-env %s: unknown plugin env; known: %s", k, strings.Join(names, ", ")))
		default:
			vars[EnvPrefix+k] = v
		}
	}
	if len(errs) > 0 {
		return PluginEnv{}, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return FromEnv(func(k string) string { return vars[k] })
}

// settingNames returns the set and the list (in PluginSettings order) of one name of every
// plugin setting.
func settingNames(name func(Setting) string) (map[string]bool, []string) {
	known := map[string]bool{}
	var names []string
	for _, s := range PluginSettings {
		known[name(s)] = true
		names = append(names, name(s))
	}
	return known, names
}
