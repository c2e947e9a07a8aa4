package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a config file, located by file, line and field path.
type Problem struct {
	File string
	Line int // 0 when the field is absent from the file (a default or a missing field)
	Path string
	Msg  string
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one file; its Error prints one line per problem.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Loaded is a decoded, defaulted and validated config with the source positions of its fields.
type Loaded struct {
	Pattern Pattern
	File    string
	lines   map[string]int
}

// Load decodes data (the contents of file) strictly, fills defaults and validates. On any
// problem it returns Problems listing all of them, sorted by line.
func Load(file string, data []byte) (*Loaded, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{File: file, Msg: "the file is empty; a config starts with apiVersion: " + APIVersion + " and kind: " + Kind}}
		}
		return nil, Problems{{File: file, Line: yamlErrLine(err), Msg: "not valid YAML: " + trimYAMLErr(err)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Problems{{File: file, Line: extra.Line, Msg: "more than one YAML document; a config file holds exactly one"}}
	}
	w := walker{file: file, lines: map[string]int{}}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, Problems{{File: file, Line: doc.Line, Msg: "a config must be a YAML mapping starting with apiVersion and kind"}}
	}
	if ps := w.checkTypeMeta(doc); len(ps) > 0 {
		return nil, ps
	}
	w.walk(doc, reflect.TypeOf(Pattern{}), "")
	if w.aliases || w.duplicates {
		// A duplicate key leaves the meaning of the rest unknown (yaml.v3 stops there too);
		// validating it would only report fields as missing that are there.
		return nil, w.sorted()
	}
	var p Pattern
	// Decoding is lenient here: the walk has already reported every unknown field and type
	// mismatch, and validating what did decode lets one run report all problems.
	var d decoder
	d.decode(doc, reflect.ValueOf(&p).Elem())
	if err := d.err(); err != nil && len(w.problems) == 0 {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("%s: decode: %w", file, err)
		}
		return nil, Problems{{File: file, Msg: trimYAMLErr(err)}}
	}
	l := &Loaded{Pattern: p, File: file, lines: w.lines}
	SetDefaults(&l.Pattern)
	reported := w.reportedIndex()
	for _, vp := range l.validate() {
		if !reported(vp.Path) {
			w.problems = append(w.problems, vp)
		}
	}
	if len(w.problems) > 0 {
		return nil, w.sorted()
	}
	return l, nil
}

// reportedIndex returns a test of whether the walk already found a problem at a path, inside
// it or at one of its parents, so a field of the wrong type is not reported a second time as
// an invalid value. It uses sets of paths: a config of 40,000 bad tags has as many problems.
func (w *walker) reportedIndex() func(path string) bool {
	at, below := map[string]bool{}, map[string]bool{}
	for _, p := range w.problems {
		at[p.Path] = true
		for _, parent := range parents(p.Path) {
			below[parent] = true
		}
	}
	return func(path string) bool {
		if at[path] || below[path] {
			return true
		}
		for _, parent := range parents(path) {
			if at[parent] {
				return true
			}
		}
		return false
	}
}

// parents lists the paths that contain path: "a.b[2]" gives "a.b" and "a".
func parents(path string) []string {
	var out []string
	for {
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return out
		}
		path = path[:i]
		out = append(out, path)
	}
}

