// Package measurements holds the pod VM image's PCR reference values in the fork: the typed form
// of the committed file values-measurements.yaml, its reader (with the file, line and field of
// every problem) and its writer, and the reader of measurements.json, the file Red Hat ships in
// the dm-verity pod VM image of each OSC version. The trustee chart reads the values the file sets
// (global.coco.trustee.measurements) into RVPS. Fetching the image is package pull's, which
// cmp-plugin never links: rendering reads only what is committed.
package measurements

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/config"
)

const (
	// File is the fork's measurements file, a Helm values file the trustee application lists
	// in extraValueFiles.
	File = "values-measurements.yaml"
	// Repository is where Red Hat publishes the dm-verity pod VM image, tagged with the OSC
	// version (x.y.z) whose pod VMs boot it.
	Repository = "registry.redhat.io/openshift-sandboxed-containers/osc-dm-verity-image"
	// ImagePath is the measurements file inside that image.
	ImagePath = "image/measurements.json"
	// valuesPath is where the values sit in File, for messages.
	valuesPath = "global.coco.trustee.measurements"
)

// PCRs are the registers the image's measurements fix, in the order the policy lists them;
// PCR8 (initdata) is the plugin's.
var PCRs = []string{"pcr03", "pcr09", "pcr11", "pcr12"}

// Set is the pod VM image's measurements for one OSC version, with where they came from.
type Set struct {
	OSC     string `yaml:"osc"`     // the OSC version (x.y.z) whose pod VM image was measured
	Image   string `yaml:"image"`   // the reference pulled
	Digest  string `yaml:"digest"`  // what the reference resolved to
	Expires string `yaml:"expires"` // RFC 3339; RVPS stops accepting the values then
	// SHA256 maps pcrNN to its lowercase hex SHA-256 bank value, without 0x.
	SHA256 map[string]string `yaml:"sha256"`
}

var (
	hex64  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	semver = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	utc    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)
)

// Image reads measurements.json as the pod VM image ships it: measurements.sha256.pcrNN, each a
// 0x-prefixed hex digest. Every register of PCRs must be there; others are ignored. Errors name
// the field, never quote the data.
func Image(data []byte) (map[string]string, error) {
	var doc struct {
		Measurements struct {
			SHA256 map[string]string `json:"sha256"`
		} `json:"measurements"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s is not the JSON object measurements.sha256.pcrNN the pod VM image ships", ImagePath)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s has data after its JSON object", ImagePath)
	}
	out := map[string]string{}
	var missing []string
	for _, pcr := range PCRs {
		v, ok := doc.Measurements.SHA256[pcr]
		if !ok {
			missing = append(missing, pcr)
			continue
		}
		v = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X"))
		if !hex64.MatchString(v) {
			return nil, fmt.Errorf("%s: measurements.sha256.%s is not a SHA-256 digest in hex", ImagePath, pcr)
		}
		out[pcr] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: measurements.sha256 has no %s", ImagePath, strings.Join(missing, ", "))
	}
	return out, nil
}

// Read decodes the fork's measurements file (data, named file in messages) and checks it against
// the OSC version the fork pins. Every problem is reported at once, with its line and field.
func Read(file string, data []byte, pinnedOSC string) (*Set, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, config.Problems{{File: file, Msg: "not valid YAML; rewrite it with pattern-gen measurements pull"}}
	}
	var ps config.Problems
	bad := func(n *yaml.Node, field, format string, args ...any) {
		line := 0
		if n != nil {
			line = n.Line
		}
		path := valuesPath
		if field != "" {
			path += "." + field
		}
		ps = append(ps, config.Problem{File: file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	m := lookup(&root, "global", "coco", "trustee", "measurements")
	if m == nil || m.Kind != yaml.MappingNode {
		bad(m, "", "missing or not a mapping; rewrite the file with pattern-gen measurements pull")
		return nil, ps
	}
	s := &Set{SHA256: map[string]string{}}
	str := func(key string) (string, *yaml.Node) {
		n := lookup(m, key)
		if n == nil || n.Kind != yaml.ScalarNode {
			bad(m, key, "missing; rewrite the file with pattern-gen measurements pull")
			return "", n
		}
		return n.Value, n
	}
	var n *yaml.Node
	if s.OSC, n = str("osc"); n != nil && s.OSC != pinnedOSC {
		bad(n, "osc", "measured for OSC %q, but the fork pins %q (global.coco.versions.sandboxedContainers); run pattern-gen measurements pull", s.OSC, pinnedOSC)
	}
	s.Image, _ = str("image")
	if s.Digest, n = str("digest"); n != nil && !digest.MatchString(s.Digest) {
		bad(n, "digest", "not a sha256:<64 hex> digest")
	}
	if s.Expires, n = str("expires"); n != nil {
		if _, err := time.Parse(time.RFC3339, s.Expires); err != nil || !utc.MatchString(s.Expires) {
			bad(n, "expires", "not a UTC time such as 2027-12-31T00:00:00Z")
		}
	}
	bank := lookup(m, "sha256")
	for _, pcr := range PCRs {
		v := lookup(bank, pcr)
		switch {
		case v == nil || v.Kind != yaml.ScalarNode:
			at := m
			if k := keyNode(m, "sha256"); k != nil {
				at = k
			}
			bad(at, "sha256."+pcr, "missing: the attestation policy checks %s, so no pod attests as affirming without it; rewrite the file with pattern-gen measurements pull", pcr)
		case !hex64.MatchString(v.Value):
			bad(v, "sha256."+pcr, "not a SHA-256 digest (64 lowercase hex digits, no 0x)")
		default:
			s.SHA256[pcr] = v.Value
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return s, nil
}

// Expired says whether RVPS no longer accepts the values at now.
func (s *Set) Expired(now time.Time) bool {
	t, err := time.Parse(time.RFC3339, s.Expires)
	return err == nil && !now.Before(t)
}

// Encode writes s as the fork's measurements file, with a header saying what it is.
func (s *Set) Encode() ([]byte, error) {
	if !semver.MatchString(s.OSC) {
		return nil, fmt.Errorf("OSC version %q is not x.y.z", s.OSC)
	}
	pcrs := make([]string, 0, 2*len(PCRs))
	for _, p := range PCRs {
		pcrs = append(pcrs, p, s.SHA256[p])
	}
	values := mapping("osc", s.OSC, "image", s.Image, "digest", s.Digest, "expires", s.Expires)
	values.Content = append(values.Content, scalar("sha256"), mapping(pcrs...))
	doc := values
	for _, key := range []string{"measurements", "trustee", "coco", "global"} {
		doc = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar(key), doc}}
	}
	var b bytes.Buffer
	b.WriteString("# The pod VM image's PCR reference values for the trustee chart's RVPS (snp_/tdx_pcr03,\n" +
		"# 09, 11, 12), read from " + ImagePath + " in the image below. Written by\n" +
		"# `pattern-gen measurements pull`; review a change like any other: it decides which pod VMs\n" +
		"# the KBS trusts. Pull again when the OSC pin changes or before the values expire.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mapping is a YAML mapping of key, value pairs in the order given; every value is a quoted
// string, so no reader takes a version for a number or a time for a timestamp.
func mapping(kv ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i]), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: kv[i+1]})
	}
	return n
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// keyNode is the key node of key in mapping n (nil when absent): where a missing child is
// reported.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// lookup follows mapping keys from n; nil when one is missing or n is not a mapping. Aliases are
// not followed: the file is data pattern-gen writes, and an alias there is not its own.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}
