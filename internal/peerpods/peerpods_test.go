package peerpods

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/contract"
	"github.com/pattern-gen/pattern-gen/internal/testutil/golden"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

const cloudConf = `{"cloud":"AzurePublicCloud","tenantId":"t","aadClientSecret":"do-not-leak","subscriptionId":"11111111-2222-3333-4444-555555555555",
"resourceGroup":"c1-abcde-rg","location":"westeurope","vnetName":"c1-vnet","vnetResourceGroup":"net-rg","subnetName":"c1-worker-subnet","securityGroupName":"c1-abcde-nsg"}`

func env(t *testing.T, vars map[string]string) config.PluginEnv {
	t.Helper()
	e, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCloudConfIDs(t *testing.T) {
	c, err := ParseCloudConf([]byte(cloudConf))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SubnetID(); got != "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/c1-vnet/subnets/c1-worker-subnet" {
		t.Errorf("subnet: %s", got)
	}
	if got := c.NSGID(); got != "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/c1-abcde-rg/providers/Microsoft.Network/networkSecurityGroups/c1-abcde-nsg" {
		t.Errorf("nsg: %s", got)
	}
	if _, err := ParseCloudConf([]byte(`{"aadClientSecret": "s3cret",`)); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad JSON: %v", err)
	}
}

// Each key comes from the highest source that has it: parameter, env, cluster, values, default.
func TestResolvePrecedence(t *testing.T) {
	cc, _ := ParseCloudConf([]byte(cloudConf))
	cluster := &Cluster{CloudConf: cc}
	e := env(t, map[string]string{
		"ARGOCD_APP_PARAMETERS":      `[{"name":"azure-region","string":"eastus"},{"name":"azure-instance-sizes","array":["Standard_DC2as_v5","Standard_DC4as_v5"]}]`,
		"ARGOCD_ENV_AZURE_REGION":    "northeurope",
		"ARGOCD_ENV_AZURE_NSG_ID":    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/x/providers/Microsoft.Network/networkSecurityGroups/env-nsg",
		"ARGOCD_ENV_AZURE_NOT_A_KEY": "ignored",
	})
	values := map[string]any{"resourceGroup": "values-rg", "defaultVMFlavour": "Standard_DC4as_v5"}
	got, err := azure.Resolve(e, cluster, azureOf(values))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"AZURE_REGION":         {"eastus", "parameter azure-region"},
		"AZURE_RESOURCE_GROUP": {"c1-abcde-rg", "cluster cloud-conf resourceGroup"},
		"AZURE_SUBNET_ID":      {cc.SubnetID(), "cluster cloud-conf subscriptionId, vnetResourceGroup, vnetName, subnetName"},
		"AZURE_NSG_ID":         {"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/x/providers/Microsoft.Network/networkSecurityGroups/env-nsg", "env AZURE_NSG_ID"},
		"AZURE_INSTANCE_SIZE":  {"Standard_DC4as_v5", "values global.coco.azure.defaultVMFlavour"},
		"AZURE_INSTANCE_SIZES": {"Standard_DC2as_v5,Standard_DC4as_v5", "parameter azure-instance-sizes"},
	}
	for _, v := range got {
		if w := want[v.Key]; w != [2]string{v.Value, v.Source} {
			t.Errorf("%s: got %q from %q, want %q from %q", v.Key, v.Value, v.Source, w[0], w[1])
		}
		delete(want, v.Key)
	}
	if len(want) > 0 {
		t.Errorf("not resolved: %v", want)
	}
	// Without the cluster, the values and defaults serve where nothing higher does.
	got, err = azure.Resolve(env(t, map[string]string{
		"ARGOCD_ENV_AZURE_SUBNET_ID": cc.SubnetID(), "ARGOCD_ENV_AZURE_NSG_ID": cc.NSGID(), "ARGOCD_ENV_AZURE_REGION": "eastus",
	}), nil, azureOf(map[string]any{"resourceGroup": "values-rg"}))
	if err != nil {
		t.Fatal(err)
	}
	if v := find(got, "AZURE_RESOURCE_GROUP"); v.Value != "values-rg" || v.Source != "values global.coco.azure.resourceGroup" {
		t.Errorf("resource group: %+v", v)
	}
	if v := find(got, "AZURE_INSTANCE_SIZE"); v.Value != "Standard_DC2as_v5" || v.Source != "default" {
		t.Errorf("instance size: %+v", v)
	}
	if p := Provenance(got); !strings.HasPrefix(p, `{"AZURE_INSTANCE_SIZE":"default",`) || strings.Contains(p, "eastus") {
		t.Errorf("provenance must list sources, sorted, without values: %s", p)
	}
}

