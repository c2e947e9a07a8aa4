package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pattern-gen/pattern-gen/internal/render"
)

// crd is a CustomResourceDefinition of example.com/v1 kind with the given openAPIV3Schema (JSON).
func crd(kind, schema string) []byte {
	return []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n" +
		"metadata: {name: " + strings.ToLower(kind) + "s.example.com}\n" +
		"spec:\n  group: example.com\n  names: {kind: " + kind + "}\n" +
		"  versions:\n    - name: v1\n      served: true\n      schema:\n        openAPIV3Schema: " + schema + "\n")
}

// A CRD schema with $ref is reported, each $ref as a problem naming the file and where it sits;
// a CRD schema that would load anything else fails naming the file; nothing is fetched or opened.
func TestLoadCRDsReachNothing(t *testing.T) {
	srv := newLoopback(t)
	mark := newMarker(t)
	const at = "crds/a.yaml: spec.versions[0].schema.openAPIV3Schema"
	const msg = ": $ref is not allowed in a CRD schema (Kubernetes rejects it); inline the referenced schema"
	for _, tc := range []struct {
		name, schema, want string // want "" loads
	}{
		{"no ref", `{"type": "object", "properties": {"spec": {"type": "object", "properties": {"$ref": {"type": "string"}}}}}`, ""},
		{"in-document ref", `{"type": "object", "definitions": {"s": {"type": "string"}}, "properties": {"spec": {"$ref": "#/definitions/s"}}}`,
			at + ".properties.spec.$ref" + msg},
		{"http ref", `{"type": "object", "properties": {"list": {"type": "array", "items": {"$ref": "` + srv.URL + `/s.json"}}}}`,
			at + ".properties.list.items.$ref" + msg},
		{"file ref", `{"allOf": [{"$ref": "file://` + mark.Path + `"}]}`, at + ".allOf[0].$ref" + msg},
		{"relative ref and root ref", `{"$ref": "..` + mark.Path + `", "additionalProperties": {"$ref": "x.json"}}`,
			at + ".$ref" + msg + "\n" + at + ".additionalProperties.$ref" + msg},
		{"custom meta-schema", `{"$schema": "` + srv.URL + `/meta", "type": "object"}`,
			`crds/a.yaml: $schema "` + srv.URL + `/meta" is not a JSON Schema draft pattern-gen knows`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crds, err := LoadCRDs(map[string][]byte{"crds/a.yaml": crd("Thing", tc.schema), "crds/b.yaml": crd("Other", `{"type": "object"}`)})
			if tc.want == "" {
				if err != nil || crds["example.com/v1/Thing"] == nil {
					t.Fatalf("got %v, %v; want the schema loaded", crds, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error:\n got %v\nwant %s", err, tc.want)
			}
			var ps Problems
			if strings.Contains(tc.want, msg) && (!errors.As(err, &ps) || len(ps) != strings.Count(tc.want, "\n")+1) {
				t.Errorf("want the $refs as Problems, got %#v", err)
			}
		})
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the loopback server got %d connections", n)
	}
	if mark.Opened() {
		t.Error("the marker file outside the repository was opened")
	}
}

// openAPIDoc is an OpenAPI v3 document with kind example.io/v1 Thing whose spec is a reference.
func openAPIDoc(specRef string) []byte {
	return []byte(`{"components": {"schemas": {
	  "io.example.v1.Thing": {"type": "object", "x-kubernetes-group-version-kind": [{"group": "example.io", "version": "v1", "kind": "Thing"}],
	    "properties": {"spec": {"$ref": "` + specRef + `"}}},
	  "io.example.v1.Spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}`)
}

// In-document references of OpenAPI documents resolve; any other fails naming the file, and
// nothing is fetched or opened.
func TestLoadOpenAPIReachesOnlyInDocument(t *testing.T) {
	srv := newLoopback(t)
	mark := newMarker(t)
	const file = "openapi/apis__example.io__v1_openapi.json"
	for _, tc := range []struct{ name, ref, want string }{
		{"in-document", "#/components/schemas/io.example.v1.Spec", ""},
		{"http", srv.URL + "/spec.json", file + `: $ref "` + srv.URL + `/spec.json" reaches outside the schema; pattern-gen resolves $ref only inside the document`},
		{"file", "file://" + mark.Path, file + `: $ref "file://` + mark.Path + `" reaches outside`},
		{"relative", "..//" + mark.Path + "#/x", file + `: $ref "..//` + mark.Path + `#/x" reaches outside`},
		{"other document", "apis__apps__v1_openapi.json#/components/schemas/x", file + `: $ref "apis__apps__v1_openapi.json#/components/schemas/x" reaches outside`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schemas, err := LoadOpenAPI(map[string][]byte{file: openAPIDoc(tc.ref)})
			if tc.want != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Fatalf("error:\n got %v\nwant %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := schemas["example.io/v1/Thing"]
			if s == nil {
				t.Fatalf("no schema for example.io/v1/Thing: %v", schemas)
			}
			if err := s.Validate(jsonValue(t, `{"spec": {"size": 3}}`)); err != nil {
				t.Errorf("valid object fails: %v", err)
			}
			if err := s.Validate(jsonValue(t, `{"spec": {"size": "big"}}`)); err == nil {
				t.Error("the referenced schema is not applied: a string size passes")
			}
		})
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the loopback server got %d connections", n)
	}
	if mark.Opened() {
		t.Error("the marker file outside the repository was opened")
	}
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(s)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testPatterns(t *testing.T, hub string) []*render.Pattern {
	t.Helper()
	ps, err := render.ReadPatterns(render.Tree{
		"values-global.yaml": []byte("global:\n  pattern: p\nmain:\n  clusterGroupName: hub\n  git: {repoURL: https://git.example/p.git, revision: main}\n"),
		"values-hub.yaml":    []byte(hub),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

const clusterGroupSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "definitions": {
    "ClusterGroup": {"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}, "isHubCluster": {"type": "boolean"}}}
  },
  "properties": {"clusterGroup": {"$ref": "#/definitions/ClusterGroup"}}
}`

// The clustergroup schema's in-document references apply; a failure never quotes the value.
func TestClusterGroupValuesInDocumentRefs(t *testing.T) {
	const secret = "Not-Lowercase-Secret"
	ps, err := ClusterGroupValues(testPatterns(t, "clusterGroup:\n  name: "+secret+"\n  isHubCluster: yes-please\n"), []byte(clusterGroupSchema))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		"values-global.yaml + values-hub.yaml: /clusterGroup/isHubCluster: clustergroup schema: got string, want boolean",
		"values-global.yaml + values-hub.yaml: /clusterGroup/name: clustergroup schema: value does not match pattern '^[a-z]+$'",
	}
	slices.Sort(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ok, err := ClusterGroupValues(testPatterns(t, "clusterGroup:\n  name: hub\n  isHubCluster: true\n"), []byte(clusterGroupSchema)); err != nil || len(ok) != 0 {
		t.Errorf("valid values: %v, %v", ok, err)
	}
}

// A clustergroup schema that names anything outside itself fails; nothing is fetched or opened.
func TestClusterGroupValuesReachesNothing(t *testing.T) {
	srv := newLoopback(t)
	mark := newMarker(t)
	for _, ref := range []string{srv.URL + "/cg.json", "file://" + mark.Path, ".." + mark.Path, "clustergroup.json#/definitions/x"} {
		schema, _ := json.Marshal(map[string]any{"properties": map[string]any{"clusterGroup": map[string]any{"$ref": ref}}})
		_, err := ClusterGroupValues(testPatterns(t, "clusterGroup:\n  name: hub\n"), schema)
		want := `clustergroup schema: $ref "` + ref + `" reaches outside the schema`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error:\n got %v\nwant %s", err, want)
		}
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the loopback server got %d connections", n)
	}
	if mark.Opened() {
		t.Error("the marker file outside the repository was opened")
	}
}
