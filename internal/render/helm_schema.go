package render

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// SchemaSet compiles JSON schemas that may refer only to themselves and to each other. Its
// loader refuses every resource that was not added, so a `$ref` (or `$schema`, or a `$id` that
// moves the base) can never make pattern-gen fetch a URL or open a file: the schemas come from
// a fork anyone with push access controls. The JSON Schema meta-schemas stay available, because
// the library ships them.
type SchemaSet struct {
	c    *jsonschema.Compiler
	docs map[string]schemaDoc // by file name
}

type schemaDoc struct {
	url string
	doc any
}

// errRefused is what the loader answers for every URL.
var errRefused = errors.New("pattern-gen loads no schema resource")

type refuseLoader struct{}

func (refuseLoader) Load(string) (any, error) { return nil, errRefused }

// NewSchemaSet returns an empty set whose compiler uses the library's default draft, as Helm's.
func NewSchemaSet() *SchemaSet {
	c := jsonschema.NewCompiler()
	c.UseLoader(refuseLoader{})
	return &SchemaSet{c: c, docs: map[string]schemaDoc{}}
}

// Add registers doc (from jsonschema.UnmarshalJSON) under rawURL; file names it in errors.
func (s *SchemaSet) Add(file, rawURL string, doc any) error {
	if err := s.c.AddResource(rawURL, doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	s.docs[file] = schemaDoc{url: rawURL, doc: doc}
	return nil
}

// Compile compiles ref (a URL given to Add, with an optional fragment) of the document added as
// file. An attempt to load anything else is a *ReachError, which names file; other errors are
// the library's, for the caller to put in context.
func (s *SchemaSet) Compile(file, ref string) (sch *jsonschema.Schema, err error) {
	// The compiler panics on some malformed schemas; Helm turns that into an error too.
	defer func() {
		if r := recover(); r != nil {
			sch, err = nil, fmt.Errorf("unable to compile the schema: %v", r)
		}
	}()
	sch, err = s.c.Compile(ref)
	if err == nil {
		return sch, nil
	}
	var le *jsonschema.LoadURLError
	if errors.As(err, &le) && errors.Is(le.Err, errRefused) {
		d := s.docs[file]
		return nil, reachError(file, d.url, d.doc, le.URL)
	}
	return nil, err
}

// reachError names what the schema author wrote: the $ref or $schema value that resolves to
// loaded, when one does, else the resolved URL. Any userinfo in it is redacted.
func reachError(file, base string, doc any, loaded string) error {
	keyword, written := "$ref", loaded
	if k, w, ok := findReference(doc, base, loaded); ok {
		keyword, written = k, w
	}
	return &ReachError{File: file, Keyword: keyword, Ref: RedactURL(written)}
}

// ReachError is a schema that names a resource outside itself.
type ReachError struct {
	File    string // the schema file
	Keyword string // $ref, $schema, ...
	Ref     string // as written, userinfo redacted
}

func (e *ReachError) Error() string {
	if e.Keyword == "$schema" {
		return fmt.Sprintf("%s: $schema %q is not a JSON Schema draft pattern-gen knows (draft-04, -06, -07, 2019-09, 2020-12); use one of those, pattern-gen loads no meta-schema", e.File, e.Ref)
	}
	return fmt.Sprintf("%s: %s %q reaches outside the schema; pattern-gen resolves $ref only inside the document", e.File, e.Keyword, e.Ref)
}

// referenceKeywords are the keywords whose value names another schema resource.
var referenceKeywords = []string{"$ref", "$dynamicRef", "$recursiveRef", "$schema"}

// findReference looks for a reference keyword in doc whose value, resolved against base (or
// taken as it is, for $schema), is loaded without its fragment. Nested $id bases are not
// followed: the fallback then prints the resolved URL, which is still exact.
func findReference(doc any, base, loaded string) (keyword, written string, ok bool) {
	b, err := url.Parse(base)
	if err != nil {
		return "", "", false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range referenceKeywords {
				s, isString := v[k].(string)
				if !isString {
					continue
				}
				target := s
				if k != "$schema" {
					if u, err := url.Parse(s); err == nil {
						target = b.ResolveReference(u).String()
					}
				}
				if target, _, _ = strings.Cut(target, "#"); target == loaded {
					keyword, written = k, s
					return true
				}
			}
			for _, k := range sortedKeys(v) {
				if walk(v[k]) {
					return true
				}
			}
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	ok = walk(doc)
	return keyword, written, ok
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// RedactURL hides the userinfo of a URL (a token or password may sit there) before it is printed.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("REDACTED")
	return u.String()
}

var english = message.NewPrinter(language.English)

// SchemaMessage is the English message of a validation failure, as the library words it, except
// that it never quotes the value that failed: a values file may hold a password, and a pattern
// or format failure would otherwise print it.
func SchemaMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Pattern:
		return fmt.Sprintf("value does not match pattern %s", quoteSchema(k.Want))
	case *kind.Format:
		return fmt.Sprintf("value is not valid %s", k.Want)
	}
	return k.LocalizedString(english)
}

// quoteSchema quotes as the library does: single quotes, Go escapes.
func quoteSchema(s string) string {
	q := fmt.Sprintf("%q", s)
	q = strings.ReplaceAll(q, `\"`, `"`)
	q = strings.ReplaceAll(q, `'`, `\'`)
	return "'" + q[1:len(q)-1] + "'"
}

// describeValidation lists the failures of a validation error one per line, nested causes
// indented below, in the shape Helm prints (`- at '/path': message`), without the library's
// first line, which Helm strips too, and without quoting values (SchemaMessage). Causes are
// sorted: the library finds them in map order.
func describeValidation(ve *jsonschema.ValidationError) string {
	return strings.Join(describeCauses(ve, 0), "\n")
}

// describeCauses returns one block of lines per failure e stands for; depth counts the levels
// above it that were printed (the root, which Helm strips, counts).
func describeCauses(e *jsonschema.ValidationError, depth int) []string {
	_, isRoot := e.ErrorKind.(*kind.Schema)
	_, isRef := e.ErrorKind.(*kind.Reference)
	// A $ref with one cause says nothing its cause does not; the library skips it too.
	shown := !isRoot && !(isRef && len(e.Causes) == 1)
	childDepth := depth
	if shown || isRoot {
		childDepth++
	}
	var blocks []string
	for _, c := range e.Causes {
		blocks = append(blocks, describeCauses(c, childDepth)...)
	}
	slices.Sort(blocks)
	if !shown {
		return blocks
	}
	line := strings.Repeat("  ", max(depth-1, 0)) + "- at " + quoteSchema(instancePointer(e.InstanceLocation)) + ": " + SchemaMessage(e.ErrorKind)
	return []string{strings.Join(append([]string{line}, blocks...), "\n")}
}

// instancePointer is the JSON pointer of an instance location.
func instancePointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
