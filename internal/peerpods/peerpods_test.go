package peerpods

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/pattern-gen/pattern-gen/internal/config"
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
	got, err := Resolve(e, cluster, values)
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
	got, err = Resolve(env(t, map[string]string{
		"ARGOCD_ENV_AZURE_SUBNET_ID": cc.SubnetID(), "ARGOCD_ENV_AZURE_NSG_ID": cc.NSGID(), "ARGOCD_ENV_AZURE_REGION": "eastus",
	}), nil, map[string]any{"resourceGroup": "values-rg"})
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
	_, err := Resolve(env(t, map[string]string{
		"ARGOCD_APP_PARAMETERS":      `[{"name":"azure-instance-size","string":"Standard_D2as_v5"}]`,
		"ARGOCD_ENV_AZURE_SUBNET_ID": "/subscriptions/x/resourceGroups/rg",
	}), nil, nil)
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
		`[{"name":"azure-regoin","string":"x"}]`:  `plugin parameter "azure-regoin" is unknown; known parameters: azure-instance-size, azure-instance-sizes,`,
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

func TestInitdata(t *testing.T) {
	d := Initdata{KBSURL: "https://kbs-trustee-operator-system.apps.c1.example.com", KBSCert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", SecurityPolicy: "security-policy/insecure"}
	doc := d.TOML()
	var parsed struct {
		Algorithm, Version string
		Data               map[string]string
	}
	if _, err := toml.Decode(string(doc), &parsed); err != nil {
		t.Fatalf("initdata is not TOML: %v\n%s", err, doc)
	}
	if parsed.Algorithm != "sha256" || parsed.Version != "0.1.0" || len(parsed.Data) != 3 {
		t.Fatalf("initdata header: %+v", parsed)
	}
	for name, body := range parsed.Data {
		if name == "policy.rego" {
			if !strings.Contains(body, "default ExecProcessRequest := false") || !strings.Contains(body, "default CreateContainerRequest := true") {
				t.Errorf("restrictive policy:\n%s", body)
			}
			continue
		}
		var v map[string]any
		if _, err := toml.Decode(body, &v); err != nil {
			t.Errorf("%s is not TOML: %v\n%s", name, err, body)
		}
		if !strings.Contains(body, d.KBSURL) || !strings.Contains(body, "MIIB") {
			t.Errorf("%s lacks the KBS URL or certificate:\n%s", name, body)
		}
	}
	if allow := (Initdata{KBSURL: d.KBSURL, SecurityPolicy: "x", Policy: AllowAll}).TOML(); !bytes.Contains(allow, []byte("default ExecProcessRequest := true")) {
		t.Error("allow-all policy denies exec")
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
