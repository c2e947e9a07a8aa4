// Package rvps reads the reference values ConfigMap of Trustee's built-in RVPS
// (rvps-reference-values) in the format of each supported Trustee line, so the checks of the
// plugin and the tests look at the entries, not at one line's encoding.
package rvps

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ConfigMap keys of the formats.
const (
	// KeyList is Trustee 0.4 and 1.1: a JSON list of entries, mounted as the LocalJson file.
	KeyList = "reference-values.json"
	// KeyStore is Trustee 1.2: the LocalJson key-value store itself, a JSON object from the
	// entry's name to the URL-safe base64 of the stored ReferenceValue JSON
	// (confidential-containers/trustee v0.21.0 deps/key-value-storage/src/local_json).
	KeyStore = "reference_value"
)

// Entry is one reference value: its name, expiration (RFC 3339, UTC) and accepted values.
type Entry struct {
	Name       string
	Expiration string
	Values     []string
}

// Decode reads the entries of an RVPS ConfigMap's data, whichever format it carries, sorted by
// name. A ConfigMap with neither key has no entries.
func Decode(data map[string]string) ([]Entry, error) {
	list, hasList := data[KeyList]
	store, hasStore := data[KeyStore]
	var out []Entry
	switch {
	case hasList && hasStore:
		return nil, fmt.Errorf("both %s and %s: the operator reads one format", KeyList, KeyStore)
	case hasList:
		var raw []stored
		if err := json.Unmarshal([]byte(list), &raw); err != nil {
			return nil, fmt.Errorf("%s: not a JSON list of reference values: %w", KeyList, err)
		}
		for _, r := range raw {
			out = append(out, r.entry())
		}
	case hasStore:
		var m map[string]string
		if err := json.Unmarshal([]byte(store), &m); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object of encoded reference values: %w", KeyStore, err)
		}
		for name, enc := range m {
			b, err := base64.URLEncoding.DecodeString(enc)
			if err != nil {
				return nil, fmt.Errorf("%s: entry %s: not URL-safe base64: %w", KeyStore, name, err)
			}
			var r stored
			if err := json.Unmarshal(b, &r); err != nil {
				return nil, fmt.Errorf("%s: entry %s: not a reference value: %w", KeyStore, name, err)
			}
			if r.Name != name {
				return nil, fmt.Errorf("%s: entry %s holds the reference value of %q", KeyStore, name, r.Name)
			}
			out = append(out, r.entry())
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// stored is a reference value as the 0.4 list (hash-value), the 1.1 list and the 1.2 store
// (value) write it.
type stored struct {
	Name       string   `json:"name"`
	Expiration string   `json:"expiration"`
	Value      []string `json:"value"`
	HashValue  []struct {
		Value string `json:"value"`
	} `json:"hash-value"`
}

func (s stored) entry() Entry {
	e := Entry{Name: s.Name, Expiration: s.Expiration, Values: slices.Clone(s.Value)}
	for _, h := range s.HashValue {
		e.Values = append(e.Values, h.Value)
	}
	return e
}
