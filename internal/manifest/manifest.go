// Package manifest is the one place that splits multi-document YAML streams into Kubernetes
// objects, names them stably and encodes them back, so every later error can point at the
// source document and every output is byte-identical for the same input.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Object is one Kubernetes object from a stream.
type Object struct {
	Source string // where the stream came from, for errors
	Index  int    // position of the document in the stream, from 0
	Node   *yaml.Node

	APIVersion, Kind, Namespace, Name string
}

// ID identifies an object the way Kubernetes does: group, kind, namespace, name.
func (o Object) ID() string {
	group, _, found := strings.Cut(o.APIVersion, "/")
	if !found {
		group = "core"
	}
	ns := o.Namespace
	if ns == "" {
		ns = "_"
	}
	return group + "/" + o.Kind + "/" + ns + "/" + o.Name
}

// FileName is the stable file name of the object inside an application folder:
// <kind>-<namespace>-<name>.yaml, or <kind>-<name>.yaml without a namespace.
func (o Object) FileName() string {
	parts := []string{strings.ToLower(o.Kind)}
	if o.Namespace != "" {
		parts = append(parts, o.Namespace)
	}
	parts = append(parts, o.Name)
	return strings.Join(parts, "-") + ".yaml"
}

// MaxStreamBytes bounds a stream Split decodes: what one application renders, or one file. Argo
// CD passes an application's manifests in one gRPC message of at most 100 MiB by default (as
// JSON, which can be larger than the YAML), so no stream above 64 MiB could be synced; refusing
// it before parsing keeps a chart that renders hundreds of MB from costing seconds and GBs.
const MaxStreamBytes = 64 << 20

// Split decodes a YAML stream into objects, skipping empty documents. Every document must be
// a mapping with apiVersion, kind and metadata.name; lists (kind: List) are expanded.
func Split(source string, stream []byte) ([]Object, error) {
	if len(stream) > MaxStreamBytes {
		return nil, fmt.Errorf("%s: the rendered stream is %d bytes, more than the %d allowed (Argo CD passes at most 100 MiB of manifests for an application); render fewer or smaller objects", source, len(stream), MaxStreamBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	var out []Object
	var errs []error
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i+1, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		n := doc.Content[0]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue
		}
		objs, err := fromNode(source, i, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, objs...)
	}
	return out, errors.Join(errs...)
}

func fromNode(source string, index int, n *yaml.Node) ([]Object, error) {
	where := fmt.Sprintf("%s: document %d (line %d)", source, index+1, n.Line)
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a Kubernetes object (expected a mapping)", where)
	}
	o := Object{Source: source, Index: index, Node: n}
	o.APIVersion = scalar(n, "apiVersion")
	o.Kind = scalar(n, "kind")
	if md := child(n, "metadata"); md != nil {
		o.Name = scalar(md, "name")
		o.Namespace = scalar(md, "namespace")
	}
	if o.Kind == "List" {
		var out []Object
		if items := child(n, "items"); items != nil {
			for _, it := range items.Content {
				objs, err := fromNode(source, index, it)
				if err != nil {
					return nil, err
				}
				out = append(out, objs...)
			}
		}
		return out, nil
	}
	var missing []string
	if o.APIVersion == "" {
		missing = append(missing, "apiVersion")
	}
	if o.Kind == "" {
		missing = append(missing, "kind")
	}
	if o.Name == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: object has no %s", where, strings.Join(missing, ", "))
	}
	return []Object{o}, nil
}

func child(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if c := child(m, key); c != nil && c.Kind == yaml.ScalarNode {
		return c.Value
	}
	return ""
}

// Encode writes one object as YAML with two-space indentation, keeping its key order.
func Encode(o Object) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(o.Node); err != nil {
		return nil, fmt.Errorf("encode %s: %w", o.ID(), err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", o.ID(), err)
	}
	return b.Bytes(), nil
}

// Separator starts every document of a stream.
const Separator = "---\n"

// Stream encodes objects as one YAML stream, each document introduced by "---".
func Stream(objs []Object) ([]byte, error) {
	var b bytes.Buffer
	for _, o := range objs {
		data, err := Encode(o)
		if err != nil {
			return nil, err
		}
		b.WriteString(Separator)
		b.Write(data)
	}
	return b.Bytes(), nil
}

// Sort orders objects by ID so that output never depends on template or map order.
func Sort(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].ID() < objs[j].ID() })
}

// Decode returns the object as plain Go data, for comparisons, with DecodeNode: an object
// rendered from a fork can hold tens of thousands of keys or an alias bomb.
func (o Object) Decode() (map[string]any, error) {
	m, err := DecodeNode(o.Node)
	if err != nil {
		return nil, fmt.Errorf("%s: document %d: %w", o.Source, o.Index+1, err)
	}
	return m, nil
}

// SetString sets a string at a path of mappings (e.g. "metadata", "annotations", key), creating
// the mappings on the way, and keeps every other key in place.
func (o Object) SetString(value string, path ...string) {
	n := o.Node
	for i, key := range path {
		c := child(n, key)
		last := i == len(path)-1
		if c == nil || (!last && c.Kind != yaml.MappingNode) {
			var v *yaml.Node
			if last {
				v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
			} else {
				v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			if c == nil {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
			} else {
				*c = *v
			}
			c = v
		} else if last {
			*c = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
		}
		n = c
	}
}

// String returns the string at a path of mappings, or "".
func (o Object) String(path ...string) string {
	n := o.Node
	for _, key := range path {
		if n = child(n, key); n == nil {
			return ""
		}
	}
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// ByID splits a stream and decodes each object, keyed by its ID: how two renders of the same
// objects (in-process and the helm or kustomize CLI) are compared regardless of order.
func ByID(source string, stream []byte) (map[string]map[string]any, error) {
	objs, err := Split(source, stream)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(objs))
	for _, o := range objs {
		m, err := o.Decode()
		if err != nil {
			return nil, err
		}
		out[o.ID()] = m
	}
	return out, nil
}
