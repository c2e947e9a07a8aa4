package generate_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

// breakout is what spliced initdata let an input do: end its string and replace the policy.
const breakout = "'''\n\n\"policy.rego\" = '''\npackage agent_policy\ndefault ExecProcessRequest := true\n'''\n"

const privateKey = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKEYMATERIALKEYMATERIALKEYMATERIAL00\n-----END PRIVATE KEY-----\n"

// setGlobalCoco sets global.coco.<key> in the fork's values-global.yaml, as a fork pusher can.
func setGlobalCoco(t *testing.T, fork, key, value string) {
	t.Helper()
	p := filepath.Join(fork, "values-global.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	global, _ := v["global"].(map[string]any)
	coco, _ := global["coco"].(map[string]any)
	if coco == nil {
		coco = map[string]any{}
		global["coco"] = coco
	}
	coco[key] = value
	if data, err = yaml.Marshal(v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every source of the KBS certificate, the apps domain and the policy flavour is checked: a
// bad value is an error that names its source, quotes nothing of it, and no manifest is
// returned. Nothing of such a value can reach the initdata.
func TestGenerateRefusesBadInput(t *testing.T) {
	cert := testcert.SelfSigned("kbs-trustee-operator-system.apps.c1.example.com", 0)
	cluster := func(domain, tlsCrt string) generate.ClusterReader {
		return func(context.Context, peerpods.Scope) (*peerpods.Cluster, []string) {
			return &peerpods.Cluster{
				AppsDomain: domain, AppsDomainFrom: "ingresses.config.openshift.io/cluster",
				KBSCert: tlsCrt, KBSCertFrom: "Secret trustee-operator-system/kbs-https-certificate key tls.crt",
			}, nil
		}
	}
	const overlay = `{"name":"overlay","string":"overlays/azure"}`
	for _, tc := range []struct {
		name    string
		params  string // besides the overlay
		env     map[string]string
		cluster generate.ClusterReader
		values  map[string]string // global.coco.<key> in the fork
		want    string
	}{
		{name: "cluster certificate breaks out", cluster: cluster("apps.c1.example.com", cert+breakout),
			want: "the KBS certificate from cluster Secret trustee-operator-system/kbs-https-certificate key tls.crt block 1 is not a well-formed PEM block; fix the Secret, or pin the certificate in trustee.kbsCertificate in pattern-gen.yaml"},
		{name: "cluster certificate with its private key", cluster: cluster("apps.c1.example.com", cert+privateKey),
			want: "the KBS certificate from cluster Secret trustee-operator-system/kbs-https-certificate key tls.crt holds a private key; give only the certificate, and remove the key from where it is kept"},
		{name: "pinned certificate breaks out", cluster: cluster("apps.c1.example.com", cert), values: map[string]string{"kbsCertificate": cert + breakout},
			want: "the KBS certificate from values global.coco.kbsCertificate block 1 is not a well-formed PEM block; fix trustee.kbsCertificate in pattern-gen.yaml (global.coco.kbsCertificate in values-global.yaml)"},
		{name: "pinned private key", values: map[string]string{"appsDomain": "apps.c1.example.com", "kbsCertificate": privateKey},
			want: "the KBS certificate from values global.coco.kbsCertificate holds a private key"},
		{name: "cluster domain breaks out", cluster: cluster("apps.c1.example.com\"\n"+breakout, cert),
			want: "the apps domain from cluster ingresses.config.openshift.io/cluster is not a DNS name (106 characters); use lowercase letters, digits, '-' and '.', such as apps.mycluster.example.com, at most 225 characters"},
		{name: "parameter sets a second value", params: `,{"name":"cluster-domain","string":"apps.c1.example.com\\,global.coco.azure.initdata=x"}`,
			want: "the apps domain from parameter cluster-domain is not a DNS name"},
		{name: "env domain", env: map[string]string{"ARGOCD_ENV_CLUSTER_DOMAIN": "Apps.C1.example.com"},
			want: "the apps domain from env CLUSTER_DOMAIN is not a DNS name"},
		{name: "domain too long for the KBS host", env: map[string]string{"ARGOCD_ENV_CLUSTER_DOMAIN": strings.Repeat("a.", 120) + "com"},
			want: "the apps domain from env CLUSTER_DOMAIN is not a DNS name (243 characters)"},
		{name: "values domain", values: map[string]string{"appsDomain": "apps.c1.example.com'''"},
			want: "the apps domain from values global.coco.appsDomain is not a DNS name"},
		{name: "values flavour", cluster: cluster("apps.c1.example.com", cert), values: map[string]string{"securityPolicyFlavour": "x'\n" + breakout},
			want: "values global.coco.securityPolicyFlavour: not a policy name (88 characters); use insecure, signed or reject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fork := filepath.Join(t.TempDir(), "fork")
			if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.values {
				setGlobalCoco(t, fork, k, v)
			}
			vars := map[string]string{"ARGOCD_APP_SOURCE_PATH": render.SandboxChart, "ARGOCD_APP_PARAMETERS": "[" + overlay + tc.params + "]"}
			for k, v := range tc.env {
				vars[k] = v
			}
			out, err := generate.Run(context.Background(), generate.Request{
				Dir: filepath.Join(fork, render.SandboxChart), Env: pluginEnv(t, vars), Cluster: tc.cluster, Logf: func(string, ...any) {},
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if out != nil {
				t.Errorf("output with an error: %d bytes", len(out))
			}
			for _, secret := range []string{"'''", "ExecProcessRequest", "KEYMATERIAL", "MII", "Apps.C1", "initdata=x"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes the input (%q): %v", secret, err)
				}
			}
		})
	}
}
