package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// operatorConfig is the embedded default's shape (Vault included): nothing is synced here, the
// test reads only the hub's argoCD block and the cmp-plugin-rbac chart.
const operatorConfig = `apiVersion: pattern-gen.io/v1alpha1
kind: Pattern
git: {repoURL: https://example.com/org/coco.git}
`

// clustergroupChart is the Validated Patterns chart that turns values-hub.yaml into the ArgoCD
// CR OpenShift GitOps reconciles.
const clustergroupChart = "../../shared/reference/clustergroup-chart-0.9.55"

// What the fork declares for the plugin's token: the same strings as render.TokenVolume and
// render.TokenMountPath in internal/render/scaffold.go (this module cannot import the product).
const (
	tokenVolume    = "cmp-plugin-sa-token"
	tokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// The hub's Argo CD: the clustergroup chart names the CR <clusterGroup>-gitops in namespace
// <pattern>-<clusterGroup>, and the operator names the repo server <CR>-repo-server.
const (
	hubArgoNS     = "coco-pattern-hub"
	hubArgoCD     = "hub-gitops"
	hubRepoServer = hubArgoCD + "-repo-server"
)

// podSpec is the part of a Deployment's pod template the test reads (this module links
// k8s.io/api only indirectly, through argo-cd).
type podSpec struct {
	AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken"`
	ServiceAccountName           string `json:"serviceAccountName"`
	ServiceAccount               string `json:"serviceAccount"` // deprecated alias the operator keeps in step
	Containers                   []struct {
		Name         string `json:"name"`
		VolumeMounts []struct {
			Name      string `json:"name"`
			MountPath string `json:"mountPath"`
			ReadOnly  bool   `json:"readOnly"`
		} `json:"volumeMounts"`
	} `json:"containers"`
	Volumes []struct {
		Name      string `json:"name"`
		Projected *struct {
			Sources []struct {
				ServiceAccountToken *struct {
					Path string `json:"path"`
				} `json:"serviceAccountToken"`
				ConfigMap *struct {
					Name  string `json:"name"`
					Items []struct {
						Key  string `json:"key"`
						Path string `json:"path"`
					} `json:"items"`
				} `json:"configMap"`
				DownwardAPI *struct {
					Items []struct {
						Path     string `json:"path"`
						FieldRef *struct {
							FieldPath string `json:"fieldPath"`
						} `json:"fieldRef"`
					} `json:"items"`
				} `json:"downwardAPI"`
			} `json:"sources"`
		} `json:"projected"`
	} `json:"volumes"`
}

// TestOperatorGivesPluginAToken runs the real argocd-operator (the upstream of OpenShift GitOps)
// on the ArgoCD CR the real clustergroup chart renders from the fork's values, and checks the
// repo-server Deployment it writes: the pod gets no service-account token from the operator, the
// cmp-plugin sidecar gets the fork's projected one, and cmp-plugin-rbac binds the account the pod
// runs as. No kubelet runs here; the pod template is what a kubelet would start.
func TestOperatorGivesPluginAToken(t *testing.T) {
	b := needBinaries(t)
	helm, operator := tool(t, "PATTERN_GEN_HELM"), tool(t, "PATTERN_GEN_ARGOCD_OPERATOR")
	if _, err := os.Stat(clustergroupChart); os.IsNotExist(err) {
		t.Skipf("%s is absent: skipping (it comes from the shared reference folder)", clustergroupChart)
	}
	a := newWorkspace(t, b, operatorConfig)

	// The ArgoCD CR the clustergroup chart renders from the fork's values, as the pattern's
	// install does (the cluster-wide values the pattern operator passes are given with --set).
	chart := noDependencies(t, clustergroupChart, filepath.Join(a.work, "clustergroup"))
	var cr map[string]any
	for _, d := range helmTemplate(t, helm, a.fork, "clustergroup", chart, "-f", "values-global.yaml", "-f", "values-hub.yaml",
		"--set", "global.clusterPlatform=Azure", "--set", "global.hubClusterDomain=apps.example.com",
		"--set", "global.localClusterDomain=apps.example.com", "--set", "global.clusterDomain=example.com",
		"--set", "global.repoURL=https://example.com/org/coco.git", "--set", "global.targetRevision=main") {
		if d["kind"] == "ArgoCD" {
			cr = d
		}
	}
	if cr == nil {
		t.Fatal("the clustergroup chart rendered no ArgoCD from values-hub.yaml")
	}
	md, _ := cr["metadata"].(map[string]any)
	if md["name"] != hubArgoCD || md["namespace"] != hubArgoNS {
		t.Fatalf("the clustergroup chart's ArgoCD is %v/%v, want %s/%s", md["namespace"], md["name"], hubArgoNS, hubArgoCD)
	}

	// A cluster with the operator's CRDs, the hub's namespace and that CR.
	api := startAPIServer(t)
	admin := api.kubeconfig(t, "admin", hubArgoNS)
	k := newKube(t, admin)
	crds, err := filepath.Glob(filepath.Join(operatorModuleDir(t), "config", "crd", "bases", "*.yaml"))
	must(t, err)
	if len(crds) == 0 {
		t.Fatal("argocd-operator v0.18.0 has no CRDs in config/crd/bases")
	}
	for _, f := range crds {
		k.createFile(t, f)
	}
	k.create(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+hubArgoNS+"}\n")
	doc, err := json.Marshal(cr)
	must(t, err)
	k.create(t, string(doc))

	// The operator out of cluster, watching every namespace as OLM installs OpenShift GitOps
	// (WATCH_NAMESPACE set and empty; unset, it logs an error and does the same).
	logs := filepath.Join(a.work, "logs")
	must(t, os.MkdirAll(logs, 0o755))
	began := time.Now()
	start(t, logs, "argocd-operator", []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + a.work, "WATCH_NAMESPACE="},
		operator, "--kubeconfig", admin, "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0")
	deployments := k.resource(t, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, hubArgoNS)
	var spec podSpec
	waitFor(t, "Deployment "+hubArgoNS+"/"+hubRepoServer+" from argocd-operator", func() bool {
		u, err := deployments.Get(context.Background(), hubRepoServer, metav1.GetOptions{})
		if err != nil {
			return false
		}
		tmpl, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "template", "spec")
		data, err := json.Marshal(tmpl)
		must(t, err)
		must(t, json.Unmarshal(data, &spec))
		return true
	})
	t.Logf("argocd-operator wrote %s %v after it started", hubRepoServer, time.Since(began).Round(100*time.Millisecond))

	// The operator's rule (controllers/argocd/repo_server.go, reconcileRepoDeployment):
	// automountServiceAccountToken is false unless spec.repo.mountsatoken is set, which the
	// clustergroup chart never sets; serviceAccountName is set only from spec.repo.serviceaccount.
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken = %v, want false (argocd-operator's rule for the repo server)", ptrString(spec.AutomountServiceAccountToken))
	}
	account := spec.ServiceAccountName
	switch account {
	case "":
		account = "default" // a pod without serviceAccountName runs as its namespace's default
	case "default":
	default:
		t.Fatalf("the repo server runs as service account %q; the fork's values and cmp-plugin-rbac expect the namespace's default", account)
	}

	// The plugin sidecar mounts the fork's projected token where client-go looks for it ...
	mounts := map[string]map[string]string{} // container -> mount path -> volume
	readOnly := map[string]bool{}
	for _, c := range spec.Containers {
		mounts[c.Name] = map[string]string{}
		for _, m := range c.VolumeMounts {
			mounts[c.Name][m.MountPath] = m.Name
			if m.MountPath == tokenMountPath {
				readOnly[c.Name] = m.ReadOnly
			}
		}
	}
	if mounts["cmp-plugin"] == nil {
		t.Fatalf("the repo-server pod has no container cmp-plugin; containers: %v", keys(mounts))
	}
	vol, ok := mounts["cmp-plugin"][tokenMountPath]
	if !ok {
		t.Fatalf("container cmp-plugin mounts nothing at %s, so with automountServiceAccountToken false the plugin has no token; its mounts: %v",
			tokenMountPath, mounts["cmp-plugin"])
	}
	if vol != tokenVolume {
		t.Errorf("container cmp-plugin mounts volume %q at %s, want %q", vol, tokenMountPath, tokenVolume)
	}
	if !readOnly["cmp-plugin"] {
		t.Errorf("container cmp-plugin mounts %s writable, want readOnly", tokenMountPath)
	}
	if err := checkTokenVolume(spec, vol); err != nil {
		t.Errorf("volume %q of the repo-server pod: %v", vol, err)
	}
	// ... and the operator gives the repo server's own container none, so that mount comes from
	// the fork's values, not from the operator.
	if v, ok := mounts["argocd-repo-server"][tokenMountPath]; ok {
		t.Errorf("container argocd-repo-server mounts volume %q at %s: the operator now gives the repo server a token, revisit the fork's workaround", v, tokenMountPath)
	}
	if mounts["argocd-repo-server"] == nil {
		t.Errorf("the repo-server pod has no container argocd-repo-server; containers: %v", keys(mounts))
	}

	// cmp-plugin-rbac binds the account that pod runs as to every grant of the plugin, and no
	// other account but the refresher's (cmp-plugin-refresher, which reads the same objects).
	bindings := 0
	for _, d := range helmTemplate(t, helm, a.fork, "cmp-plugin-rbac", "charts/all/cmp-plugin-rbac", "-f", "values-global.yaml", "-f", "values-hub.yaml") {
		kind := d["kind"]
		if kind != "RoleBinding" && kind != "ClusterRoleBinding" {
			continue
		}
		bindings++
		var rb struct {
			Metadata struct{ Name, Namespace string }
			Subjects []struct{ Kind, Name, Namespace string }
		}
		data, err := json.Marshal(d)
		must(t, err)
		must(t, json.Unmarshal(data, &rb))
		if rb.Metadata.Name == "cmp-plugin-refresher" {
			continue // the refresher's own grant (its Applications)
		}
		repoServer := false
		for _, sub := range rb.Subjects {
			switch {
			case sub.Kind == "ServiceAccount" && sub.Namespace == hubArgoNS && sub.Name == account:
				repoServer = true
			case sub.Kind == "ServiceAccount" && sub.Namespace == hubArgoNS && sub.Name == "cmp-plugin-refresher":
			default:
				t.Errorf("%s %s/%s also binds %+v", kind, rb.Metadata.Namespace, rb.Metadata.Name, sub)
			}
		}
		if !repoServer {
			t.Errorf("%s %s/%s binds %+v, not ServiceAccount %s/%s (the repo-server pod's)", kind, rb.Metadata.Namespace, rb.Metadata.Name, rb.Subjects, hubArgoNS, account)
		}
	}
	if bindings == 0 {
		t.Error("cmp-plugin-rbac renders no RoleBinding or ClusterRoleBinding")
	}
}

