package render

import (
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

const helmTestDir = "charts/all/x"

var helmTestPlan = AppPlan{Name: "x", Namespace: "ns", Path: helmTestDir}

// helmTestChart is a chart with one ConfigMap template and the given schema ("" for none).
func helmTestChart(schema string) Tree {
	t := Tree{
		"Chart.yaml":        []byte("apiVersion: v2\nname: x\nversion: 0.1.0\n"),
		"values.yaml":       []byte("name: a\n"),
		"templates/cm.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n"),
	}
	if schema != "" {
		t["values.schema.json"] = []byte(schema)
	}
	return t
}

// A values schema that names anything outside itself fails with the file named, and neither
// the loopback servers nor the marker file outside the repository see anything.
func TestValuesSchemaReachesNothing(t *testing.T) {
	plain := newHelmLoopback(t, false)
	tlsSrv := newHelmLoopback(t, true)
	marker := newHelmMarker(t)
	userinfo := strings.Replace(plain.URL, "http://", "http://user:s3cret-token@", 1)
	const file = helmTestDir + "/values.schema.json"
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"http ref", `{"properties": {"name": {"$ref": "` + plain.URL + `/s.json"}}}`,
			file + `: $ref "` + plain.URL + `/s.json" reaches outside the schema; pattern-gen resolves $ref only inside the document`},
		{"https ref", `{"$ref": "` + tlsSrv.URL + `/s.json"}`, `$ref "` + tlsSrv.URL + `/s.json" reaches outside`},
		{"userinfo redacted", `{"$ref": "` + userinfo + `/s.json"}`, `$ref "http://REDACTED@` + strings.TrimPrefix(plain.URL, "http://") + `/s.json" reaches outside`},
		{"file ref", `{"$ref": "file://` + marker.Path + `"}`, file + `: $ref "file://` + marker.Path + `" reaches outside`},
		{"absolute path ref", `{"$ref": "` + marker.Path + `"}`, `$ref "` + marker.Path + `" reaches outside`},
		{"relative ref", `{"$ref": "..` + marker.Path + `#/x"}`, `$ref "..` + marker.Path + `#/x" reaches outside`},
		{"id moves the base", `{"$id": "` + plain.URL + `/base/", "properties": {"name": {"$ref": "s.json"}}}`,
			`$ref "` + plain.URL + `/base/s.json" reaches outside`},
		{"custom meta-schema", `{"$schema": "` + plain.URL + `/meta", "type": "object"}`,
			file + `: $schema "` + plain.URL + `/meta" is not a JSON Schema draft pattern-gen knows`},
		{"dynamic ref", `{"$dynamicRef": "` + plain.URL + `/d.json"}`, `$dynamicRef "` + plain.URL + `/d.json" reaches outside`},
		{"urn", `{"$ref": "urn:example:schema"}`, `$ref "urn:example:schema" reaches outside`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helmTemplate(helmTestChart(tc.schema), helmTestPlan, map[string]any{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n got %v\nwant it to contain %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret-token") {
				t.Errorf("error quotes the URL's password: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	if n := plain.Conns() + tlsSrv.Conns(); n != 0 {
		t.Errorf("the loopback servers got %d connections", n)
	}
	if marker.Opened() {
		t.Error("the marker file outside the repository was opened")
	}
}

// The detectors above do detect: Helm's own validation reaches the server and opens the marker.
func TestValuesSchemaReachDetectorsWork(t *testing.T) {
	srv := newHelmLoopback(t, false)
	marker := newHelmMarker(t)
	for _, schema := range []string{
		`{"$ref": "` + srv.URL + `/s.json"}`,
		`{"$ref": "..` + marker.Path + `"}`,
	} {
		_ = chartutil.ValidateAgainstSingleSchema(chartutil.Values{}, []byte(schema))
	}
	if srv.Conns() == 0 {
		t.Error("Helm's validation did not reach the loopback server: the detector is broken")
	}
	if !marker.Opened() {
		t.Error("Helm's validation did not open the marker: the detector is broken")
	}
}

const helmDefsSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "definitions": {"port": {"type": "integer", "minimum": 1}},
  "properties": {
    "name": {"type": "string"},
    "port": {"$ref": "#/definitions/port"},
    "ports": {"type": "array", "items": {"$ref": "#/definitions/port"}},
    "mode": {"enum": ["a", "b"]}
  },
  "additionalProperties": false
}`

const helm2020Schema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {"size": {"type": "integer", "maximum": 3}},
  "properties": {"size": {"$ref": "#/$defs/size"}, "meta": {"$ref": "https://json-schema.org/draft/2020-12/schema"}},
  "required": ["name"]
}`

// helmIDSchema refers to a subschema by the $id it declares: resolved inside the document, so
// neither Helm nor pattern-gen fetches example.com.
const helmIDSchema = `{
  "$id": "https://example.com/root.json",
  "$defs": {"name": {"$id": "name.json", "type": "string"}},
  "properties": {"name": {"$ref": "name.json"}}
}`

const helmSubChart = "apiVersion: v2\nname: sub\nversion: 0.1.0\n"

// Valid values pass and invalid ones fail with the very message Helm's own validation gives, for
// the chart and its subcharts, with in-document references and every draft.
func TestValuesSchemaLikeHelm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files Tree
		vals  map[string]any
		fails bool
	}{
		{"no schema", helmTestChart(""), map[string]any{"port": "x"}, false},
		{"draft-07 definitions ok", helmTestChart(helmDefsSchema), map[string]any{"port": 8080, "ports": []any{1, 2}, "mode": "a"}, false},
		{"draft-07 ref violated", helmTestChart(helmDefsSchema), map[string]any{"port": 0}, true},
		{"draft-07 items and enum violated", helmTestChart(helmDefsSchema), map[string]any{"ports": []any{1, "two"}, "mode": "c", "extra": true}, true},
		{"draft-07 wrong type", helmTestChart(helmDefsSchema), map[string]any{"name": 3}, true},
		{"2020-12 defs and meta-schema ok", helmTestChart(helm2020Schema), map[string]any{"size": 2, "meta": map[string]any{"type": "string"}}, false},
		{"2020-12 defs violated", helmTestChart(helm2020Schema), map[string]any{"size": 4}, true},
		{"2020-12 meta-schema violated", helmTestChart(helm2020Schema), map[string]any{"meta": map[string]any{"type": 5}}, true},
		{"draft-04", helmTestChart(`{"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"port": {"type": "integer", "maximum": 10, "exclusiveMaximum": true}}}`), map[string]any{"port": 10}, true},
		{"no $schema is 2020-12", helmTestChart(`{"prefixItems": [{"type": "string"}], "properties": {"list": {"prefixItems": [{"type": "string"}]}}}`), map[string]any{"list": []any{1}}, true},
		{"in-document $id ok", helmTestChart(helmIDSchema), map[string]any{"name": "a"}, false},
		{"in-document $id violated", helmTestChart(helmIDSchema), map[string]any{"name": 3}, true},
		{"nested causes", helmTestChart(`{"properties": {"v": {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 5}]}}}`), map[string]any{"v": 2}, true},
		{"subchart schema", helmWithSub(helmTestChart(`{"type": "object"}`), `{"properties": {"replicas": {"type": "integer"}}}`), map[string]any{"sub": map[string]any{"replicas": "two"}}, true},
		{"subchart and parent both fail", helmWithSub(helmTestChart(`{"properties": {"name": {"type": "integer"}}}`), `{"required": ["must"]}`), map[string]any{"sub": map[string]any{}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helmTemplate(tc.files, helmTestPlan, tc.vals)
			want := helmOwnValidation(t, tc.files, tc.vals)
			if !tc.fails {
				if err != nil || want != nil {
					t.Fatalf("got %v, Helm: %v; want both to pass", err, want)
				}
				return
			}
			if want == nil {
				t.Fatal("Helm accepts these values: the case is wrong")
			}
			// Helm lists the failures in map order; pattern-gen sorts them.
			if err == nil || !slices.Equal(helmSortedLines(err.Error()), helmSortedLines(want.Error())) {
				t.Errorf("error:\n got %v\nwant %v", err, want)
			}
		})
	}
}

func helmSortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

func helmWithSub(t Tree, subSchema string) Tree {
	t["Chart.yaml"] = []byte("apiVersion: v2\nname: x\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.1.0\n")
	t["charts/sub/Chart.yaml"] = []byte(helmSubChart)
	t["charts/sub/values.schema.json"] = []byte(subSchema)
	return t
}

// helmOwnValidation is what Helm's values validation says about the same chart and values.
func helmOwnValidation(t *testing.T, files Tree, vals map[string]any) error {
	t.Helper()
	bf, err := helmChartFiles(helmTestDir, files)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.LoadFiles(bf)
	if err != nil {
		t.Fatal(err)
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		t.Fatal(err)
	}
	_, err = chartutil.ToRenderValuesWithSchemaValidation(ch, vals, chartutil.ReleaseOptions{Name: "x"}, nil, false)
	return err
}

// Failures are listed in the same order every time, although the library finds them in map order.
func TestValuesSchemaMessageIsStable(t *testing.T) {
	vals := map[string]any{}
	props := []string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		vals[k] = 1
		props = append(props, `"`+k+`": {"type": "string"}`)
	}
	files := helmTestChart(`{"properties": {` + strings.Join(props, ", ") + `}}`)
	_, first := helmTemplate(files, helmTestPlan, vals)
	if first == nil {
		t.Fatal("invalid values pass")
	}
	for range 10 {
		if _, err := helmTemplate(files, helmTestPlan, vals); err == nil || err.Error() != first.Error() {
			t.Fatalf("error changed:\n%v\nthen\n%v", first, err)
		}
	}
}

// A subchart's schema that reaches outside is named by its own file.
func TestValuesSchemaNamesSubchartFile(t *testing.T) {
	files := helmWithSub(helmTestChart(""), `{"$ref": "other.json"}`)
	_, err := helmTemplate(files, helmTestPlan, map[string]any{"sub": map[string]any{}})
	want := helmTestDir + `/charts/sub/values.schema.json: $ref "other.json" reaches outside`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error:\n got %v\nwant it to contain %s", err, want)
	}
}

// A failing pattern or format names the rule, never the value: a values file may hold a secret.
func TestValuesSchemaNeverQuotesValues(t *testing.T) {
	const secret = "hunter2-not-a-hostname"
	schema := `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {
	  "password": {"type": "string", "pattern": "^[0-9]+$"},
	  "host": {"type": "string", "format": "ipv4"}}}`
	_, err := helmTemplate(helmTestChart(schema), helmTestPlan, map[string]any{"password": secret, "host": secret})
	if err == nil {
		t.Fatal("values that break the pattern and the format pass")
	}
	want := "values don't meet the specifications of the schema(s) in the following chart(s):\nx:\n" +
		"- at '/host': value is not valid ipv4\n- at '/password': value does not match pattern '^[0-9]+$'"
	if strings.Contains(err.Error(), secret) || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %v", err, want)
	}
}
