package manifest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// decodeCorpus holds inputs where yaml.v3's types are easy to get wrong: every scalar tag,
// keys that are not strings, merges, aliases, and documents that are not mappings.
var decodeCorpus = map[string]string{
	"empty":             "",
	"comments only":     "# nothing\n",
	"null document":     "~\n",
	"null word":         "null\n",
	"explicit map tag":  "!!map {a: 1}\n",
	"first document":    "a: 1\n---\nb: 2\n---\n: : bad\n",
	"ints":              "dec: 12\nneg: -3\nhex: 0x1F\noct: 0o17\nold oct: 017\nbin: 0b101\nnegbin: -0b11\nunderscore: 1_000\nmax: 9223372036854775807\nuint: 18446744073709551615\nbeyond: 18446744073709551616\nnegbeyond: -9223372036854775809\nplus: +5\n",
	"floats":            "a: 1.5\nb: .5\nc: 1e3\nd: -2.5E-3\ne: .inf\nf: -.Inf\ng: 1.\nh: +.5\ni: 1_0.5\n",
	"bools and words":   "a: true\nb: True\nc: TRUE\nd: false\ne: yes\nf: no\ng: on\nh: off\ni: y\nj: n\n",
	"nulls":             "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: [~, null, ]\n",
	"timestamps":        "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-12-14 21:59:43.10\nd: \"2001-12-14\"\ne: !!timestamp 2001-12-14\nf: 2001-12-14T21:59:43Z\ng: 2001-1-2\nh: 2001-12-14 21:59:43.10 -5\n",
	"strings":           "a: \"1\"\nb: '2'\nc: |\n  lit\n  eral\nd: >\n  fol\n  ded\ne: !!str 12\nf: plain text\ng: \"\"\nh: 'it''s'\ni: \"\\u00e9\\t\"\nj: 0x\nk: 1e\nl: .\nm: -\n",
	"tags":              "a: !!binary aGVsbG8=\nb: !foo bar\nc: !!int \"12\"\nd: !!float 1\ne: !!float \"1.5\"\nf: !!bool true\ng: !!null ~\nh: !local 12\ni: !!str true\nj: !<tag:yaml.org,2002:str> 5\n",
	"collections":       "a: [1, two, 3.0, [x], {y: z}]\nb: {c: {d: [e]}}\nc: []\nd: {}\ne: !!seq [1]\n",
	"top keys coerced":  "1: a\ntrue: b\n1.5: c\n~: d\n2001-01-01: e\n0x10: f\n!!binary aGk=: g\n\"q\": h\n",
	"nested any keys":   "m:\n  1: a\n  true: b\n  1.5: c\n  ~: d\n  2001-01-01: e\n  x: f\n  !!binary aGk=: g\n",
	"nested str keys":   "m:\n  a: 1\n  \"1\": 2\n  !!str 3: 3\n",
	"aliases":           "s: &s str\nn: &n 12\nl: &l [1, *s]\nm: &m {k: *n}\nuse: [*s, *n, *l, *m]\n",
	"alias keys":        "a: &k key\nb: &i 7\n*k : from alias\nm:\n  *i : seven\n  *k : key\n",
	"anchored key":      "&k a: 1\nb: *k\n",
	"merge one":         "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
	"merge list":        "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nd:\n  <<: [*a, *b]\n  w: 0\n",
	"merge inline":      "d:\n  <<: {x: 1}\n  y: 2\n",
	"merge nested":      "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nd: {<<: *b, z: 3}\n",
	"merge top":         "a: &a {x: 1, y: 1}\n<<: *a\ny: 2\n",
	"merge any keys":    "a: &a {1: one, x: ex}\nd:\n  <<: *a\n  2: two\n",
	"merge into str":    "a: &a {1: one, x: ex}\nd:\n  <<: *a\n  w: dub\n",
	"merge top coerced": "1: a\n<<: {\"1\": b, 2: c}\n",
	"merge null value":  "a: &a {x: ~}\nd: {<<: *a}\n",
	"merge null key":    "d:\n  ~: 1\n  <<: {~: 2, k: 3}\n",
	"quoted merge key":  "\"<<\": {x: 1}\n",
	"merge tag":         "a: &a {x: 1}\nd: {!!merge <<: *a}\n",
	"big numbers keys":  "m:\n  9223372036854775808: big\n  -1: neg\n",
	"unicode":           "ключ: значение\n\"é\": \"\\U0001F600\"\n",
}

func TestDecodeMapMatchesYAMLv3(t *testing.T) {
	t.Parallel()
	for name, in := range decodeCorpus {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var want map[string]any
			wantErr := yaml.Unmarshal([]byte(in), &want)
			got, err := DecodeMap([]byte(in))
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("DecodeMap error %v, yaml.Unmarshal error %v", err, wantErr)
			}
			if !sameValue(got, want) {
				t.Errorf("DecodeMap:\n%#v\nyaml.Unmarshal:\n%#v", got, want)
			}
			if got == nil != (want == nil) {
				t.Errorf("nil map: DecodeMap %v, yaml.Unmarshal %v", got == nil, want == nil)
			}
		})
	}
}

// TestDecodeMapNaN: NaN is never equal to itself, so it gets its own check.
func TestDecodeMapNaN(t *testing.T) {
	m, err := DecodeMap([]byte("a: .nan\nb: .NaN\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if f, ok := m[k].(float64); !ok || !math.IsNaN(f) {
			t.Errorf("%s: %#v, want NaN", k, m[k])
		}
	}
}

