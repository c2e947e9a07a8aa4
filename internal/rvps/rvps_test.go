package rvps

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

func cm(key, value string) map[string]any {
	return map[string]any{"data": map[string]any{key: value}}
}

func TestDecodeEachFormat(t *testing.T) {
	want := []Entry{{Name: "snp_pcr08", Expiration: "2027-01-01T00:00:00Z", Values: []string{"aa", "bb>>>??"}}}
	// The stored JSON of an entry as the RVPS writes it; its value makes the standard base64
	// differ from the URL-safe one the store uses.
	stored := `{"version":"0.1.0","name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","value":["aa","bb>>>??"]}`
	urlSafe := base64.URLEncoding.EncodeToString([]byte(stored))
	std := base64.StdEncoding.EncodeToString([]byte(stored))
	if urlSafe == std {
		t.Fatal("the test entry does not tell the two alphabets apart")
	}
	for name, tc := range map[string]struct {
		obj map[string]any
		key string
	}{
		"0.4": {cm(KeyList, `[{"name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","hash-value":[{"alg":"sha256","value":"aa"},{"alg":"sha256","value":"bb>>>??"}]}]`), KeyList},
		"1.1": {cm(KeyList, `[{"name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","value":["aa","bb>>>??"]}]`), KeyList},
		"1.2": {cm(KeyStore, `{"snp_pcr08":"`+urlSafe+`"}`), KeyStore},
	} {
		got, err := Decode(tc.obj, tc.key)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v %v, want %+v", name, got, err, want)
		}
	}
	// Everything the RVPS would read differently, or that would hide values from the check.
	entry := func(s string) map[string]any {
		return cm(KeyStore, `{"snp_pcr08":"`+base64.URLEncoding.EncodeToString([]byte(s))+`"}`)
	}
	for name, obj := range map[string]map[string]any{
		"standard base64":     cm(KeyStore, `{"snp_pcr08":"`+std+`"}`),
		"base64 with newline": cm(KeyStore, `{"snp_pcr08":"`+urlSafe[:8]+`\n`+urlSafe[8:]+`"}`),
		"name mismatch":       cm(KeyStore, `{"tdx_pcr08":"`+urlSafe+`"}`),
		"duplicate entry":     cm(KeyStore, `{"snp_pcr08":"`+urlSafe+`","snp_pcr08":"`+urlSafe+`"}`),
		"other-case field":    entry(`{"version":"0.1.0","name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","value":["evil"],"Value":["aa"]}`),
		"field twice":         entry(`{"version":"0.1.0","name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","value":["aa"],"value":["evil"]}`),
		"hash-value in store": entry(`{"version":"0.1.0","name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","hash-value":[]}`),
		"bad version":         entry(`{"version":"0.2.0","name":"snp_pcr08","expiration":"2027-01-01T00:00:00Z","value":["aa"]}`),
		"bad expiration":      entry(`{"version":"0.1.0","name":"snp_pcr08","expiration":"2027-01-01","value":["aa"]}`),
		"missing key":         cm(KeyList, `[]`),
		"not a string":        {"data": map[string]any{KeyStore: map[string]any{}}},
		"binaryData too":      {"data": map[string]any{KeyStore: `{}`}, "binaryData": map[string]any{KeyStore: "e30="}},
		"trailing data":       cm(KeyStore, `{} {}`),
	} {
		if _, err := Decode(obj, KeyStore); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := Decode(cm(KeyList, `[{"name":"a","expiration":"2027-01-01T00:00:00Z","value":["x"],"NAME":"b"}]`), KeyList); err == nil || !strings.Contains(err.Error(), "want exactly") {
		t.Errorf("list entry with an extra field: %v", err)
	}
}

func TestKeyFor(t *testing.T) {
	for v, want := range map[string]string{"0.4.2": KeyList, "1.1.0": KeyList, "1.2.1": KeyStore, "1.3.0": "", "": ""} {
		got, err := KeyFor(v)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q %v", v, got, err)
		}
	}
}
