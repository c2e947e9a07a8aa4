package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const decodeHead = "apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\n"

// decodeCases: configs whose decode must equal yaml.v3's Node.Decode, type errors included.
var decodeCases = map[string]string{
	"minimal":                  decodeHead + "git: {repoURL: https://example.com/o/r.git}\n",
	"every kind":               decodeHead + "metadata: {name: x}\nazure:\n  instanceSizes: [a, b]\n  tags: {k: v, \"1\": 2, n: ~}\n  rootVolumeSizeGiB: 0x20\ntrustee:\n  https: false\n  secretResources: [a, ~, b]\nworkloads: {helloOpenshift: ~, kbsAccess: true}\n",
	"wrong types":              decodeHead + "workloads:\n  kbsAccess: \"yes\"\nazure:\n  rootVolumeSizeGiB: big\n  instanceSizes: Standard_DC2as_v5\n  tags: [a]\n",
	"collections into scalars": decodeHead + "metadata: {name: [a]}\nazure: {region: {a: 1}, tags: {? [k] : v, ok: v}}\n",
	"scalar into struct":       decodeHead + "azure: eastus\ntrustee: 12\n",
	"null struct":              decodeHead + "azure: ~\ntrustee: !!null {https: true}\n",
	"unknown fields":           decodeHead + "nope: 1\nazure: {regio: x, region: y}\n",
	"tagged":                   decodeHead + "azure: {rootVolumeSizeGiB: !!float 12, region: !!str 12}\n",
	"contradicting tag":        decodeHead + "azure: {region: !!int abc}\n",
	"empty lists and maps":     decodeHead + "azure: {instanceSizes: [], tags: {}}\n",
}

func TestDecodeMatchesYAMLv3(t *testing.T) {
	t.Parallel()
	for name, body := range decodeCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(body), &n); err != nil {
				t.Fatal(err)
			}
			var want, got Pattern
			wantErr := n.Decode(&want)
			var d decoder
			d.decode(&n, reflect.ValueOf(&got).Elem())
			gotErr := d.err()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%+v\nyaml.v3\n%+v", got, want)
			}
			if errText(gotErr) != errText(wantErr) {
				t.Errorf("error %q, yaml.v3 %q", errText(gotErr), errText(wantErr))
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzDecode: what the walk lets through (no alias, no duplicate key) decodes as yaml.v3 has it.
func FuzzDecode(f *testing.F) {
	for _, body := range decodeCases {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n yaml.Node
		if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&n); err != nil || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
			return
		}
		w := walker{file: "f", lines: map[string]int{}}
		w.walk(n.Content[0], reflect.TypeOf(Pattern{}), "")
		if w.aliases || w.duplicates || len(w.problems) > 0 && bytes.Contains(data, []byte("<<")) {
			return // merges are unknown fields to the walk and not followed by the decoder
		}
		var want, got Pattern
		wantErr := n.Content[0].Decode(&want)
		var d decoder
		d.decode(n.Content[0], reflect.ValueOf(&got).Elem())
		gotErr := d.err()
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("error %v, yaml.v3 %v", gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) && !strings.Contains(errText(wantErr), "already defined") {
			t.Fatalf("decoded\n%+v\nyaml.v3\n%+v", got, want)
		}
	})
}

// TestReportedIndex: a path counts as reported when the walk found a problem at it, inside it
// or at one of its parents.
func TestReportedIndex(t *testing.T) {
	w := walker{problems: Problems{{Path: "azure.tags.team"}, {Path: "trustee.secretResources[1]"}, {Path: "metadata"}}}
	reported := w.reportedIndex()
	for path, want := range map[string]bool{
		"azure.tags.team":              true,
		"azure.tags":                   true, // a problem inside it
		"azure":                        true,
		"azure.tags.other":             false,
		"azure.tags.team.x":            true, // a parent has a problem
		"trustee.secretResources":      true,
		"trustee.secretResources[1]":   true,
		"trustee.secretResources[10]":  false,
		"trustee.secretResources[1].x": true,
		"metadata.name":                true,
		"metadataX":                    false,
		"trustee.secretResourcesExtra": false,
	} {
		if got := reported(path); got != want {
			t.Errorf("%s: reported %v, want %v", path, got, want)
		}
	}
}

// TestLoadManyTags: a config of 40,000 tags (1 MiB, the most a config may be) loads; before,
// yaml.v3's pairwise duplicate check took many seconds on it. No timing is asserted here; see
// BenchmarkLoadBigConfig.
func TestLoadManyTags(t *testing.T) {
	var b strings.Builder
	b.WriteString(decodeHead + "git: {repoURL: https://example.com/o/r.git}\nazure:\n  tags:\n")
	for i := range 40000 {
		fmt.Fprintf(&b, "    k%05d: v\n", i)
	}
	l, err := Load("c.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Pattern.Azure.Tags) != 40000 || l.Line("azure.tags.k39999") != 40005 {
		t.Errorf("%d tags, line %d", len(l.Pattern.Azure.Tags), l.Line("azure.tags.k39999"))
	}
}
