// Package forklock reads and writes pattern-gen.lock, the fork's record of what pattern-gen last
// generated there: the config it generated from (digest and text), which pattern-gen did it,
// a digest of every file it wrote, and their text (the base of update's merge). With it, render, diff and validate can tell that
// pattern-gen.yaml or pattern-gen changed since, and update can tell a file the user edited
// from one they did not, and merge against what was generated.
package forklock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// File is the lock's name at the top of a fork.
const File = "pattern-gen.lock"

// Version is the lock format this pattern-gen writes and the newest it reads.
const Version = 1

// Lock is what pattern-gen last generated in a fork.
type Lock struct {
	Generator string            // the pattern-gen that wrote it, "pattern-gen v1.2.3"
	Config    []byte            // pattern-gen.yaml as it was generated from
	Files     map[string]string // slash path below the fork -> Digest of what was written
	// Generated is the text of every file as generated: the base of update's merge for a file
	// the user edits later, whatever pattern-gen then generates. Stored compressed (see
	// Encode); nil when the lock holds none.
	Generated map[string][]byte
}

// Digest names content: sha256:<hex>.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// New records files (slash paths to contents) as generated from config by generator.
func New(generator string, config []byte, files map[string][]byte) *Lock {
	l := &Lock{Generator: generator, Config: config, Files: make(map[string]string, len(files)), Generated: files}
	for p, data := range files {
		l.Files[p] = Digest(data)
	}
	return l
}

// ConfigDigest is the Digest of the config the fork was generated from.
func (l *Lock) ConfigDigest() string { return Digest(l.Config) }

const header = `# What pattern-gen last generated in this fork: the config, a digest of each file it wrote,
# and their text (compressed). pattern-gen update merges your edits against that text when it
# regenerates; pattern-gen init and update write this file. Commit it; do not edit it.
`

// Encode writes the lock as YAML, keys sorted: the same lock gives the same bytes.
func (l *Lock) Encode() ([]byte, error) {
	files := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range slices.Sorted(maps.Keys(l.Files)) {
		files.Content = append(files.Content, str(p), str(l.Files[p]))
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		str("lockVersion"), {Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(Version)},
		str("generator"), str(l.Generator),
		str("config"), {Kind: yaml.MappingNode, Content: []*yaml.Node{
			str("digest"), str(l.ConfigDigest()),
			str("content"), str(string(l.Config)),
		}},
		str("files"), files,
	}}
	if l.Generated != nil {
		packed, err := pack(l.Generated)
		if err != nil {
			return nil, err
		}
		doc.Content = append(doc.Content, str("generated"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.LiteralStyle, Value: packed})
	}
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode %s: %w", File, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", File, err)
	}
	return b.Bytes(), nil
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// ErrNewer is the error for a lock a newer pattern-gen wrote.
type ErrNewer struct{ Generator, What string }

func (e ErrNewer) Error() string {
	by := "a newer pattern-gen"
	if e.Generator != "" {
		by += " (" + e.Generator + ")"
	}
	return fmt.Sprintf("%s: written by %s: %s; install that version or a newer one (pattern-gen version shows yours)", File, by, e.What)
}

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// Parse reads a lock. Errors name the line and field and say what to do; a lock from a newer
// format, or with a digest this pattern-gen does not know, is an ErrNewer.
func Parse(data []byte) (*Lock, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, broken(line, "", m[2])
		}
		return nil, broken(0, "", msg)
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, broken(root.Line, "", "not a mapping")
	}
	if n := findAlias(&root); n != nil {
		// pattern-gen writes none, and a key that is an alias reads as another path than shown.
		return nil, broken(n.Line, "", "holds a YAML alias")
	}
	p := parser{lock: &Lock{Files: map[string]string{}}}
	top := p.mapping(root.Content[0], "", map[string]bool{"lockVersion": true, "generator": true, "config": true, "files": true, "generated": true})
	if p.err != nil {
		return nil, p.err
	}
	p.lock.Generator = p.scalar(top["generator"], "generator", root.Content[0])
	if p.err == nil && !printable(p.lock.Generator, 200) {
		return nil, broken(top["generator"].Line, "generator", "not one line of printable text")
	}
	v := p.scalar(top["lockVersion"], "lockVersion", root.Content[0])
	if p.err != nil {
		return nil, p.err
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 1:
		return nil, broken(top["lockVersion"].Line, "lockVersion", "not a positive integer")
	case n > Version:
		return nil, ErrNewer{p.lock.Generator, fmt.Sprintf("lockVersion %d, this pattern-gen reads %d", n, Version)}
	}
	cfg := p.mapping(top["config"], "config", map[string]bool{"digest": true, "content": true})
	digest := p.digest(cfg["digest"], "config.digest", top["config"])
	p.lock.Config = []byte(p.scalar(cfg["content"], "config.content", top["config"]))
	if p.err == nil && digest != Digest(p.lock.Config) {
		return nil, broken(cfg["digest"].Line, "config.digest", "does not match config.content (edited by hand?)")
	}
	files := top["files"]
	if files == nil || files.Kind != yaml.MappingNode {
		return nil, cmpErr(p.err, broken(lineOf(files, root.Content[0]), "files", "missing or not a mapping"))
	}
	for i := 0; i+1 < len(files.Content) && p.err == nil; i += 2 {
		k, val := files.Content[i], files.Content[i+1]
		field := "files." + k.Value
		if !isForkPath(k.Value) {
			p.err = broken(k.Line, "files", fmt.Sprintf("%q is not a clean relative path inside the fork", k.Value))
			break
		}
		if _, dup := p.lock.Files[k.Value]; dup {
			p.err = broken(k.Line, field, "listed twice")
			break
		}
		p.lock.Files[k.Value] = p.digest(val, field, files)
	}
	if p.err != nil {
		return nil, p.err
	}
	if g := top["generated"]; g != nil {
		text := p.scalar(g, "generated", root.Content[0])
		if p.err != nil {
			return nil, p.err
		}
		generated, err := unpack(text, p.lock.Files)
		if err != nil {
			return nil, broken(g.Line, "generated", err.Error())
		}
		p.lock.Generated = generated
	}
	return p.lock, nil
}

