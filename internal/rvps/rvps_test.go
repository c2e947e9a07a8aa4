package rvps

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeEachFormat(t *testing.T) {
	want := []Entry{{Name: "snp_pcr08", Expiration: "2027-01-01T00:00:00Z", Values: []string{"aa", "bb"}}}
	// The stored JSON of an entry as the RVPS writes it; "???>>>" makes its standard base64 differ
	// from the URL-safe one the store uses.
	stored := `{"version":"0.1.0","name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","value":["aa","bb"],"x":"???>>>"}`
	urlSafe := base64.URLEncoding.EncodeToString([]byte(stored))
	if !strings.ContainsAny(base64.StdEncoding.EncodeToString([]byte(stored)), "+/") {
		t.Fatal("the test entry does not tell the two alphabets apart")
	}
	for name, data := range map[string]map[string]string{
		"0.4":  {KeyList: `[{"name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","hash-value":[{"alg":"sha256","value":"aa"},{"alg":"sha256","value":"bb"}]}]`},
		"1.1":  {KeyList: `[{"name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","value":["aa","bb"]}]`},
		"1.2":  {KeyStore: `{"snp_pcr08":"` + urlSafe + `"}`},
		"none": {},
	} {
		got, err := Decode(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if name == "none" {
			if len(got) != 0 {
				t.Errorf("none: %v", got)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	for name, data := range map[string]map[string]string{
		"standard base64": {KeyStore: `{"snp_pcr08":"` + base64.StdEncoding.EncodeToString([]byte(stored)) + `"}`},
		"name mismatch":   {KeyStore: `{"tdx_pcr08":"` + urlSafe + `"}`},
		"both keys":       {KeyList: `[]`, KeyStore: `{}`},
		"not a list":      {KeyList: `{}`},
	} {
		if _, err := Decode(data); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