func TestDecodeMapErrors(t *testing.T) {
	t.Parallel()
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 'b', 'a'; i <= 'j'; i, prev = i+1, i {
		bomb += fmt.Sprintf("%c: &%c [%s]\n", i, i, strings.TrimSuffix(strings.Repeat("*"+string(prev)+", ", 10), ", "))
	}
	mergeBomb := "a: &a {x: 1, y: 2, z: 3}\n"
	for i, prev := 'b', 'a'; i <= 'j'; i, prev = i+1, i {
		mergeBomb += fmt.Sprintf("%c: &%c {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat("*"+string(prev)+", ", 10), ", "))
	}
	cases := []struct {
		name, in, want string
	}{
		{"duplicate key", "a: 1\nb: 2\na: 3\n", `line 3: mapping key "a" already defined at line 1; keep one of them`},
		{"duplicate nested", "m:\n  x: 1\n  \"x\": 2\n", `line 3: mapping key "x" already defined at line 2`},
		{"duplicate merge", "a: &a {x: 1}\nd: {<<: *a, <<: *a}\n", `line 2: mapping key "<<" already defined at line 2`},
		{"alias bomb", bomb, "line 5: aliases expand to more than 100000 values"},
		{"merge bomb", mergeBomb, "aliases expand to more than 100000 values"},
		{"self-containing anchor", "a: &a [1, *a]\n", `line 1: anchor "a" contains itself`},
		{"self-merging anchor", "a: &a {<<: *a}\n", `line 1: anchor "a" contains itself`},
		{"list document", "- a\n- b\n", "line 1: the document is a list; want a mapping"},
		{"scalar document", "hello\n", "line 1: the document is a scalar (!!str); want a mapping"},
		{"mapping key", "? {a: 1}\n: x\n", "line 1: a mapping key is a mapping; keys must be scalars"},
		{"list key nested", "m:\n  ? [a]\n  : x\n", "line 2: a mapping key is a list"},
		{"merge of a scalar", "d: {<<: 1}\n", "line 1: a merge (<<) takes a mapping"},
		{"merge of an aliased list", "a: &a [1]\nd: {<<: *a}\n", "line 2: a merge (<<) takes a mapping"},
		{"bad int tag", "a: !!int abc\n", "line 1: cannot decode !!str `abc` as a !!int"},
		{"bad binary", "a: !!binary '%%%'\n", "line 1: !!binary value contains invalid base64 data"},
		{"syntax", "a: [1\nb: 2\n", "line 1: not valid YAML: did not find expected ',' or ']'"},
		{"unknown anchor", "a: *nope\n", "not valid YAML: unknown anchor 'nope' referenced"},
		{"huge key quoted short", "? k" + strings.Repeat("x", 5000) + "\n: 1\n? k" + strings.Repeat("x", 5000) + "\n: 2\n", `line 3: mapping key "kxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... already`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeMap([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

// TestObjectDecodeMatchesYAMLv3: objects decode as Node.Decode did before, and a duplicate key
// names the stream, the document and the line.
func TestObjectDecode(t *testing.T) {
	objs, err := Split("s.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: &d {a: \"1\", b: x}\nbinaryData: {<<: *d}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {a: 1, a: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := objs[0].Decode()
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := objs[0].Node.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode %#v, Node.Decode %#v", got, want)
	}
	if _, err := objs[1].Decode(); err == nil || err.Error() != `s.yaml: document 2: line 10: mapping key "a" already defined at line 10; keep one of them` {
		t.Errorf("duplicate: %v", err)
	}
}

// sameValue is reflect.DeepEqual with NaN equal to NaN, for values and map keys.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case float64:
		f, ok := b.(float64)
		return ok && (a == f || math.IsNaN(a) && math.IsNaN(f))
	case []any:
		l, ok := b.([]any)
		if !ok || len(a) != len(l) || (a == nil) != (l == nil) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], l[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		m, ok := b.(map[string]any)
		if !ok || len(a) != len(m) {
			return false
		}
		for k, v := range a {
			w, ok := m[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case map[any]any:
		m, ok := b.(map[any]any)
		if !ok || len(a) != len(m) {
			return false
		}
		nanA, nanB := 0, 0
		for k, v := range a {
			if f, isF := k.(float64); isF && math.IsNaN(f) {
				nanA++
				continue
			}
			w, ok := m[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		for k := range m {
			if f, isF := k.(float64); isF && math.IsNaN(f) {
				nanB++
			}
		}
		return nanA == nanB
	}
	return reflect.DeepEqual(a, b)
}

func TestInFile(t *testing.T) {
	_, err := DecodeMap([]byte("a: 1\na: 2\n"))
	if got := InFile("values-global.yaml", err).Error(); got != `values-global.yaml:2: mapping key "a" already defined at line 1; keep one of them` {
		t.Errorf("got %q", got)
	}
	_, err = DecodeMap([]byte("a: [\n"))
	if got := InFile("v.yaml", err).Error(); !strings.HasPrefix(got, "v.yaml:") || !strings.Contains(got, "not valid YAML") {
		t.Errorf("got %q", got)
	}
	if got := InFile("v.yaml", errors.New("other")).Error(); got != "v.yaml: other" {
		t.Errorf("got %q", got)
	}
}
