// Package cluster reads, through the Kubernetes API, the few facts cmp-plugin takes from the
// cluster it runs in: cloud-conf, the apps domain, the live peer-pods-cm image ID and the KBS
// certificate. It reads nothing else and never a private key.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/pattern-gen/pattern-gen/internal/peerpods"
)

// Where the facts live.
const (
	CloudConfNamespace = "openshift-cloud-controller-manager"
	CloudConfName      = "cloud-conf"
	CloudConfKey       = "cloud.conf"
	OSCNamespace       = "openshift-sandboxed-containers-operator"
	PeerPodsConfigMap  = "peer-pods-cm"
	ImageIDKey         = "AZURE_IMAGE_ID"
	TrusteeNamespace   = "trustee-operator-system"
	KBSCertSecret      = "kbs-https-certificate"
	KBSCertKey         = "tls.crt"
	// On a spoke: the Secret the trusted hub's kbs-publish policy writes (the hub's apps domain
	// and its KBS certificate, nothing private).
	TrustedHubSecret = "trusted-hub-kbs"
	TrustedHubDomain = "appsDomain"
)

var ingressGVR = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "ingresses"}

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
func Read(ctx context.Context, cfg *rest.Config, trustedHub bool) (*peerpods.Cluster, []string) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "cmp-plugin"
	var warnings []string
	warn := func(what string, err error) {
		warnings = append(warnings, fmt.Sprintf("cannot read %s: %v", what, short(err)))
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, []string{fmt.Sprintf("cluster client: %v", err)}
	}
	c := &peerpods.Cluster{}
	cm, err := cs.CoreV1().ConfigMaps(CloudConfNamespace).Get(ctx, CloudConfName, metav1.GetOptions{})
	switch {
	case err == nil:
		if raw, ok := cm.Data[CloudConfKey]; ok {
			if c.CloudConf, err = peerpods.ParseCloudConf([]byte(raw)); err != nil {
				warn("ConfigMap "+CloudConfNamespace+"/"+CloudConfName, err)
			}
		}
	case !apierrors.IsNotFound(err):
		warn("ConfigMap "+CloudConfNamespace+"/"+CloudConfName, err)
	}
	ppcm, err := cs.CoreV1().ConfigMaps(OSCNamespace).Get(ctx, PeerPodsConfigMap, metav1.GetOptions{})
	switch {
	case err == nil:
		c.LiveImageID = ppcm.Data[ImageIDKey]
	case !apierrors.IsNotFound(err):
		warn("ConfigMap "+OSCNamespace+"/"+PeerPodsConfigMap, err)
	}
	if trustedHub {
		what := "Secret " + OSCNamespace + "/" + TrustedHubSecret
		c.AppsDomainFrom, c.KBSCertFrom = what+" (from the trusted hub)", what+" (from the trusted hub)"
		sec, err := cs.CoreV1().Secrets(OSCNamespace).Get(ctx, TrustedHubSecret, metav1.GetOptions{})
		switch {
		case err == nil:
			c.AppsDomain = strings.TrimSpace(string(sec.Data[TrustedHubDomain]))
			c.KBSCert = string(sec.Data[KBSCertKey]) // public; the Secret holds nothing else
		case !apierrors.IsNotFound(err):
			warn(what, err)
		}
		return c, warnings
	}
	c.AppsDomainFrom = "ingresses.config.openshift.io/cluster"
	c.KBSCertFrom = "Secret " + TrusteeNamespace + "/" + KBSCertSecret
	sec, err := cs.CoreV1().Secrets(TrusteeNamespace).Get(ctx, KBSCertSecret, metav1.GetOptions{})
	switch {
	case err == nil:
		c.KBSCert = string(sec.Data[KBSCertKey]) // a public certificate; no other key is read
	case !apierrors.IsNotFound(err):
		warn(c.KBSCertFrom, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return c, append(warnings, fmt.Sprintf("cluster client: %v", err))
	}
	ing, err := dyn.Resource(ingressGVR).Get(ctx, "cluster", metav1.GetOptions{})
	switch {
	case err == nil:
		if d, ok := ing.Object["spec"].(map[string]any); ok {
			c.AppsDomain, _ = d["domain"].(string)
		}
	case !apierrors.IsNotFound(err): // also what a server without the kind (not OpenShift) answers
		warn(c.AppsDomainFrom, err)
	}
	return c, warnings
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
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w (log in with oc login, or pass --kubeconfig)", err)
	}
	cfg.UserAgent = "pattern-gen"
	return cfg, nil
}
