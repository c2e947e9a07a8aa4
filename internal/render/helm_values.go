package render

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// helmSchemaURL is the URL Helm gives a chart's values.schema.json, so that relative
// references and validation messages resolve as they do under Helm.
const helmSchemaURL = "file:///values.schema.json"

// valuesSchemas validates the values of a chart and its subcharts against their
// values.schema.json files as Helm 3.22 does (chartutil.ValidateAgainstSchema): each chart's
// schema against its values, each subchart's against the values under its name, recursively.
// Unlike Helm it compiles the schemas with a SchemaSet, so no $ref loads anything.
type valuesSchemas struct {
	dir    string           // the chart's directory in the fork, for file names
	byData map[*byte]string // first byte of a file's data -> its path in the chart
}

// newValuesSchemas remembers where each chart file came from: the loader keeps no paths, but a
// chart's Schema shares its bytes with the file it was read from.
func newValuesSchemas(dir string, files []*loader.BufferedFile) valuesSchemas {
	vs := valuesSchemas{dir: dir, byData: map[*byte]string{}}
	for _, f := range files {
		if path.Base(f.Name) == "values.schema.json" && len(f.Data) > 0 {
			vs.byData[&f.Data[0]] = f.Name
		}
	}
	return vs
}

// validate returns every reach error, else Helm's error listing the charts whose values fail.
func (vs valuesSchemas) validate(ch *chart.Chart, vals map[string]any) error {
	var failed strings.Builder
	var reach []error
	vs.check(ch, ch, vals, &failed, &reach)
	if len(reach) > 0 {
		return errors.Join(reach...)
	}
	if failed.Len() > 0 {
		return fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s", strings.TrimSuffix(failed.String(), "\n"))
	}
	return nil
}

func (vs valuesSchemas) check(top, ch *chart.Chart, vals map[string]any, failed *strings.Builder, reach *[]error) {
	if ch.Schema != nil {
		err := vs.single(vs.file(top, ch), ch.Schema, vals)
		var re *ReachError
		switch {
		case errors.As(err, &re):
			*reach = append(*reach, re)
		case err != nil:
			fmt.Fprintf(failed, "%s:\n%s\n", ch.Name(), err)
		}
	}
	// Sorted: the loader orders subcharts by map iteration, and the message must not vary.
	deps := slices.SortedFunc(slices.Values(ch.Dependencies()), func(a, b *chart.Chart) int { return strings.Compare(a.Name(), b.Name()) })
	for _, sub := range deps {
		raw, ok := vals[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		subVals, ok := raw.(map[string]any)
		if !ok {
			fmt.Fprintf(failed, "%s:\ninvalid type for values: expected object (map), got %T\n", sub.Name(), raw)
			continue
		}
		vs.check(top, sub, subVals, failed, reach)
	}
}

// single validates vals against one schema; a validation failure is described without the
// failing values.
func (vs valuesSchemas) single(file string, schema []byte, vals map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: unable to validate schema: %v", file, r)
		}
	}()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	set := NewSchemaSet()
	if err := set.Add(file, helmSchemaURL, doc); err != nil {
		return err
	}
	sch, err := set.Compile(file, helmSchemaURL)
	var re *ReachError
	if errors.As(err, &re) {
		return re
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := sch.Validate(vals); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return errors.New(describeValidation(ve))
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// file is the fork path of ch's values.schema.json. A subchart packed as an archive in charts/
// has no file of its own in the fork; it is then named by its place among the dependencies.
func (vs valuesSchemas) file(top, ch *chart.Chart) string {
	if len(ch.Schema) > 0 {
		if p, ok := vs.byData[&ch.Schema[0]]; ok {
			return path.Join(vs.dir, p)
		}
	}
	rel := strings.TrimPrefix(ch.ChartFullPath(), top.Name())
	return path.Join(vs.dir, rel, "values.schema.json")
}
