package contract

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	root := map[string]any{"global": map[string]any{"coco": map[string]any{
		"versions":              map[string]any{"sandboxedContainers": "1.12.0", "trustee": "1.1.0"},
		"securityPolicyFlavour": "signed",
		"appsDomain":            "apps.example.com",
		"azure":                 map[string]any{"region": "eastus", "VMFlavours": "a,b", "requireClusterValues": true, "subnetID": 7},
		"trustee":               map[string]any{"https": "true"},
	}}}
	got := Decode(root)
	want := Coco{
		Versions:              Versions{SandboxedContainers: "1.12.0", Trustee: "1.1.0"},
		SecurityPolicyFlavour: "signed",
		AppsDomain:            "apps.example.com",
		// A value of the wrong type reads as unset, as the charts' `| default` reads it.
		Azure: Azure{Region: "eastus", VMFlavours: "a,b", RequireClusterValues: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode = %+v, want %+v", got, want)
	}
	if got.Azure.Value("region") != "eastus" || got.Azure.Value("VMFlavours") != "a,b" || got.Azure.Value("nope") != "" {
		t.Error("Value by values key")
	}
	if Decode(nil) != (Coco{}) || Decode(map[string]any{"global": "x"}) != (Coco{}) {
		t.Error("no global.coco decodes to the zero value")
	}
}

// Every string setting of a provider decodes from its values key and reads back through Value
// under the same key, so a key table that names a values key reaches the field Decode filled.
func TestProviderValuesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		root  string
		typ   reflect.Type
		value func(Coco) Values
	}{
		{"azure", reflect.TypeFor[Azure](), func(c Coco) Values { return c.Azure }},
		{"aws", reflect.TypeFor[AWS](), func(c Coco) Values { return c.AWS }},
	} {
		values := map[string]any{}
		var keys []string
		for i := range tc.typ.NumField() {
			f := tc.typ.Field(i)
			if f.Type.Kind() != reflect.String {
				continue
			}
			// The values key is the field name with its first letters lower-cased
			// (DefaultVMFlavour: defaultVMFlavour, AMIID: amiID), as the charts spell them.
			key := valuesKeyOf(f.Name)
			values[key] = "v-" + key
			keys = append(keys, key)
		}
		got := tc.value(Decode(map[string]any{"global": map[string]any{"coco": map[string]any{tc.root: values}}}))
		for _, k := range keys {
			if got.Value(k) != "v-"+k {
				t.Errorf("global.coco.%s.%s reads back as %q", tc.root, k, got.Value(k))
			}
		}
	}
}

// valuesKeyOf spells a field name as the charts' values key.
func valuesKeyOf(field string) string {
	special := map[string]string{"VMFlavours": "VMFlavours", "NSGID": "nsgID", "AMIID": "amiID", "VPCID": "vpcID"}
	if k, ok := special[field]; ok {
		return k
	}
	return strings.ToLower(field[:1]) + field[1:]
}