func TestResolveReportsEveryMissingOrInvalidKey(t *testing.T) {
	_, err := azure.Resolve(env(t, map[string]string{
		"ARGOCD_APP_PARAMETERS":      `[{"name":"azure-instance-size","string":"Standard_D2as_v5"}]`,
		"ARGOCD_ENV_AZURE_SUBNET_ID": "/subscriptions/x/resourceGroups/rg",
	}), nil, contract.Azure{})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"AZURE_REGION has no source: set plugin parameter azure-region or plugin env AZURE_REGION on the application, let the plugin read it from the cluster (cloud-conf location), or set azure.region in pattern-gen.yaml",
		"AZURE_RESOURCE_GROUP has no source",
		`AZURE_SUBNET_ID from env AZURE_SUBNET_ID: the value (34 characters) is not valid`,
		"AZURE_NSG_ID has no source",
		`AZURE_INSTANCE_SIZE from parameter azure-instance-size: the value (16 characters) is not valid; want a confidential VM size`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestPluginEnvErrors(t *testing.T) {
	for params, want := range map[string]string{
		`[{"name":"azure-regoin","string":"x"}]`:  `plugin parameter "azure-regoin" is unknown; known parameters: aws-instance-type, aws-instance-types, aws-region, aws-sg-ids, aws-subnet-id, aws-vpc-id, azure-instance-size, azure-instance-sizes,`,
		`{not json`:                               "ARGOCD_APP_PARAMETERS: not the JSON list Argo CD sends",
		`[{"name":"azure-region","array":["a"]}]`: `plugin parameter "azure-region": expected a string, got an array`,
		`[{"name":"overlay","map":{"a":"b"}}]`:    `plugin parameter "overlay": expected a string, got a map`,
	} {
		_, err := config.FromEnv(func(k string) string {
			if k == "ARGOCD_APP_PARAMETERS" {
				return params
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", params, err, want)
		}
	}
}

const testKBSURL = "https://kbs-trustee-operator-system.apps.c1.example.com"

// wantPolicy is the agent policy for p, written out independently of the builder.
func wantPolicy(p Policy) string {
	var b strings.Builder
	b.WriteString("package agent_policy\n\n")
	for _, r := range agentRequests {
		allow := "true"
		if p == Restrictive && (r == "ExecProcessRequest" || r == "ReadStreamRequest" || r == "WriteStreamRequest" || r == "SetPolicyRequest") {
			allow = "false"
		}
		b.WriteString("default " + r + " := " + allow + "\n")
	}
	return b.String()
}

// wantInitdata is the decoded structure of the initdata for url, cert (canonical PEM or ""),
// resource and policy: exactly these keys, nothing else. The inner files are left out of outer
// (see decodeInitdata).
func wantInitdata(url, cert, resource string, p Policy) (outer, aa, cdh map[string]any) {
	kbs := map[string]any{"url": url}
	kbc := map[string]any{"name": "cc_kbc", "url": url}
	if cert != "" {
		kbs["cert"], kbc["kbs_cert"] = cert, cert
	}
	aa = map[string]any{"token_configs": map[string]any{"coco_as": map[string]any{"url": url}, "kbs": kbs}}
	cdh = map[string]any{
		"socket": "unix:///run/confidential-containers/cdh.sock", "credentials": []any{}, "kbc": kbc,
		"image": map[string]any{"image_security_policy_uri": "kbs:///default/" + resource},
	}
	outer = map[string]any{"algorithm": "sha256", "version": "0.1.0", "data": map[string]any{"policy.rego": wantPolicy(p)}}
	return outer, aa, cdh
}

// decodeInitdata decodes the document and its two inner TOML files with the TOML library; the
// inner files are taken out of outer once decoded, so that outer compares as a whole.
func decodeInitdata(doc []byte) (outer, aa, cdh map[string]any, err error) {
	if _, err = toml.Decode(string(doc), &outer); err != nil {
		return nil, nil, nil, fmt.Errorf("initdata: %w", err)
	}
	data, _ := outer["data"].(map[string]any)
	for _, f := range []struct {
		name string
		dst  *map[string]any
	}{{"aa.toml", &aa}, {"cdh.toml", &cdh}} {
		s, ok := data[f.name].(string)
		if !ok {
			return nil, nil, nil, fmt.Errorf("%s is not a string", f.name)
		}
		if _, err = toml.Decode(s, f.dst); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", f.name, err)
		}
		delete(data, f.name)
	}
	return outer, aa, cdh, nil
}

// checkInitdata decodes doc and compares it with the structure wantInitdata describes.
func checkInitdata(doc []byte, url, cert, resource string, p Policy) error {
	outer, aa, cdh, err := decodeInitdata(doc)
	if err != nil {
		return err
	}
	wo, wa, wc := wantInitdata(url, cert, resource, p)
	for _, c := range []struct {
		what      string
		got, want map[string]any
	}{{"initdata", outer, wo}, {"aa.toml", aa, wa}, {"cdh.toml", cdh, wc}} {
		if d := cmp.Diff(c.want, c.got); d != "" {
			return fmt.Errorf("%s (-want +got):\n%s", c.what, d)
		}
	}
	return nil
}

// The initdata decodes, with the TOML library, to exactly the expected structure; the
// certificate travels re-encoded; both policies are the fixed ones. The documents are held as
// golden files: PCR8 is measured over these bytes.
func TestInitdata(t *testing.T) {
	cert := testcert.SelfSigned("kbs-trustee-operator-system.apps.c1.example.com", 0)
	for _, tc := range []struct {
		name   string
		d      Initdata
		cert   string // the canonical certificate the document must carry
		golden string
	}{
		{name: "restrictive with certificate", d: Initdata{KBSURL: testKBSURL, KBSCert: cert, SecurityPolicy: "security-policy/insecure"}, cert: cert, golden: "testdata/initdata-restrictive.toml"},
		{name: "certificate re-encoded", d: Initdata{KBSURL: testKBSURL, KBSCert: "\n" + strings.ReplaceAll(cert, "\n", "\r\n"), SecurityPolicy: "security-policy/signed"}, cert: cert},
		{name: "allow-all without certificate", d: Initdata{KBSURL: testKBSURL, SecurityPolicy: "security-policy/reject", Policy: AllowAll}, golden: "testdata/initdata-allow-all.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := tc.d.TOML()
			if err != nil {
				t.Fatal(err)
			}
			if err := checkInitdata(doc, testKBSURL, tc.cert, tc.d.SecurityPolicy, tc.d.Policy); err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			if again, _ := tc.d.TOML(); !bytes.Equal(again, doc) {
				t.Error("the document is not deterministic")
			}
			if tc.golden != "" {
				golden.AssertString(t, tc.golden, doc)
			}
		})
	}
}

// breakout is what spliced initdata let an input do: end its string and replace the policy.
const breakout = "'''\n\n\"policy.rego\" = '''\npackage agent_policy\ndefault ExecProcessRequest := true\n"

// Whatever the input, the builder refuses it with an error that does not quote it, or it stays
// one string value in its place (TestInitdata, FuzzInitdataTOML).
func TestInitdataRefusesInput(t *testing.T) {
	cert := testcert.SelfSigned("kbs.example.com", 0)
	ok := Initdata{KBSURL: testKBSURL, KBSCert: cert, SecurityPolicy: "security-policy/insecure"}
	for _, tc := range []struct {
		name   string
		modify func(*Initdata)
		want   string
	}{
		{"certificate breaks out", func(d *Initdata) { d.KBSCert = cert + breakout }, "KBS certificate: block 1 is not a well-formed PEM block"},
		{"certificate with a private key", func(d *Initdata) {
			d.KBSCert = cert + "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
		}, "KBS certificate: holds a private key"},
		{"URL breaks out", func(d *Initdata) { d.KBSURL = testKBSURL + breakout }, "KBS URL: not https://<DNS name>"},
		{"URL with a path", func(d *Initdata) { d.KBSURL = testKBSURL + "/x" }, "KBS URL: not https://<DNS name>"},
		{"URL with a user", func(d *Initdata) { d.KBSURL = "https://me@kbs.example.com" }, "KBS URL: not https://<DNS name>"},
		{"plain http", func(d *Initdata) { d.KBSURL = "http://kbs.example.com" }, "KBS URL: not https://<DNS name>"},
		{"resource breaks out", func(d *Initdata) { d.SecurityPolicy = "security-policy/x" + breakout }, "security policy resource: not <secret>/<key>"},
		{"resource with three parts", func(d *Initdata) { d.SecurityPolicy = "a/b/c" }, "security policy resource: not <secret>/<key>"},
		{"unknown policy", func(d *Initdata) { d.Policy = 7 }, "agent policy 7 is unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.modify(&d)
			doc, err := d.TOML()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q\n%s", err, tc.want, doc)
			}
			if strings.Contains(err.Error(), "'''") || strings.Contains(err.Error(), "ExecProcess") || strings.Contains(err.Error(), "MC4C") {
				t.Errorf("the error quotes the input: %v", err)
			}
		})
	}
}

