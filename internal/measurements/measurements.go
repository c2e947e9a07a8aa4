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
	"slices"
	"sort"
	"strconv"
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
	Expires string `yaml:"expires"` // RFC 3339; written into the RVPS entries (Trustee 1.1 and 1.2 do not enforce it)
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
// the OSC version the fork pins. The file holds global.coco.trustee.measurements and nothing
// else, every value a plain string and no anchor or alias, so what Read checks is exactly what
// Helm merges. Every problem is reported at once, with its line and field.
func Read(file string, data []byte, pinnedOSC string) (*Set, error) {
	r := &reader{file: file}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, config.Problems{{File: file, Line: line, Msg: "not valid YAML; rewrite it with pattern-gen measurements pull"}}
	}
	if r.aliases(&root); len(r.ps) > 0 {
		return nil, r.ps
	}
	m := &root
	if m.Kind == yaml.DocumentNode && len(m.Content) == 1 {
		m = m.Content[0]
	}
	path := ""
	for _, key := range strings.Split(valuesPath, ".") {
		parent, fields := m, r.mapping(m, path, key)
		path = strings.TrimPrefix(path+"."+key, ".")
		if m = fields[key]; m == nil {
			if fields != nil {
				r.bad(r.at(parent), path, "missing; rewrite the file with pattern-gen measurements pull")
			}
			return nil, r.ps
		}
	}
	fields := r.mapping(m, valuesPath, "osc", "image", "digest", "expires", "sha256")
	if fields == nil {
		return nil, r.ps
	}
	s := &Set{SHA256: map[string]string{}}
	var ok bool
	if s.OSC, ok = r.str(m, fields, "osc", valuesPath+".osc"); ok && s.OSC != pinnedOSC {
		r.bad(fields["osc"], valuesPath+".osc", "measured for OSC %q, but the fork pins %q (global.coco.versions.sandboxedContainers); run pattern-gen measurements pull", s.OSC, pinnedOSC)
	}
	if s.Image, ok = r.str(m, fields, "image", valuesPath+".image"); ok && s.Image == "" {
		r.bad(fields["image"], valuesPath+".image", "empty; rewrite the file with pattern-gen measurements pull")
	}
	if s.Digest, ok = r.str(m, fields, "digest", valuesPath+".digest"); ok && !digest.MatchString(s.Digest) {
		r.bad(fields["digest"], valuesPath+".digest", "not a sha256:<64 hex> digest")
	}
	if s.Expires, ok = r.str(m, fields, "expires", valuesPath+".expires"); ok {
		if _, err := time.Parse(time.RFC3339, s.Expires); err != nil || !utc.MatchString(s.Expires) {
			r.bad(fields["expires"], valuesPath+".expires", "not a UTC time such as 2027-12-31T00:00:00Z")
		}
	}
	if _, ok := fields["sha256"]; !ok {
		r.bad(r.at(m), valuesPath+".sha256", "missing: the attestation policy checks %s, so no pod attests as affirming without it; rewrite the file with pattern-gen measurements pull", strings.Join(PCRs, ", "))
	}
	bank := r.mapping(fields["sha256"], valuesPath+".sha256", PCRs...)
	for _, pcr := range PCRs {
		if bank == nil {
			break
		}
		v, ok := r.str(fields["sha256"], bank, pcr, valuesPath+".sha256."+pcr)
		switch {
		case !ok:
		case !hex64.MatchString(v):
			r.bad(bank[pcr], valuesPath+".sha256."+pcr, "not a SHA-256 digest (64 lowercase hex digits, no 0x)")
		default:
			s.SHA256[pcr] = v
		}
	}
	if len(r.ps) > 0 {
		sort.SliceStable(r.ps, func(i, j int) bool { return r.ps[i].Line < r.ps[j].Line })
		return nil, r.ps
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`line ([0-9]+)`)

// reader collects the problems of one measurements file.
type reader struct {
	file  string
	ps    config.Problems
	keyOf map[*yaml.Node]*yaml.Node // value node -> its key node, where a missing child is reported
}

// at is where a problem with a child of the mapping parent is reported: the parent's key line.
func (r *reader) at(parent *yaml.Node) *yaml.Node {
	if k := r.keyOf[parent]; k != nil {
		return k
	}
	return parent
}

func (r *reader) bad(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.ps = append(r.ps, config.Problem{File: r.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// aliases reports every anchor, alias and merge key: they make a key or value mean something
// other than what it reads as.
func (r *reader) aliases(n *yaml.Node) {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || n.Tag == "!!merge" {
		r.bad(n, "", "anchors, aliases and merge keys are not allowed in this file; rewrite it with pattern-gen measurements pull")
		return
	}
	for _, c := range n.Content {
		r.aliases(c)
	}
}

// mapping returns the children of the mapping n by key, and reports a key that is not one of
// keys, or is there twice. A missing or non-mapping n is reported at path and gives nil.
func (r *reader) mapping(n *yaml.Node, path string, keys ...string) map[string]*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.bad(n, strings.TrimPrefix(path, "."), "not a mapping; rewrite the file with pattern-gen measurements pull")
		return nil
	}
	out := map[string]*yaml.Node{}
	if r.keyOf == nil {
		r.keyOf = map[*yaml.Node]*yaml.Node{}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		r.keyOf[n.Content[i+1]] = k
		child := strings.TrimPrefix(path+"."+k.Value, ".")
		switch {
		case !slices.Contains(keys, k.Value):
			r.bad(k, child, "not a field of the measurements file, which holds only %s; move it to another values file", valuesPath)
		case out[k.Value] != nil:
			r.bad(k, child, "listed twice")
		default:
			out[k.Value] = n.Content[i+1]
		}
	}
	return out
}

// str returns the string at key (path) of the mapping parent, whose children are fields,
// reporting it as missing, or as not a string: a number, null or list would reach Helm as
// another type than the chart's schema wants.
func (r *reader) str(parent *yaml.Node, fields map[string]*yaml.Node, key, path string) (string, bool) {
	n, ok := fields[key]
	switch {
	case !ok && slices.Contains(PCRs, key):
		r.bad(r.at(parent), path, "missing: the attestation policy checks %s, so no pod attests as affirming without it; rewrite the file with pattern-gen measurements pull", key)
		return "", false
	case !ok:
		r.bad(r.at(parent), path, "missing; rewrite the file with pattern-gen measurements pull")
		return "", false
	case n.Kind != yaml.ScalarNode || n.Tag != "!!str":
		r.bad(n, path, "not a string; quote it")
		return "", false
	}
	return n.Value, true
}

// Version says whether v is an OSC version as the image is tagged with: x.y.z.
func Version(v string) bool { return semver.MatchString(v) }

// Expired says whether the values are past their expiration at now (pattern-gen warns; the RVPS
// of Trustee 1.1 and 1.2, trustee v0.19 and later, never calls ReferenceValue::expired).
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
