package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	patterngen "github.com/pattern-gen/pattern-gen"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/forklock"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/pins"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/validate"
)

// ValidateOptions names the fork and the schemas to check it against.
type ValidateOptions struct {
	Fork               string
	ClusterGroupSchema string    // values.schema.json of the clustergroup chart; "" skips that check
	CRDDir             string    // CustomResourceDefinition YAML files; "" skips the CRD checks
	KubeOpenAPIDir     string    // Kubernetes OpenAPI v3 JSON files; "" skips the core-kind checks
	Now                time.Time // for the measurements' expiration; zero for the current time
}

// ValidateReport is every problem found and which checks ran.
type ValidateReport struct {
	Problems []string
	Warnings []string // what does not make the fork invalid but leaves it short of working
	Checked  []string
	Skipped  []string
	Drift    Drift // the generated files against pattern-gen.yaml; the CLI words the command
}

// Validate checks a fork offline: its config, its clusterGroup values, its rendered objects
// against CRD schemas, and the cross-file rules.
func Validate(ctx context.Context, o ValidateOptions) (*ValidateReport, error) {
	t, err := generate.ReadFork(o.Fork)
	if err != nil {
		return nil, err
	}
	rep := &ValidateReport{}
	// Every later check works on the same reading of the clusterGroup files.
	patterns, err := render.ReadPatterns(t)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", o.Fork, err)
	}
	if data, ok := t[render.ConfigFile]; ok {
		rep.Drift = driftOf(data, t[forklock.File])
		rep.Checked = append(rep.Checked, "config "+render.ConfigFile, "generated files against "+forklock.File)
		if _, err := config.Load(render.ConfigFile, data); err != nil {
			var ps config.Problems
			if !errors.As(err, &ps) {
				return nil, err
			}
			for _, p := range ps {
				rep.Problems = append(rep.Problems, p.Error())
			}
		}
	}
	if o.ClusterGroupSchema != "" {
		schema, err := readSource(ctx, o.ClusterGroupSchema, generate.MaxForkFileSize)
		if err != nil {
			return nil, fmt.Errorf("--clustergroup-schema %s: %w", shownSource(o.ClusterGroupSchema), err)
		}
		ps, err := validate.ClusterGroupValues(patterns, schema)
		if err != nil {
			return nil, err
		}
		rep.Checked = append(rep.Checked, "clustergroup values schema")
		for _, x := range ps {
			rep.Problems = append(rep.Problems, x.String())
		}
	} else {
		rep.Skipped = append(rep.Skipped, "clustergroup values schema (pass --clustergroup-schema)")
	}
	res, err := renderPatterns(t, patterns, config.PluginEnv{})
	if err != nil {
		return nil, fmt.Errorf("fork %s does not render: %w", o.Fork, err)
	}
	// Rendered objects against schemas: the CRDs of custom kinds, the OpenAPI of core kinds.
	for _, c := range []struct {
		dir, flag string
		exts      []string
		load      func(map[string][]byte) (validate.CRDs, error)
		checked   string // with the number of schemas loaded
		skipped   string
	}{
		{o.CRDDir, "--crds", []string{".yaml", ".yml"}, validate.LoadCRDs,
			"rendered objects against %d CRD schemas", "CRD schemas (pass --crds DIR)"},
		{o.KubeOpenAPIDir, "--kube-openapi", []string{".json"}, validate.LoadOpenAPI,
			"rendered objects against %d Kubernetes kinds", "Kubernetes kinds (pass --kube-openapi DIR, e.g. api/openapi-spec/v3 of k8s.io/kubernetes)"},
	} {
		if c.dir == "" {
			rep.Skipped = append(rep.Skipped, c.skipped)
			continue
		}
		docs, err := readDir(c.dir, c.exts...)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", c.flag, c.dir, err)
		}
		schemas, err := c.load(docs)
		var ps validate.Problems
		switch {
		case errors.As(err, &ps): // schemas it could not use, reported with the rest
			for _, x := range ps {
				rep.Problems = append(rep.Problems, x.String())
			}
		case err != nil:
			return nil, err
		}
		rep.Checked = append(rep.Checked, fmt.Sprintf(c.checked, len(schemas)))
		for _, x := range validate.Objects(res.Applications, schemas) {
			rep.Problems = append(rep.Problems, x.String())
		}
	}
	table, err := PinsTable()
	if err != nil {
		return nil, err
	}
	var groups []string
	for _, p := range patterns {
		groups = append(groups, p.ClusterGroup)
		for _, x := range append(validate.CrossFile(p, res.Applications), validate.Pins(p, res.Applications, table)...) {
			rep.Problems = append(rep.Problems, x.String())
		}
	}
	rep.Checked = append(rep.Checked, "cross-file rules of clusterGroup "+strings.Join(groups, ", "),
		"pins and served API versions ("+pins.File+")")
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	checkMeasurements(t, res.Applications, rep, now)
	return rep, nil
}

// measurementsWarnAhead is how long before the measurements expire validate starts to say so.
const measurementsWarnAhead = 30 * 24 * time.Hour

// checkMeasurements reports a fork whose KBS cannot affirm any pod because the pod VM image's
// measurements are missing or expired. The file's own problems stop the render before this.
func checkMeasurements(t render.Tree, apps []render.App, rep *ValidateReport, now time.Time) {
	if !t.Has(render.TrusteeChart + "/Chart.yaml") {
		return
	}
	data, ok := t[measurements.File]
	if !ok {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s is missing, so RVPS has no PCR03, 09, 11, 12 of the pod VM image and no pod attests as affirming; run pattern-gen measurements pull and commit it", measurements.File))
		return
	}
	if !slices.ContainsFunc(apps, func(a render.App) bool { return slices.Contains(a.Plan.ValueFiles, measurements.File) }) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("no application lists %s in its extraValueFiles, so RVPS does not get it; add - /%s to the trustee application", measurements.File, measurements.File))
		return
	}
	osc, err := pinnedOSC(t)
	if err != nil {
		return // reported by the render
	}
	set, err := measurements.Read(measurements.File, data, osc)
	switch {
	case err != nil:
		return // reported by the render
	case set.Expired(now):
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: global.coco.trustee.measurements.expires: expired at %s, so RVPS rejects the values and no pod attests as affirming; run pattern-gen measurements pull", measurements.File, set.Expires))
	case set.Expired(now.Add(measurementsWarnAhead)):
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: the measurements expire at %s; run pattern-gen measurements pull before then", measurements.File, set.Expires))
	}
	rep.Checked = append(rep.Checked, "pod VM measurements ("+measurements.File+")")
}

// readDir reads the files below dir whose names end in one of exts.
func readDir(dir string, exts ...string) (map[string][]byte, error) {
	docs := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !slices.Contains(exts, filepath.Ext(path)) {
			return err
		}
		data, err := generate.ReadLimited(path, generate.MaxForkFileSize)
		docs[path] = data
		return err
	})
	return docs, err
}

// PinsTable is the product's table of external components (values/pins.yaml).
func PinsTable() (pins.Table, error) {
	data, err := fs.ReadFile(patterngen.Assets(), pins.File)
	if err != nil {
		return pins.Table{}, err
	}
	return pins.Parse(data)
}