// isForkPath accepts the paths pattern-gen writes: relative, clean, slash-separated, printable,
// outside .git (in any case: a case-insensitive disk folds .GIT into .git).
func isForkPath(p string) bool {
	return p != "" && p != "." && !strings.HasPrefix(p, "/") && !strings.Contains(p, `\`) &&
		path.Clean(p) == p && p != ".." && !strings.HasPrefix(p, "../") && printable(p, 4096) &&
		!slices.ContainsFunc(strings.Split(p, "/"), func(part string) bool { return strings.EqualFold(part, ".git") }) && p != File
}

// printable says whether s is valid UTF-8 without control characters, at most max bytes: text
// from a lock reaches messages.
func printable(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// findAlias returns the first alias node below n, or nil.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

type parser struct {
	lock *Lock
	err  error
}

// mapping returns n's keys (each once, each known), or nil after recording an error.
func (p *parser) mapping(n *yaml.Node, field string, known map[string]bool) map[string]*yaml.Node {
	if p.err != nil {
		return nil
	}
	if n == nil || n.Kind != yaml.MappingNode {
		p.err = broken(lineOf(n, nil), field, "missing or not a mapping")
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		f := strings.TrimPrefix(field+"."+k.Value, ".")
		switch {
		case !known[k.Value]:
			p.err = ErrNewer{"", "it has a field this pattern-gen does not know: " + strconv.Quote(f)}
			if g := valueOf(n, "generator"); printable(g, 200) {
				p.err = ErrNewer{g, "it has a field this pattern-gen does not know: " + strconv.Quote(f)}
			}
			return nil
		case out[k.Value] != nil:
			p.err = broken(k.Line, f, "listed twice")
			return nil
		}
		out[k.Value] = n.Content[i+1]
	}
	return out
}

func valueOf(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

func (p *parser) scalar(n *yaml.Node, field string, parent *yaml.Node) string {
	if p.err != nil {
		return ""
	}
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.err = broken(lineOf(n, parent), field, "missing or not a string")
		return ""
	}
	return n.Value
}

func (p *parser) digest(n *yaml.Node, field string, parent *yaml.Node) string {
	v := p.scalar(n, field, parent)
	if p.err != nil || digestRE.MatchString(v) {
		return v
	}
	if alg, _, ok := strings.Cut(v, ":"); ok && alg != "sha256" && !strings.ContainsAny(alg, " \t") {
		p.err = ErrNewer{p.lock.Generator, "digest algorithm " + strconv.Quote(alg) + " in " + field}
	} else {
		p.err = broken(n.Line, field, "not a sha256:<64 hex digits> digest")
	}
	return ""
}

func lineOf(n, parent *yaml.Node) int {
	switch {
	case n != nil:
		return n.Line
	case parent != nil:
		return parent.Line
	}
	return 0
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// BrokenError is the error for a lock that does not parse: where, and what is wrong. The caller
// says what to do, with commands that name the fork.
type BrokenError struct {
	Line       int
	Field, Msg string
}

func (e BrokenError) Error() string {
	at := File
	if e.Line > 0 {
		at += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		at += ": " + e.Field
	}
	return at + ": " + e.Msg
}

func broken(line int, field, msg string) error { return BrokenError{line, field, msg} }
