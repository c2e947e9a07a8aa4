// Package rvps reads the reference values ConfigMap of Trustee's built-in RVPS
// (rvps-reference-values) in the format of each supported Trustee line, so the checks of the
// plugin and the tests look at the entries, not at one line's encoding. It reads as strictly as
// the RVPS does, or more: a document the two could read differently (a key in another case, a
// field given twice, lenient base64) is an error, never a pass.
package rvps

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// ConfigMap keys of the formats.
const (
	// KeyList is Trustee 0.4 and 1.1: a JSON list of entries, mounted as the LocalJson file.
	KeyList = "reference-values.json"
	// KeyStore is Trustee 1.2: the LocalJson key-value store itself, a JSON object from the
	// entry's name to the URL-safe base64 (with padding) of the stored ReferenceValue JSON
	// (confidential-containers/trustee v0.21.0 deps/key-value-storage/src/local_json,
	// rvps/src/reference_value.rs).
	KeyStore = "reference_value"
)

// KeyFor is the ConfigMap key the operator of a Trustee version (x.y.z) mounts: the only key
// Decode reads for that version.
func KeyFor(trusteeVersion string) (string, error) {
	switch {
	case strings.HasPrefix(trusteeVersion, "0.4."), strings.HasPrefix(trusteeVersion, "1.1."):
		return KeyList, nil
	case strings.HasPrefix(trusteeVersion, "1.2."):
		return KeyStore, nil
	}
	return "", fmt.Errorf("Trustee %q: no reference-value format known; supported: 0.4.x, 1.1.x, 1.2.x", trusteeVersion)
}

// Entry is one reference value: its name, expiration and accepted values.
type Entry struct {
	Name       string
	Expiration string
	Values     []string
}

// expiration is the only format the RVPS parses ("%Y-%m-%dT%H:%M:%SZ", trustee
// rvps/src/reference_value.rs).
var expiration = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// Decode reads the entries of an RVPS ConfigMap, sorted by name, from key (KeyFor the pinned
// Trustee): obj is the ConfigMap as decoded YAML, aliases resolved. The key must be there, as a
// string under data; binaryData (which the operator's mount serves too) is refused.
func Decode(obj map[string]any, key string) ([]Entry, error) {
	if _, ok := obj["binaryData"]; ok {
		return nil, errors.New("binaryData: the reference values must be in data, where they are checked")
	}
	data, _ := obj["data"].(map[string]any)
	raw, ok := data[key].(string)
	if !ok {
		return nil, fmt.Errorf("data.%s: missing or not a string; the pinned Trustee reads its reference values there", key)
	}
	var out []Entry
	switch key {
	case KeyList:
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return nil, fmt.Errorf("%s: not a JSON list of reference values: %w", key, err)
		}
		for i, item := range list {
			e, err := decodeEntry(item, true)
			if err != nil {
				return nil, fmt.Errorf("%s: entry %d: %w", key, i+1, err)
			}
			out = append(out, e)
		}
	case KeyStore:
		store, err := fields([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: not a JSON object of encoded reference values: %w", key, err)
		}
		for name, v := range store {
			var enc string
			if err := json.Unmarshal(v, &enc); err != nil || strings.ContainsAny(enc, "\r\n") {
				return nil, fmt.Errorf("%s: entry %s: not a base64 string", key, name)
			}
			b, err := base64.URLEncoding.Strict().DecodeString(enc)
			if err != nil {
				return nil, fmt.Errorf("%s: entry %s: not URL-safe base64 with padding: %w", key, name, err)
			}
			e, err := decodeEntry(b, false)
			if err != nil {
				return nil, fmt.Errorf("%s: entry %s: %w", key, name, err)
			}
			if e.Name != name {
				return nil, fmt.Errorf("%s: entry %s holds the reference value of %q", key, name, e.Name)
			}
			out = append(out, e)
		}
	default:
		return nil, fmt.Errorf("%s: not a reference-value key", key)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// decodeEntry reads one reference value with exactly the fields its format has: the lists'
// {name, expiration, value} or 0.4's {name, expiration, hash-value: [{alg, value}]}, the store's
// {version: "0.1.0", name, expiration, value}.
func decodeEntry(raw []byte, list bool) (Entry, error) {
	f, err := fields(raw)
	if err != nil {
		return Entry{}, err
	}
	want := []string{"expiration", "name", "value", "version"}
	if list {
		want = []string{"expiration", "name", "value"}
		if _, ok := f["hash-value"]; ok {
			want = []string{"expiration", "hash-value", "name"}
		}
	}
	if got := slices.Sorted(maps.Keys(f)); !slices.Equal(got, want) {
		return Entry{}, fmt.Errorf("fields %v, want exactly %v", got, want)
	}
	var e Entry
	if err := json.Unmarshal(f["name"], &e.Name); err != nil {
		return Entry{}, fmt.Errorf("name: %w", err)
	}
	if err := json.Unmarshal(f["expiration"], &e.Expiration); err != nil || !expiration.MatchString(e.Expiration) {
		return Entry{}, fmt.Errorf("expiration: not of the form 2027-01-01T00:00:00Z")
	}
	if v, ok := f["version"]; ok {
		var version string
		if err := json.Unmarshal(v, &version); err != nil || version != "0.1.0" {
			return Entry{}, fmt.Errorf("version: want \"0.1.0\"")
		}
	}
	if v, ok := f["value"]; ok {
		if err := json.Unmarshal(v, &e.Values); err != nil {
			return Entry{}, fmt.Errorf("value: not a list of strings")
		}
		return e, nil
	}
	var hashes []json.RawMessage
	if err := json.Unmarshal(f["hash-value"], &hashes); err != nil {
		return Entry{}, fmt.Errorf("hash-value: not a list")
	}
	for _, h := range hashes {
		hf, err := fields(h)
		if err != nil || !slices.Equal(slices.Sorted(maps.Keys(hf)), []string{"alg", "value"}) {
			return Entry{}, fmt.Errorf("hash-value: each item has exactly alg and value")
		}
		var alg, value string
		if json.Unmarshal(hf["alg"], &alg) != nil || alg != "sha256" || json.Unmarshal(hf["value"], &value) != nil {
			return Entry{}, fmt.Errorf("hash-value: alg sha256 and a string value")
		}
		e.Values = append(e.Values, value)
	}
	return e, nil
}

// fields reads a JSON object's members, refusing a name given twice (which encoding/json would
// resolve by taking the last, and serde by failing).
func fields(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("field %q given twice", name)
		}
		out[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the object")
	}
	return out, nil
}

// FirmwareNames are the bare-metal launch reference values the attestation policy compares each
// TEE kind's evidence with (charts/hub/trustee/files/v1.1/baremetal_cpu.rego), by kind as
// config.HardwareProfile names them: the fork's values-firmware.yaml supplies them.
var FirmwareNames = map[string][]string{
	"tdx": {"mr_td", "rtmr_1", "rtmr_2", "xfam"},
	"snp": {"snp_launch_measurement", "snp_bootloader", "snp_microcode", "snp_snp_svn", "snp_tee_svn"},
}

// MissingFirmware lists the launch reference values of the TEE kinds tees that entries lack:
// without them no pod of that kind attests as affirming.
func MissingFirmware(entries []Entry, tees []string) []string {
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name] = len(e.Values) > 0
	}
	var out []string
	for _, tee := range tees {
		for _, name := range FirmwareNames[tee] {
			if !have[name] {
				out = append(out, name)
			}
		}
	}
	return out
}