// Encode, Decode and PCR8 as the pod VM and Trustee compute them.
func TestInitdataEncoding(t *testing.T) {
	doc, err := Initdata{KBSURL: testKBSURL, SecurityPolicy: "security-policy/insecure"}.TOML()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Encode(doc); again != enc {
		t.Error("encoding is not deterministic")
	}
	plain, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, doc) {
		t.Error("gzip+base64 does not round-trip")
	}
	// PCR8 = sha256(32 zero bytes || sha256(document)), as the Azure vTPM extends it.
	inner := sha256.Sum256(doc)
	outer := sha256.Sum256(append(make([]byte, 32), inner[:]...))
	if got := PCR8(doc); got != hex.EncodeToString(outer[:]) {
		t.Errorf("PCR8 %s", got)
	}
}

func TestPodAnnotation(t *testing.T) {
	for v, want := range map[string]string{"1.10.3": "io.katacontainers.config.runtime.cc_init_data", "1.12.0": "io.katacontainers.config.hypervisor.cc_init_data", "1.11.1": "io.katacontainers.config.hypervisor.cc_init_data"} {
		if got := PodAnnotation(v); got != want {
			t.Errorf("%s: %s", v, got)
		}
	}
}

// Every source of a peer-pods-cm key is held to the same rules; an invalid value, such as one
// that would set a second Helm value through --set, is reported with its source and never
// quoted.
func TestResolveValidatesEverySource(t *testing.T) {
	const bad = `westeurope\\,global.coco.azure.initdata=x`
	for _, tc := range []struct {
		name    string
		env     map[string]string
		cluster *Cluster
		values  map[string]any
		want    string
	}{
		{name: "parameter", env: map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"azure-region","string":"westeurope\\\\,global.coco.azure.initdata=x"}]`},
			want: "AZURE_REGION from parameter azure-region: the value (41 characters) is not valid"},
		{name: "env", env: map[string]string{"ARGOCD_ENV_AZURE_REGION": bad},
			want: "AZURE_REGION from env AZURE_REGION: the value (41 characters) is not valid"},
		{name: "cloud-conf", cluster: &Cluster{CloudConf: &CloudConf{Location: bad}},
			want: "AZURE_REGION from cluster cloud-conf location: the value (41 characters) is not valid"},
		{name: "cloud-conf IDs", cluster: &Cluster{CloudConf: &CloudConf{SubscriptionID: "11111111-2222-3333-4444-555555555555", ResourceGroup: "rg,x=y", VnetName: "v", SubnetName: "s", SecurityGroupName: "n"}},
			want: "AZURE_RESOURCE_GROUP from cluster cloud-conf resourceGroup: the value (6 characters) is not valid"},
		{name: "values", values: map[string]any{"region": bad},
			want: "AZURE_REGION from values global.coco.azure.region: the value (41 characters) is not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := azure.Resolve(env(t, tc.env), tc.cluster, azureOf(tc.values))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "initdata=x") || strings.Contains(err.Error(), "x=y") {
				t.Errorf("the error quotes the value: %v", err)
			}
		})
	}
}

// azureOf is global.coco.azure as a fork's values give it.
func azureOf(m map[string]any) contract.Azure {
	return contract.Decode(map[string]any{"global": map[string]any{"coco": map[string]any{"azure": m}}}).Azure
}

// Every values key the peer-pods key table names is a field of the values contract: a key the
// contract does not map would never be read from the fork.
func TestValuesKeysAreInTheContract(t *testing.T) {
	for _, p := range []*Provider{azure, aws} {
		for _, k := range p.keys {
			coco := contract.Decode(map[string]any{"global": map[string]any{"coco": map[string]any{p.ValuesRoot: map[string]any{k.valuesKey: "x"}}}})
			if got := p.Values(coco).Value(k.valuesKey); got != "x" {
				t.Errorf("%s %s: values key %s is not read by the contract", p.Platform, k.name, k.valuesKey)
			}
		}
	}
}

// AWS: the region and, where the MachineSets name them, the subnet and security groups come
// from the cluster; the VPC has no cluster source, and a missing one names every other way.
func TestResolveAWS(t *testing.T) {
	cluster := &Cluster{AWS: AWSFacts{Region: "us-east-2", SubnetID: "subnet-0123456789abcdef0", SecurityGroupIDs: "sg-0123456789abcdef0,sg-89abcdef"}}
	e := config.PluginEnv{Env: map[string]string{"PODVM_INSTANCE_TYPE": "m6a.xlarge"}}
	values := contract.AWS{VPCID: "vpc-0123456789abcdef0", SubnetID: "subnet-11111111", InstanceTypes: "m6a.large, m6a.xlarge"}
	got, err := aws.Resolve(e, cluster, values)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"AWS_REGION":           "us-east-2 cluster infrastructures.config.openshift.io/cluster status.platformStatus.aws.region",
		"AWS_SUBNET_ID":        "subnet-0123456789abcdef0 cluster the worker MachineSets' providerSpec subnet.id",
		"AWS_SG_IDS":           "sg-0123456789abcdef0,sg-89abcdef cluster the worker MachineSets' providerSpec securityGroups[].id",
		"AWS_VPC_ID":           "vpc-0123456789abcdef0 values global.coco.aws.vpcID",
		"PODVM_INSTANCE_TYPE":  "m6a.xlarge env PODVM_INSTANCE_TYPE",
		"PODVM_INSTANCE_TYPES": "m6a.large,m6a.xlarge values global.coco.aws.instanceTypes",
	}
	for _, v := range got {
		if w := want[v.Key]; w != v.Value+" "+v.Source {
			t.Errorf("%s = %q from %q, want %s", v.Key, v.Value, v.Source, w)
		}
		delete(want, v.Key)
	}
	if len(want) > 0 {
		t.Errorf("not resolved: %v", want)
	}

	// Nothing from the cluster (an installer-made MachineSet selects by filter), no VPC, a
	// non-confidential type: every problem at once, each with its ways out.
	_, err = aws.Resolve(config.PluginEnv{Env: map[string]string{"PODVM_INSTANCE_TYPES": "m6a.large,t3.large"}}, &Cluster{AWS: AWSFacts{Region: "us-east-2"}}, contract.AWS{})
	for _, w := range []string{
		"AWS_SUBNET_ID has no source: set plugin parameter aws-subnet-id or plugin env AWS_SUBNET_ID on the application, let the plugin read it from the cluster (the worker MachineSets' providerSpec subnet.id), or set aws.subnetID in pattern-gen.yaml",
		"AWS_VPC_ID has no source: set plugin parameter aws-vpc-id or plugin env AWS_VPC_ID on the application, or set aws.vpcID in pattern-gen.yaml (global.coco.aws.vpcID in values-global.yaml)",
		"PODVM_INSTANCE_TYPES from env PODVM_INSTANCE_TYPES: entry 2 is not valid; want a comma-separated list of AMD SEV-SNP instance types",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
	// The default type must be one of the allowed ones, as on Azure.
	_, err = aws.Resolve(config.PluginEnv{}, cluster, contract.AWS{VPCID: "vpc-0123456789abcdef0", InstanceType: "c6a.large"})
	if err == nil || !strings.Contains(err.Error(), "PODVM_INSTANCE_TYPE c6a.large (from values global.coco.aws.instanceType) is not in PODVM_INSTANCE_TYPES m6a.large,m6a.xlarge,m6a.2xlarge,m6a.4xlarge (from default)") {
		t.Errorf("default type outside the list: %v", err)
	}
}

func TestConfidentialInstanceTypes(t *testing.T) {
	for typ, want := range map[string]bool{"m6a.large": true, "m6a.8xlarge": true, "c6a.16xlarge": true, "r6a.4xlarge": true,
		"m6a.12xlarge": false, "m6a.16xlarge": false, "r6a.8xlarge": false, "c6a.24xlarge": false, "m6a.24xlarge": false, "m6a.metal": false, "m6i.large": false, "t3.large": false, "M6A.large": false, "m6a.large ": false} {
		if got := config.IsConfidentialInstanceType(typ); got != want {
			t.Errorf("%q: %v", typ, got)
		}
	}
}

// A fork for one platform refuses the other platform's settings and a cluster of another cloud.
func TestResolveRefusesTheOtherPlatform(t *testing.T) {
	values := contract.AWS{VPCID: "vpc-0123456789abcdef0", SubnetID: "subnet-0123456789abcdef0", SecurityGroupIDs: "sg-0123456789abcdef0", Region: "us-east-2"}
	_, err := aws.Resolve(env(t, map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"azure-subnet-id","string":"x"}]`}), nil, values)
	if err == nil || !strings.Contains(err.Error(), "parameter azure-subnet-id is a setting of platform Azure; this fork's platform is AWS: use the AWS settings (plugin parameters aws-*)") {
		t.Errorf("Azure parameter on AWS: %v", err)
	}
	_, err = azure.Resolve(env(t, map[string]string{"ARGOCD_ENV_AWS_REGION": "us-east-2"}), nil, azureOf(nil))
	if err == nil || !strings.Contains(err.Error(), "env AWS_REGION is a setting of platform AWS; this fork's platform is Azure") {
		t.Errorf("AWS env on Azure: %v", err)
	}
	_, err = aws.Resolve(config.PluginEnv{}, &Cluster{AWS: AWSFacts{PlatformType: "Azure"}}, values)
	if err == nil || !strings.Contains(err.Error(), `the cluster's Infrastructure says platform "Azure", but the fork's platform is AWS`) {
		t.Errorf("AWS fork on an Azure cluster: %v", err)
	}
	if _, err := aws.Resolve(config.PluginEnv{}, &Cluster{AWS: AWSFacts{PlatformType: "AWS"}}, values); err != nil {
		t.Errorf("AWS fork on AWS: %v", err)
	}
}