// checkTokenVolume says what the volume named name lacks of what client-go's in-cluster
// config reads: a service-account token at token, the cluster's CA at ca.crt and the namespace.
func checkTokenVolume(spec podSpec, name string) error {
	for _, v := range spec.Volumes {
		if v.Name != name {
			continue
		}
		if v.Projected == nil {
			return errors.New("not a projected volume")
		}
		var token, ca, ns bool
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil && s.ServiceAccountToken.Path == "token" {
				token = true
			}
			if s.ConfigMap != nil && s.ConfigMap.Name == "kube-root-ca.crt" {
				for _, it := range s.ConfigMap.Items {
					ca = ca || it.Key == "ca.crt" && it.Path == "ca.crt"
				}
			}
			if s.DownwardAPI != nil {
				for _, it := range s.DownwardAPI.Items {
					ns = ns || it.Path == "namespace" && it.FieldRef != nil && it.FieldRef.FieldPath == "metadata.namespace"
				}
			}
		}
		var missing []string
		if !token {
			missing = append(missing, "serviceAccountToken at path token")
		}
		if !ca {
			missing = append(missing, "ConfigMap kube-root-ca.crt key ca.crt at ca.crt")
		}
		if !ns {
			missing = append(missing, "downwardAPI metadata.namespace at namespace")
		}
		if len(missing) > 0 {
			return fmt.Errorf("projected sources lack %s", strings.Join(missing, ", "))
		}
		return nil
	}
	return errors.New("not in the pod's volumes")
}

