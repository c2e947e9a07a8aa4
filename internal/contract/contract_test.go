package contract

import (
	"reflect"
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
