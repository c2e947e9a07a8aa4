// Package cluster reads, through the Kubernetes API, the few facts cmp-plugin takes from the
// cluster it runs in: cloud-conf, the apps domain, the live peer-pods-cm image ID and the KBS
// certificate. It reads nothing else and never a private key.
package cluster

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
)

// Where the facts live.
const (
	CloudConfNamespace = "openshift-cloud-controller-manager"
	CloudConfName      = "cloud-conf"
	CloudConfKey       = "cloud.conf"
	OSCNamespace       = "openshift-sandboxed-containers-operator"
	PeerPodsConfigMap  = "peer-pods-cm"
	// On AWS the worker MachineSets here name the subnet and security groups of the workers.
	MachineAPINamespace = "openshift-machine-api"
	workerRoleLabel     = "machine.openshift.io/cluster-api-machine-role"
	TrusteeNamespace    = "trustee-operator-system"
	KBSCertSecret       = "kbs-https-certificate"
	KBSCertKey          = "tls.crt"
	// On a spoke: the Secret the trusted hub's kbs-publish policy writes (the hub's apps domain
	// and its KBS certificate, nothing private).
	TrustedHubSecret = "trusted-hub-kbs"
	TrustedHubDomain = "appsDomain"
)

var (
	ingressGVR    = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "ingresses"}
	configMapGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secretGVR     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	infraGVR      = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "infrastructures"}
	machineSetGVR = schema.GroupVersionResource{Group: "machine.openshift.io", Version: "v1beta1", Resource: "machinesets"}
)

// ErrNoCredentials means neither KUBECONFIG nor in-cluster credentials are available.
var ErrNoCredentials = errors.New("no cluster credentials: KUBECONFIG is not set and the plugin does not run in a pod")

// RESTConfig returns the client config: KUBECONFIG when set, else the pod's service account.
func RESTConfig(getenv func(string) string) (*rest.Config, error) {
	if kc := getenv("KUBECONFIG"); kc != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kc)
		if err != nil {
			return nil, fmt.Errorf("KUBECONFIG %s: %w", kc, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if errors.Is(err, rest.ErrNotInCluster) {
		return nil, ErrNoCredentials
	}
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// Read gathers the facts. Objects that do not exist are simply absent; anything else that goes
// wrong (forbidden, unreachable) is returned as a warning so that lower sources can still serve.
// On a spoke (trustedHub) the KBS runs on the trusted hub: its domain and certificate come from
// the Secret the hub publishes, never from this cluster's ingress or Trustee namespace.
func Read(ctx context.Context, cfg *rest.Config, scope peerpods.Scope) (*peerpods.Cluster, []string) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "cmp-plugin"
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, []string{fmt.Sprintf("cluster client: %v", err)}
	}
	var warnings []string
	// get reads one object; nil when it does not exist or cannot be read (then with a warning).
	get := func(gvr schema.GroupVersionResource, ns, name, what string) map[string]any {
		var ri dynamic.ResourceInterface = dyn.Resource(gvr)
		if ns != "" {
			ri = dyn.Resource(gvr).Namespace(ns)
		}
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if !apierrors.IsNotFound(err) { // also what a server without the kind answers
				warnings = append(warnings, fmt.Sprintf("cannot read %s: %v", what, short(err)))
			}
			return nil
		}
		return u.Object
	}
	c := &peerpods.Cluster{}
	platform := cmp.Or(scope.Platform, config.DefaultPlatform)
	provider, _ := peerpods.ProviderOf(platform)
	// Only a cluster that runs peer pods needs (and is granted) its cloud's objects: a split
	// topology's trusted hub renders no peer-pods-cm.
	switch {
	case !scope.PeerPods:
	case platform == config.PlatformAWS:
		if infra := get(infraGVR, "", "cluster", "infrastructures.config.openshift.io/cluster"); infra != nil {
			c.AWS.Region, _, _ = unstructured.NestedString(infra, "status", "platformStatus", "aws", "region")
			c.AWS.PlatformType, _, _ = unstructured.NestedString(infra, "status", "platformStatus", "type")
		}
		list, err := dyn.Resource(machineSetGVR).Namespace(MachineAPINamespace).List(ctx, metav1.ListOptions{Limit: 500})
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("cannot list MachineSets in %s: %v", MachineAPINamespace, short(err)))
		} else {
			c.AWS.SubnetID, c.AWS.SecurityGroupIDs, c.AWS.NetworkNote = workerNetwork(list.Items)
		}
	case platform == config.PlatformAzure:
		what := "ConfigMap " + CloudConfNamespace + "/" + CloudConfName
		if cm := get(configMapGVR, CloudConfNamespace, CloudConfName, what); cm != nil {
			if raw, ok := dataOf(cm)[CloudConfKey]; ok {
				if c.CloudConf, err = peerpods.ParseCloudConf([]byte(raw)); err != nil {
					warnings = append(warnings, fmt.Sprintf("cannot read %s: %v", what, err))
				}
			}
		}
	}
	if scope.PeerPods && provider != nil {
		if cm := get(configMapGVR, OSCNamespace, PeerPodsConfigMap, "ConfigMap "+OSCNamespace+"/"+PeerPodsConfigMap); cm != nil {
			c.LiveImageID = dataOf(cm)[provider.ImageKey]
		}
	}
	if scope.TrustedHub {
		what := "Secret " + OSCNamespace + "/" + TrustedHubSecret
		c.AppsDomainFrom = what + " key " + TrustedHubDomain + " (from the trusted hub)"
		c.KBSCertFrom = what + " key " + KBSCertKey + " (from the trusted hub)"
		if sec := get(secretGVR, OSCNamespace, TrustedHubSecret, what); sec != nil {
			data := secretData(sec)
			c.AppsDomain = strings.TrimSpace(data[TrustedHubDomain])
			c.KBSCert = data[KBSCertKey] // public; the Secret holds nothing else
		}
		return c, warnings
	}
	c.AppsDomainFrom = "ingresses.config.openshift.io/cluster"
	c.KBSCertFrom = "Secret " + TrusteeNamespace + "/" + KBSCertSecret + " key " + KBSCertKey
	if sec := get(secretGVR, TrusteeNamespace, KBSCertSecret, "Secret "+TrusteeNamespace+"/"+KBSCertSecret); sec != nil {
		c.KBSCert = secretData(sec)[KBSCertKey] // a public certificate; no other key is read
	}
	if ing := get(ingressGVR, "", "cluster", c.AppsDomainFrom); ing != nil {
		c.AppsDomain, _, _ = unstructured.NestedString(ing, "spec", "domain")
	}
	return c, warnings
}

