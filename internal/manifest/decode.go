package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxAliasExpansion bounds how many YAML nodes the aliases of one document may expand to. A
// handful of nested aliases can otherwise stand for billions of values ("billion laughs");
// values files and Kubernetes objects use few anchors, if any, so this is far above real use.
const MaxAliasExpansion = 100_000

// DecodeError is a problem at a line of a YAML document.
type DecodeError struct {
	File string // empty until InFile names it
	Line int    // 0 when unknown
	Msg  string
}

// Error is "file:line: msg" once the file is known, else "line N: msg".
func (e *DecodeError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.Msg
}

// InFile names the file a decode error is in, as "file:line: msg".
func InFile(file string, err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		named := *de
		named.File = file
		return &named
	}
	return fmt.Errorf("%s: %w", file, err)
}

// DecodeMap decodes the first YAML document of data into the values yaml.Unmarshal gives a
// map[string]any (a document that is null or empty gives nil), in time linear in the size of
// data. yaml.v3 checks a mapping for duplicate keys by comparing every pair of keys, which
// takes seconds for a values file with 40,000 keys; here the check uses a map, and scalars are
// still resolved by yaml.v3 itself, so types (int, float64, bool, time.Time, nil, string) and
// merge keys (<<) come out as yaml.Unmarshal has them. Errors are *DecodeError, with the line.
func DecodeMap(data []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, parseError(err)
	}
	return DecodeNode(&doc)
}

// DecodeNode is DecodeMap for a parsed document or mapping node.
func DecodeNode(n *yaml.Node) (map[string]any, error) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) != 1 {
			return nil, nil
		}
		n = n.Content[0]
	}
	d := decoder{budget: MaxAliasExpansion, active: map[*yaml.Node]bool{}}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		if err := mapping(&d, n, m, stringKey, nil); err != nil {
			return nil, err
		}
		return m, nil
	case yaml.ScalarNode:
		v, err := resolveScalar(n)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, nil
		}
	}
	return nil, &DecodeError{Line: n.Line, Msg: fmt.Sprintf("the document is %s; want a mapping of keys to values", describe(n))}
}

// parseError turns yaml.v3's "yaml: line N: msg" into a DecodeError.
func parseError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, tail, found := strings.Cut(rest, ": ")
		if n, convErr := strconv.Atoi(num); convErr == nil && found {
			line, msg = n, tail
		}
	}
	return &DecodeError{Line: line, Msg: "not valid YAML: " + msg}
}

type decoder struct {
	budget    int                 // nodes aliases may still expand to
	active    map[*yaml.Node]bool // aliases being expanded, to catch an anchor that holds itself
	aliasLine int                 // line of the outermost alias being expanded, for the budget error
}

// value converts a node as yaml.v3 does for an interface{} target.
func (d *decoder) value(n *yaml.Node) (any, error) {
	if err := d.spend(); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return resolveScalar(n)
	case yaml.AliasNode:
		var v any
		err := d.alias(n, func(target *yaml.Node) (err error) {
			v, err = d.value(target)
			return err
		})
		return v, err
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := d.value(c)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		// yaml.v3 picks the map type from the keys: all strings (or <<) give map[string]any.
		if isStringMap(n) {
			m := map[string]any{}
			return m, mapping(d, n, m, stringKey, nil)
		}
		m := map[any]any{}
		return m, mapping(d, n, m, anyKey, nil)
	case 0:
		return nil, nil // a zero Node is null to yaml.v3 too
	}
	return nil, &DecodeError{Line: n.Line, Msg: fmt.Sprintf("unexpected YAML node kind %d", n.Kind)}
}

// spend counts one node reached through an alias against the budget.
func (d *decoder) spend() error {
	if d.aliasLine == 0 {
		return nil
	}
	if d.budget--; d.budget < 0 {
		return &DecodeError{Line: d.aliasLine, Msg: fmt.Sprintf("aliases expand to more than %d values; write the values out instead of repeating anchors", MaxAliasExpansion)}
	}
	return nil
}

// alias expands an alias node through f, refusing an anchor that contains itself.
func (d *decoder) alias(n *yaml.Node, f func(*yaml.Node) error) error {
	if n.Alias == nil {
		return &DecodeError{Line: n.Line, Msg: fmt.Sprintf("unknown anchor %s", quoteShort(n.Value))}
	}
	if d.active[n] {
		return &DecodeError{Line: n.Line, Msg: fmt.Sprintf("anchor %s contains itself", quoteShort(n.Value))}
	}
	d.active[n] = true
	defer delete(d.active, n)
	if d.aliasLine == 0 {
		d.aliasLine = n.Line
		defer func() { d.aliasLine = 0 }()
	}
	return f(n.Alias)
}