// noDependencies copies chart to dir without the dependencies list of its Chart.yaml: the
// clustergroup chart's vp-rbac dependency (from the Validated Patterns chart repository) is not
// in the reference copy, and helm refuses a chart whose dependencies are missing.
func noDependencies(t *testing.T, chart, dir string) string {
	t.Helper()
	must(t, os.CopyFS(dir, os.DirFS(chart)))
	p := filepath.Join(dir, "Chart.yaml")
	data, err := os.ReadFile(p)
	must(t, err)
	var meta map[string]any
	must(t, yaml.Unmarshal(data, &meta))
	delete(meta, "dependencies")
	data, err = yaml.Marshal(meta)
	must(t, err)
	must(t, os.WriteFile(p, data, 0o644))
	return dir
}

// helmTemplate runs `helm template args...` in dir and decodes its stdout (stderr apart, so a
// warning cannot end up in the stream).
func helmTemplate(t *testing.T, helm, dir string, args ...string) []map[string]any {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helm, append([]string{"template"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var docs []map[string]any
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if err == io.EOF {
			break
		}
		must(t, err)
		if len(d) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// operatorModuleDir is where the Go module cache holds argocd-operator v0.18.0, the version
// e2e/argocd-operator builds.
func operatorModuleDir(t *testing.T) string {
	t.Helper()
	return moduleDir(t, "argocd-operator", "github.com/argoproj-labs/argocd-operator@v0.18.0")
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func ptrString(b *bool) string {
	if b == nil {
		return "unset"
	}
	return fmt.Sprint(*b)
}