// workerNetwork reads the subnet and security groups of the worker MachineSets, from the first
// (by name) whose provider spec names its subnet by ID, with that MachineSet's security groups
// if it names every one by ID. An installer-made MachineSet selects both by tag filter, which only
// the AWS API resolves: then nothing is returned but a note naming the first filter, so the user
// can look the IDs up and pin them. A filter is a fact of the cluster, not a failed read.
func workerNetwork(items []unstructured.Unstructured) (subnet, groups, note string) {
	slices.SortFunc(items, func(a, b unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
	for _, ms := range items {
		role, _, _ := unstructured.NestedString(ms.Object, "spec", "template", "metadata", "labels", workerRoleLabel)
		if role != "worker" {
			continue
		}
		spec, _, _ := unstructured.NestedMap(ms.Object, "spec", "template", "spec", "providerSpec", "value")
		id, _, _ := unstructured.NestedString(spec, "subnet", "id")
		if id == "" {
			if note == "" {
				how := "not by ID"
				if filters, ok, _ := unstructured.NestedSlice(spec, "subnet", "filters"); ok && len(filters) > 0 {
					how = "by filter " + clip(fmt.Sprint(filters))
				} else if arn, _, _ := unstructured.NestedString(spec, "subnet", "arn"); arn != "" {
					how = "by ARN, not by ID"
				}
				note = fmt.Sprintf("worker MachineSet %s/%s selects its subnet %s (look the IDs up with aws ec2 describe-subnets and pin them)", MachineAPINamespace, ms.GetName(), how)
			}
			continue
		}
		var ids []string
		sgs, _, _ := unstructured.NestedSlice(spec, "securityGroups")
		for _, sg := range sgs {
			m, _ := sg.(map[string]any)
			sid, _ := m["id"].(string)
			if sid == "" {
				ids = nil // one group by filter: the list would be incomplete
				break
			}
			ids = append(ids, sid)
		}
		return id, strings.Join(ids, ","), ""
	}
	return "", "", note
}

// clip quotes a value read from the cluster for a message, at most 200 characters of it.
func clip(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// dataOf is a ConfigMap's data.
func dataOf(obj map[string]any) map[string]string {
	data, _, _ := unstructured.NestedStringMap(obj, "data")
	return data
}

// secretData is a Secret's data, decoded; a value that is not base64 is left out.
func secretData(obj map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range dataOf(obj) {
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			out[k] = string(b)
		}
	}
	return out
}

// short keeps error messages to their reason: API errors can be long.
func short(err error) string {
	if s, ok := err.(apierrors.APIStatus); ok {
		return string(s.Status().Reason) + ": " + s.Status().Message
	}
	return err.Error()
}

// UserConfig is the user's client config as kubectl builds it: --kubeconfig, else KUBECONFIG,
// else ~/.kube/config, with an optional context. It is what `oc login` writes.
func UserConfig(kubeconfig, kubeContext string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		// client-go's own message points at KUBERNETES_MASTER, which nothing here reads.
		return nil, errors.New("kubeconfig: none found in KUBECONFIG or ~/.kube/config (log in with oc login, or pass --kubeconfig)")
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w (log in with oc login, or pass --kubeconfig)", err)
	}
	cfg.UserAgent = "pattern-gen"
	return cfg, nil
}