// resolveScalar resolves a scalar with yaml.v3 itself, so every tag (!!int, !!float, !!bool, !!null,
// !!timestamp, !!binary, custom tags) means what it means to yaml.Unmarshal.
func resolveScalar(n *yaml.Node) (any, error) {
	if n.Tag == "!!str" {
		return n.Value, nil // what yaml.v3 resolves a !!str to, without a decoder per string
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, &DecodeError{Line: n.Line, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return v, nil
}

func isStringMap(n *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if t := n.Content[i].ShortTag(); t != "!!str" && t != "!!merge" {
			return false
		}
	}
	return true
}

func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.Tag == "!!merge" || n.Tag == "tag:yaml.org,2002:merge")
}

// keyFunc converts a mapping key for a map with keys of type K; ok is false for a key
// yaml.v3 leaves out (null in a string-keyed map).
type keyFunc[K comparable] func(d *decoder, n *yaml.Node) (k K, ok bool, err error)

// scalarKey follows an alias key to its scalar; yaml.v3 fails on any other key.
func (d *decoder) scalarKey(n *yaml.Node) (*yaml.Node, error) {
	line := n.Line
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return nil, &DecodeError{Line: line, Msg: fmt.Sprintf("a mapping key is %s; keys must be scalars", describe(n))}
	}
	return n, nil
}

// stringKey is a key of a map[string]any target: yaml.v3 keeps a string as it resolves and
// takes the text of any other scalar (1.0 stays "1.0"), and leaves null keys out.
func stringKey(d *decoder, n *yaml.Node) (string, bool, error) {
	n, err := d.scalarKey(n)
	if err != nil {
		return "", false, err
	}
	v, err := resolveScalar(n)
	if err != nil || v == nil {
		return "", false, err
	}
	if s, ok := v.(string); ok {
		return s, true, nil
	}
	return n.Value, true, nil
}

func anyKey(d *decoder, n *yaml.Node) (any, bool, error) {
	n, err := d.scalarKey(n)
	if err != nil {
		return nil, false, err
	}
	v, err := resolveScalar(n)
	return v, err == nil, err
}

// mapping fills m from mapping node n as yaml.v3 does: the node's own keys in order, then its
// merge (<<) value, whose keys never replace one already set. merged is nil unless n is
// itself merged into a parent; it then holds the keys set so far.
func mapping[K comparable](d *decoder, n *yaml.Node, m map[K]any, key keyFunc[K], merged map[any]bool) error {
	if err := noDuplicates(n); err != nil {
		return err
	}
	var mergeValue *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		// Counted before the key is looked at: merges of aliases can visit a key many times
		// without ever setting it.
		if err := d.spend(); err != nil {
			return err
		}
		if isMerge(kn) {
			mergeValue = vn
			continue
		}
		k, ok, err := key(d, kn)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if merged != nil {
			if merged[k] {
				continue
			}
			merged[k] = true
		}
		v, err := d.value(vn)
		if err != nil {
			return err
		}
		m[k] = v
	}
	if mergeValue == nil {
		return nil
	}
	if merged == nil {
		// yaml.v3 records the parent's keys as interface{} values, whatever the map type.
		merged = map[any]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, ok, _ := anyKey(d, n.Content[i]); ok {
				merged[k] = true
			}
		}
	}
	return merge(d, mergeValue, m, key, merged)
}

// merge applies the value of a << key: a mapping, an alias of one, or a list of those, where
// earlier ones win.
func merge[K comparable](d *decoder, v *yaml.Node, m map[K]any, key keyFunc[K], merged map[any]bool) error {
	into := func(target *yaml.Node) error { return mapping(d, target, m, key, merged) }
	one := func(c *yaml.Node) error {
		switch {
		case c.Kind == yaml.MappingNode:
			return into(c)
		case c.Kind == yaml.AliasNode && (c.Alias == nil || c.Alias.Kind == yaml.MappingNode):
			return d.alias(c, into)
		}
		return &DecodeError{Line: c.Line, Msg: "a merge (<<) takes a mapping, an alias of one or a list of those"}
	}
	if v.Kind != yaml.SequenceNode {
		return one(v)
	}
	for _, c := range v.Content {
		if err := one(c); err != nil {
			return err
		}
	}
	return nil
}

// noDuplicates rejects a key written twice in one mapping, as yaml.v3 does (same node kind and
// text), with a map instead of yaml.v3's comparison of every pair.
func noDuplicates(n *yaml.Node) error {
	type id struct {
		kind  yaml.Kind
		value string
	}
	seen := make(map[id]int, len(n.Content)/2)
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if first, dup := seen[id{k.Kind, k.Value}]; dup {
			return &DecodeError{Line: k.Line, Msg: fmt.Sprintf("mapping key %s already defined at line %d; keep one of them", quoteShort(k.Value), first)}
		}
		seen[id{k.Kind, k.Value}] = k.Line
	}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a scalar (" + n.ShortTag() + ")"
}

// quoteShort quotes s for a message, cut so that a huge key cannot flood the error.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