// Line returns the line of a field path in the source file, or of its nearest present parent.
func (l *Loaded) Line(path string) int {
	for path != "" {
		if n, ok := l.lines[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

type walker struct {
	file       string
	lines      map[string]int
	problems   Problems
	aliases    bool
	duplicates bool
}

func (w *walker) add(line int, path, format string, args ...any) {
	w.problems = append(w.problems, Problem{File: w.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (w *walker) sorted() Problems {
	ps := append(Problems(nil), w.problems...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return ps
}

// checkTypeMeta rejects a file of another kind or version before anything else is reported,
// because every later message would be noise.
func (w *walker) checkTypeMeta(doc *yaml.Node) Problems {
	var ps Problems
	check := func(key, want string) {
		v := mappingValue(doc, key)
		switch {
		case v == nil:
			ps = append(ps, Problem{File: w.file, Line: doc.Line, Path: key, Msg: fmt.Sprintf("missing; set %s: %s", key, want)})
		case v.Kind != yaml.ScalarNode || v.Value != want:
			ps = append(ps, Problem{File: w.file, Line: v.Line, Path: key, Msg: fmt.Sprintf("unsupported value %q; supported: %s", v.Value, want)})
		}
	}
	check("apiVersion", APIVersion)
	check("kind", Kind)
	return ps
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// walk checks node against the Go type t, recording the line of every field path and every
// unknown field, duplicate key and type mismatch, so all of them are reported at once.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		// Following aliases would let a few lines expand exponentially (billion laughs); a
		// config has no need for them.
		w.add(n.Line, path, "YAML anchors and aliases are not supported; write the value out")
		w.aliases = true
		return
	}
	w.lines[path] = n.Line
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an explicit null leaves the default
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.add(n.Line, path, "expected a mapping, got %s", describe(n))
			return
		}
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				w.add(k.Line, p, "duplicate field (first set on line %d)", first)
				w.duplicates = true
				continue
			}
			seen[k.Value] = k.Line
			f, ok := fields[k.Value]
			if !ok {
				w.add(k.Line, p, "unknown field%s", suggest(k.Value, fields))
				continue
			}
			w.walk(v, f.Type, p)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(n.Line, path, "expected a list, got %s", describe(n))
			return
		}
		for i, item := range n.Content {
			w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.add(n.Line, path, "expected a mapping, got %s", describe(n))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				w.add(k.Line, p, "duplicate key (first set on line %d)", first)
				w.duplicates = true
				continue
			}
			seen[k.Value] = k.Line
			w.walk(v, t.Elem(), p)
		}
	case reflect.String:
		w.scalar(n, path, "!!str", "a string")
	case reflect.Bool:
		w.scalar(n, path, "!!bool", "true or false")
	case reflect.Int, reflect.Int32, reflect.Int64:
		w.scalar(n, path, "!!int", "a whole number")
	}
}

func (w *walker) scalar(n *yaml.Node, path, tag, what string) {
	if n.Kind != yaml.ScalarNode {
		w.add(n.Line, path, "expected %s, got %s", what, describe(n))
		return
	}
	if n.Tag != tag {
		hint := ""
		if tag == "!!str" {
			hint = fmt.Sprintf(" (quote it: \"%s\")", n.Value)
		}
		w.add(n.Line, path, "expected %s, got %s%s", what, describe(n), hint)
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!str":
		return fmt.Sprintf("string %q", n.Value)
	case "!!int":
		return "number " + n.Value
	case "!!float":
		return "number " + n.Value
	case "!!bool":
		return "boolean " + n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest names the closest known field when the unknown one looks like a typo.
func suggest(got string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	lower := strings.ToLower(got)
	for _, name := range names {
		// The distance is at least the difference in length; skipping those keeps a file of
		// many unknown (or very long) keys fast.
		if abs(len(lower)-len(name)) >= bestD {
			continue
		}
		if d := editDistance(lower, strings.ToLower(name)); d < bestD {
			best, bestD = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return "; known fields: " + strings.Join(names, ", ")
}

func abs(n int) int { return max(n, -n) }

func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func yamlErrLine(err error) int {
	var n int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i:], "line %d", &n)
	}
	return n
}

func trimYAMLErr(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, "line "); i == 0 {
		if j := strings.Index(msg, ": "); j > 0 {
			msg = msg[j+2:]
		}
	}
	return msg
}

// IsInputError reports whether err is a problem with the user's input (as opposed to a bug).
func IsInputError(err error) bool {
	var ps Problems
	var p Problem
	return errors.As(err, &ps) || errors.As(err, &p)
}
