package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	patterngen "github.com/pattern-gen/pattern-gen"
	"github.com/pattern-gen/pattern-gen/internal/config"
)

const head = "apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\ngit:\n  repoURL: https://example.com/org/coco.git\n"

// The embedded default names no repository (a fork deploys its own): with one given, as init
// does, it loads.
func TestDefaultConfigLoads(t *testing.T) {
	if url := config.RepoURLOf(patterngen.DefaultConfig()); url != "" {
		t.Fatalf("the embedded default names repository %q; a fork must name its own", url)
	}
	data, err := config.SetRepoURL(patterngen.DefaultConfig(), "https://example.com/org/coco.git")
	if err != nil {
		t.Fatal(err)
	}
	l, err := config.Load("default.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p := l.Pattern
	if p.Metadata.Name != "coco-pattern" || p.ClusterGroup != "hub" || p.Platform != "Azure" {
		t.Errorf("defaults: got name %q group %q platform %q", p.Metadata.Name, p.ClusterGroup, p.Platform)
	}
	if p.Operators.SandboxedContainers.CSV != "sandboxed-containers-operator.v1.13.0" || p.Operators.Trustee.CSV != "trustee-operator.v1.2.0" {
		t.Errorf("default pins: %+v", p.Operators)
	}
}

func TestMinimalConfigGetsDefaults(t *testing.T) {
	l, err := config.Load("min.yaml", []byte(head))
	if err != nil {
		t.Fatal(err)
	}
	p := l.Pattern
	checks := map[string][2]string{
		"name":      {p.Metadata.Name, "coco-pattern"},
		"revision":  {p.Git.Revision, "main"},
		"approval":  {p.Operators.Trustee.InstallPlanApproval, "Manual"},
		"channel":   {p.Operators.SandboxedContainers.Channel, "stable"},
		"size":      {p.Azure.InstanceSize, "Standard_DC2as_v5"},
		"flavour":   {p.Trustee.SecurityPolicyFlavour, "insecure"},
		"backend":   {p.SecretStore.Backend, "vault"},
		"resources": {strings.Join(p.Trustee.SecretResources, ","), "kbsres1,passphrase"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: got %q, want %q", what, c[0], c[1])
		}
	}
	if !config.Bool(p.Trustee.HTTPS, false) || !config.Bool(p.Workloads.HelloOpenshift, false) || config.Bool(p.Workloads.KBSAccess, true) {
		t.Errorf("boolean defaults wrong: https %v hello %v kbs %v", p.Trustee.HTTPS, p.Workloads.HelloOpenshift, p.Workloads.KBSAccess)
	}
}

func TestOlderSupportedPair(t *testing.T) {
	cfg := head + "operators:\n  sandboxedContainers:\n    csv: sandboxed-containers-operator.v1.10.3\n  trustee:\n    csv: trustee-operator.v0.4.2\n"
	if _, err := config.Load("c.yaml", []byte(cfg)); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidConfigs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want []string // every line of the error, in order
	}{
		{
			name: "unknown field with suggestion",
			body: head + "azure:\n  instanceSizez: Standard_DC2as_v5\n",
			want: []string{`c.yaml:6: azure.instanceSizez: unknown field; did you mean "instanceSize"?`},
		},
		{
			name: "wrong types",
			body: head + "workloads:\n  kbsAccess: \"yes\"\nazure:\n  rootVolumeSizeGiB: big\n  instanceSizes: Standard_DC2as_v5\n",
			want: []string{
				`c.yaml:6: workloads.kbsAccess: expected true or false, got string "yes"`,
				`c.yaml:8: azure.rootVolumeSizeGiB: expected a whole number, got string "big"`,
				`c.yaml:9: azure.instanceSizes: expected a list, got string "Standard_DC2as_v5"`,
			},
		},
		{
			name: "number where a string belongs",
			body: head + "  revision: 1.0\n",
			want: []string{`c.yaml:5: git.revision: expected a string, got number 1.0 (quote it: "1.0")`},
		},
		{
			name: "bad azure values, all reported",
			body: head + "azure:\n  instanceSize: Standard_D2as_v5\n  instanceSizes: [Standard_DC2as_v5, Standard_DC2s_v3]\n" +
				"  subnetID: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet\n" +
				"  nsgID: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg\n" +
				"  region: East US\n",
			want: []string{
				`c.yaml:6: azure.instanceSize: "Standard_D2as_v5" is not a confidential VM size; use an AMD SEV-SNP (e.g. Standard_DC2as_v5) or Intel TDX (e.g. Standard_DC2es_v5) confidential VM size`,
				`c.yaml:7: azure.instanceSizes[1]: "Standard_DC2s_v3" is not a confidential VM size; use an AMD SEV-SNP (e.g. Standard_DC2as_v5) or Intel TDX (e.g. Standard_DC2es_v5) confidential VM size`,
				`c.yaml:8: azure.subnetID: not a subnet resource ID; expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, got "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"`,
				`c.yaml:10: azure.region: "East US" is not an Azure region name such as eastus or westeurope`,
			},
		},
		{
			name: "size not in the list",
			body: head + "azure:\n  instanceSize: Standard_DC4es_v5\n",
			want: []string{`c.yaml:6: azure.instanceSize: "Standard_DC4es_v5" is not in azure.instanceSizes; add it there (pods may only use listed sizes)`},
		},
		{
			name: "unsupported pairing",
			body: head + "operators:\n  sandboxedContainers:\n    csv: sandboxed-containers-operator.v1.12.0\n  trustee:\n    csv: trustee-operator.v0.4.2\n",
			want: []string{`c.yaml:9: operators.trustee.csv: trustee-operator.v0.4.2 does not pair with sandboxed-containers-operator.v1.12.0; supported pairs: OSC 1.13.x with Trustee 1.2.x (OpenShift 4.19 to 4.22); OSC 1.12.x with Trustee 1.1.x (OpenShift 4.17.45+, 4.18.30+, 4.19.20+, 4.20.6+); OSC 1.10.x with Trustee 0.4.x (OpenShift 4.16+)`},
		},
		{
			name: "unknown csv and approval",
			body: head + "operators:\n  sandboxedContainers:\n    csv: sandboxed-containers-operator.v1.7.0\n    installPlanApproval: manual\n",
			want: []string{
				`c.yaml:7: operators.sandboxedContainers.csv: unsupported CSV "sandboxed-containers-operator.v1.7.0"; supported: sandboxed-containers-operator.v1.13.0, sandboxed-containers-operator.v1.13.1, sandboxed-containers-operator.v1.12.0, sandboxed-containers-operator.v1.12.1, sandboxed-containers-operator.v1.10.0, sandboxed-containers-operator.v1.10.1, sandboxed-containers-operator.v1.10.2, sandboxed-containers-operator.v1.10.3`,
				`c.yaml:8: operators.sandboxedContainers.installPlanApproval: unsupported value "manual"; supported: Manual, Automatic`,
			},
		},
		{
			name: "wrong kind first",
			body: "apiVersion: v1\nkind: ConfigMap\n",
			want: []string{
				`c.yaml:1: apiVersion: unsupported value "v1"; supported: pattern-gen.io/v1alpha1`,
				`c.yaml:2: kind: unsupported value "ConfigMap"; supported: Pattern`,
			},
		},
		{
			name: "duplicate key",
			body: "apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\nplatform: Azure\nplatform: AWS\n",
			want: []string{
				`c.yaml:4: platform: duplicate field (first set on line 3)`,
			},
		},
		{
			name: "trustee and plugin",
			body: head + "trustee:\n  securityPolicyFlavour: permissive\n  secretResources: [kbsres1, Bad_Name, security-policy, kbsres1]\nplugin:\n  image: cmp-plugin\nsecretStore:\n  backend: kubernetes\n",
			want: []string{
				`c.yaml:6: trustee.securityPolicyFlavour: unsupported value "permissive"; supported: insecure, signed, reject`,
				`c.yaml:7: trustee.secretResources[1]: "Bad_Name" is not a valid Secret name (lowercase letters, digits, '-' and '.')`,
				`c.yaml:7: trustee.secretResources[2]: "security-policy" is reserved for the trustee chart; choose another name`,
				`c.yaml:7: trustee.secretResources[3]: "kbsres1" is listed twice`,
				`c.yaml:9: plugin.image: "cmp-plugin" is not an image reference; use registry/repository:tag, registry/repository@sha256:<digest> or registry/repository:tag@sha256:<digest>`,
				`c.yaml:11: secretStore.backend: unsupported backend "kubernetes"; supported: vault, none`,
			},
		},
		{
			name: "key instead of certificate, bad domain",
			body: head + "appsDomain: Apps_Domain\ntrustee:\n  kbsCertificate: |\n    -----BEGIN PRIVATE KEY-----\n    MC4CAQAwBQYDK2VwBCIEIA==\n    -----END PRIVATE KEY-----\n",
			want: []string{
				`c.yaml:5: appsDomain: not a DNS name (11 characters); use lowercase letters, digits, '-' and '.', such as apps.mycluster.example.com`,
				`c.yaml:7: trustee.kbsCertificate: holds a private key; give only the certificate, and remove the key from this file and its history`,
			},
		},
		{
			name: "not a certificate",
			body: head + "trustee:\n  kbsCertificate: hello\n",
			want: []string{`c.yaml:6: trustee.kbsCertificate: is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)`},
		},
		{
			name: "certificate that is not X.509",
			body: head + "trustee:\n  kbsCertificate: \"-----BEGIN CERTIFICATE-----\\nMIIBHUBC\\n-----END CERTIFICATE-----\\n\"\n",
			want: []string{`c.yaml:6: trustee.kbsCertificate: certificate 1 is not a valid X.509 certificate`},
		},
		{
			name: "text that would end the initdata string after the certificate",
			body: head + "trustee:\n  kbsCertificate: \"-----BEGIN CERTIFICATE-----\\nMIIBHUBC\\n-----END CERTIFICATE-----\\n'''\\n[data]\\n\"\n",
			want: []string{`c.yaml:6: trustee.kbsCertificate: block 1 is not a well-formed PEM block`},
		},
		{
			name: "anchors and aliases (billion laughs)",
			body: head + "metadata: &m\n  name: x\ntrustee:\n  secretResources: [*m, *m]\n",
			want: []string{
				`c.yaml:5: metadata: YAML anchors and aliases are not supported; write the value out`,
				`c.yaml:8: trustee.secretResources[0]: YAML anchors and aliases are not supported; write the value out`,
				`c.yaml:8: trustee.secretResources[1]: YAML anchors and aliases are not supported; write the value out`,
			},
		},
		{
			name: "not YAML",
			body: "apiVersion: [\n",
			want: []string{`c.yaml:1: not valid YAML: did not find expected node content`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load("c.yaml", []byte(tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			if !config.IsInputError(err) {
				t.Errorf("not an input error: %T", err)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestConfidentialSizes(t *testing.T) {
	for size, want := range map[string]bool{
		"Standard_DC2as_v5": true, "Standard_DC96ads_v5": true, "Standard_EC4eds_v5": true,
		"Standard_DC2es_v5": true, "Standard_DC8as_v6": true, "Standard_NCC40ads_H100_v5": true,
		"Standard_DC2s_v3": false, "Standard_D2as_v5": false, "Standard_B2als_v2": false, "standard_dc2as_v5": false,
	} {
		if got := config.IsConfidentialVMSize(size); got != want {
			t.Errorf("%s: got %v, want %v", size, got, want)
		}
	}
}

// The published schema must accept the default config and reject what Load rejects.
func TestSchemaMatchesLoader(t *testing.T) {
	raw, err := config.Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("pattern.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("pattern.json")
	if err != nil {
		t.Fatal(err)
	}
	asJSON := func(y []byte) any {
		var v any
		if err := yaml.Unmarshal(y, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		out, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
		return out
	}
	if err := sch.Validate(asJSON(patterngen.DefaultConfig())); err != nil {
		t.Errorf("default config fails its own schema: %v", err)
	}
	for _, bad := range []string{
		head + "azure:\n  instanceSizez: x\n",
		head + "trustee:\n  securityPolicyFlavour: permissive\n",
		"kind: Pattern\n",
	} {
		if err := sch.Validate(asJSON([]byte(bad))); err == nil {
			t.Errorf("schema accepts a config the loader rejects:\n%s", bad)
		}
	}
}

func TestMissingRepoURL(t *testing.T) {
	_, err := config.Load("c.yaml", []byte("apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\n"))
	if err == nil || err.Error() != "c.yaml: git.repoURL: "+config.RepoURLMissing {
		t.Errorf("got %v", err)
	}
}

// SetRepoURL changes only git.repoURL: comments, order and the other keys stay, and the result
// is one YAML document whatever the URL holds.
func TestSetRepoURL(t *testing.T) {
	const url = "x: \"y\"\n# z" // what a splice would turn into keys and comments
	for _, in := range []string{
		head,
		"# top\napiVersion: pattern-gen.io/v1alpha1\nkind: Pattern # k\ngit: {revision: main}\n",
		"apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\n",
	} {
		got, err := config.SetRepoURL([]byte(in), url)
		if err != nil {
			t.Fatal(err)
		}
		if u := config.RepoURLOf(got); u != url {
			t.Errorf("SetRepoURL(%q) = %q: reads back %q", in, got, u)
		}
		for _, keep := range []string{"# top", "kind: Pattern # k", "revision: main"} {
			if strings.Contains(in, keep) && !strings.Contains(string(got), keep) {
				t.Errorf("SetRepoURL(%q) = %q: lost %q", in, got, keep)
			}
		}
		if _, err := config.Load("c.yaml", got); err == nil || !strings.Contains(err.Error(), "git.repoURL: \"x: ") {
			t.Errorf("the URL is validated as one value: %v", err)
		}
	}
	if _, err := config.SetRepoURL([]byte("git: [a]\n"), "u"); err == nil {
		t.Error("SetRepoURL accepted a git: that is not a mapping")
	}
}

func TestWithoutCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"https://x-access-token:tok@github.com/o/r.git": "https://github.com/o/r.git",
		"https://tok@github.com/o/r.git":                "https://github.com/o/r.git",
		"ssh://git@github.com/o/r.git":                  "ssh://git@github.com/o/r.git",
		"ssh://git:pw@github.com/o/r.git":               "ssh://github.com/o/r.git",
		"git@github.com:o/r.git":                        "git@github.com:o/r.git",
		"https://github.com/o/r.git":                    "https://github.com/o/r.git",
	} {
		if got, _ := config.WithoutCredentials(in); got != want {
			t.Errorf("WithoutCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}
