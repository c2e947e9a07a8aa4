package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	patterngen "github.com/pattern-gen/pattern-gen"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/fetch"
	"github.com/pattern-gen/pattern-gen/internal/forklock"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/pins"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/schemacache"
	"github.com/pattern-gen/pattern-gen/internal/validate"
)

// ValidateOptions names the fork and where the schemas come from.
type ValidateOptions struct {
	Fork string
	// Schemas is where the pinned schemas (values/pins.yaml) are cached and how a missing one
	// is fetched. The three directories below, when set, are used instead.
	Schemas            schemacache.Cache
	ClusterGroupSchema string    // values.schema.json of the clustergroup chart (a file or go-getter source)
	CRDDir             string    // CustomResourceDefinition YAML files
	KubeOpenAPIDir     string    // Kubernetes OpenAPI v3 JSON files
	Now                time.Time // for the measurements' expiration; zero for the current time
}

// Problem is one thing wrong with a fork: the file, the line when known, the field path when
// known, and what is wrong (validate -o json prints these fields).
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	return config.Problem{File: p.File, Line: p.Line, Path: p.Path, Msg: p.Message}.Error()
}

// ValidateReport is every problem found and which checks ran.
type ValidateReport struct {
	Problems []Problem `json:"problems"`
	Warnings []string  `json:"warnings"` // what does not make the fork invalid but leaves it short of working
	Checked  []string  `json:"checked"`
	// Unchecked lists the checks that could not run, each saying what would supply it.
	Unchecked []string `json:"unchecked"`
	// NoSchema lists the rendered kinds no schema checked ("Kind (apiVersion)"): none is
	// pinned for them (Route, ACM's kinds), or theirs could not be had (see Unchecked).
	NoSchema []string `json:"noSchema"`
	Drift    Drift    `json:"-"` // the generated files against pattern-gen.yaml; the CLI words the command
}

func (r *ValidateReport) problem(file, path, msg string) {
	r.Problems = append(r.Problems, Problem{File: file, Path: path, Message: msg})
}

func (r *ValidateReport) schemaProblems(ps []validate.Problem) {
	for _, x := range ps {
		r.problem(x.File, x.Path, x.Msg)
	}
}

// Validate checks a fork: its config, its clusterGroup values, its rendered objects against the
// schemas of the versions it pins (from the cache, fetched once), and the cross-file rules.
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
		rep.Checked = append(rep.Checked, "config "+render.ConfigFile)
		if t.Has(forklock.File) {
			rep.Checked = append(rep.Checked, "generated files against "+forklock.File)
		}
		if _, err := config.Load(render.ConfigFile, data); err != nil {
			var ps config.Problems
			if !errors.As(err, &ps) {
				return nil, err
			}
			for _, p := range ps {
				rep.Problems = append(rep.Problems, Problem{File: p.File, Line: p.Line, Path: p.Path, Message: p.Msg})
			}
		}
	}
	table, err := PinsTable()
	if err != nil {
		return nil, err
	}
	if err := checkClusterGroupValues(ctx, o, table, patterns, rep); err != nil {
		return nil, err
	}
	res, err := renderPatterns(t, patterns, config.PluginEnv{})
	if err != nil {
		return nil, fmt.Errorf("fork %s does not render: %w", o.Fork, err)
	}
	if err := checkObjects(ctx, o, table, patterns, res.Applications, rep); err != nil {
		return nil, err
	}
	var groups []string
	for _, p := range patterns {
		groups = append(groups, p.ClusterGroup)
		rep.schemaProblems(append(validate.CrossFile(p, res.Applications), validate.Pins(p, res.Applications, table)...))
	}
	rep.Checked = append(rep.Checked, "cross-file rules of clusterGroup "+strings.Join(groups, ", "),
		"pins and served API versions ("+pins.File+")")
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	checkPluginImage(patterns, rep)
	if len(patterns) > 0 && patterns[0].Platform == config.PlatformBareMetal {
		if err := checkFirmware(patterns, res.Applications, rep); err != nil {
			return nil, err
		}
	} else {
		checkMeasurements(t, res.Applications, rep, now)
	}
	return rep, nil
}

// checkClusterGroupValues checks values-global.yaml and each clusterGroup file against the
// values schema of the clustergroup chart version the pins table names (or the one given).
func checkClusterGroupValues(ctx context.Context, o ValidateOptions, table pins.Table, patterns []*render.Pattern, rep *ValidateReport) error {
	var schema []byte
	if o.ClusterGroupSchema != "" {
		if fetch.IsRemote(o.ClusterGroupSchema) && o.Schemas.Fetch == nil {
			return fmt.Errorf("--clustergroup-schema %s: a remote source, and fetching is off (--offline); name a file", shownSource(o.ClusterGroupSchema))
		}
		var err error
		if schema, err = readSource(ctx, o.ClusterGroupSchema, generate.MaxForkFileSize); err != nil {
			return fmt.Errorf("--clustergroup-schema %s: %w", shownSource(o.ClusterGroupSchema), err)
		}
	} else {
		sources := table.Schemas(pins.SchemaValues)
		if len(sources) != 1 {
			return fmt.Errorf("%s: want one values schema (the clustergroup chart's), found %d", pins.File, len(sources))
		}
		var err error
		if schema, err = o.Schemas.Get(ctx, sources[0]); err != nil {
			rep.Unchecked = append(rep.Unchecked, "clustergroup values schema: "+err.Error()+"; pass --clustergroup-schema FILE")
			return nil
		}
	}
	ps, err := validate.ClusterGroupValues(patterns, schema)
	if err != nil {
		return err
	}
	rep.Checked = append(rep.Checked, "clustergroup values schema")
	rep.schemaProblems(ps)
	return nil
}

// checkObjects checks the rendered objects against schemas: the CRDs of custom kinds and the
// OpenAPI of core kinds, of the versions the pins table names (or from the folders given). Each
// clusterGroup is checked against the operator versions it subscribes itself: in a staged
// upgrade the spoke may run another Trustee than the hub.
func checkObjects(ctx context.Context, o ValidateOptions, table pins.Table, patterns []*render.Pattern, apps []render.App, rep *ValidateReport) error {
	kinds := []schemaKind{
		{o.CRDDir, "--crds", pins.SchemaCRD, []string{".yaml", ".yml"}, validate.LoadCRDs, "rendered objects against %d custom kinds and versions"},
		{o.KubeOpenAPIDir, "--kube-openapi", pins.SchemaOpenAPI, []string{".json"}, validate.LoadOpenAPI, "rendered objects against %d Kubernetes kinds"},
	}
	said := map[string]bool{} // unchecked notes and schema problems, once for the fork
	note := func(s string) {
		if !said[s] {
			said[s] = true
			rep.Unchecked = append(rep.Unchecked, s)
		}
	}
	counts := make([]map[string]bool, len(kinds)) // kinds and versions loaded, over all groups
	// Groups that need the same schemas (the core kinds always, the same operator versions)
	// read and compile them once.
	compiled := map[string]validate.CRDs{}
	seen := map[string]bool{}
	for _, p := range patterns {
		var groupApps []render.App
		for _, app := range apps {
			if app.Plan.Group == p.ClusterGroup {
				groupApps = append(groupApps, app)
			}
		}
		all := validate.CRDs{}
		csvs := subscribedCSVs([]*render.Pattern{p})
		groups := renderedGroups(groupApps)
		for i, k := range kinds {
			key := k.kind
			if k.dir == "" {
				key += "\x00" + strings.Join(slices.Sorted(maps.Keys(csvs)), "\x00") + "\x00" + strings.Join(slices.Sorted(maps.Keys(groups)), "\x00")
			}
			schemas, done := compiled[key]
			if !done {
				docs, err := k.docs(ctx, o, table, pinFilter{csvs, groups}, note)
				if err != nil {
					return err
				}
				schemas, err = k.load(docs)
				var ps validate.Problems
				switch {
				case errors.As(err, &ps): // schemas it could not use, reported with the rest
					for _, x := range ps {
						if !said[x.String()] {
							said[x.String()] = true
							rep.problem(x.File, x.Path, x.Msg)
						}
					}
				case err != nil:
					return err
				}
				compiled[key] = schemas
			}
			if counts[i] == nil {
				counts[i] = map[string]bool{}
			}
			for key := range schemas {
				counts[i][key] = true
			}
			maps.Copy(all, schemas)
		}
		rep.schemaProblems(validate.Objects(groupApps, all))
		for _, app := range groupApps {
			for _, obj := range app.Objects {
				if id := obj.Kind + " (" + obj.APIVersion + ")"; !all.Covers(obj.APIVersion, obj.Kind) && !seen[id] {
					seen[id] = true
					rep.NoSchema = append(rep.NoSchema, id)
				}
			}
		}
	}
	for i, k := range kinds {
		if len(counts[i]) > 0 {
			rep.Checked = append(rep.Checked, fmt.Sprintf(k.checked, len(counts[i])))
		}
	}
	slices.Sort(rep.NoSchema)
	return nil
}

// schemaKind is one kind of schema validate checks objects against, and the flag that gives
// a folder of them instead of the pinned ones.
type schemaKind struct {
	dir, flag, kind string
	exts            []string
	load            func(map[string][]byte) (validate.CRDs, error)
	checked         string // with the number of kinds and versions loaded
}

// docs are the schema documents of this kind for a clusterGroup subscribing csvs: the folder's,
// or the pinned ones from the cache; what cannot be had goes to note.
func (k schemaKind) docs(ctx context.Context, o ValidateOptions, table pins.Table, f pinFilter, note func(string)) (map[string][]byte, error) {
	if k.dir != "" {
		docs, err := readDir(k.dir, k.exts...)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", k.flag, k.dir, err)
		}
		if len(docs) == 0 {
			return nil, fmt.Errorf("%s %s: no %s file there; name the folder that holds them", k.flag, k.dir, strings.Join(k.exts, " or "))
		}
		return docs, nil
	}
	docs := map[string][]byte{}
	use, missing := pinnedSchemas(table, k.kind, f)
	for _, m := range missing {
		note(m + "; pass " + k.flag + " DIR")
	}
	for _, s := range use {
		data, err := o.Schemas.Get(ctx, s)
		if err != nil {
			note(fmt.Sprintf("%s schema %s: %v; pass %s DIR", k.kind, path.Base(s.URL), err, k.flag))
			continue
		}
		docs[s.URL] = data
	}
	return docs, nil
}

// checkPluginImage holds the cmp-plugin sidecar image of each clusterGroup to a valid reference,
// and warns when it is not pinned by digest: a tag can come to name an image nobody tested.
func checkPluginImage(patterns []*render.Pattern, rep *ValidateReport) {
	for _, p := range patterns {
		plugins, _ := p.Dig("clusterGroup", "argoCD", "configManagementPlugins").([]any)
		for i, c := range plugins {
			m, _ := c.(map[string]any)
			image, _ := m["image"].(string)
			if m["name"] != render.PluginBase {
				continue
			}
			file, path := "values-"+p.ClusterGroup+".yaml", fmt.Sprintf("clusterGroup.argoCD.configManagementPlugins[%d].image", i)
			switch msg := config.ImageRefProblem(image); {
			case msg != "":
				rep.problem(file, path, msg)
			case !config.PinnedByDigest(image):
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: %s: %q is not pinned by digest, so the sidecar runs whatever the tag names when a node pulls it; set plugin.image in %s to <repository>:<tag>@sha256:<digest> (the release notes list it) and run pattern-gen update", file, path, image, render.ConfigFile))
			}
		}
	}
}

// checkFirmware reports a bare-metal fork whose KBS cannot affirm any pod because launch
// reference values of its TEE kinds are missing from the rendered RVPS: bare-metal TEEs report no
// vTPM PCRs, so the pod VM image's measurements play no part there.
func checkFirmware(patterns []*render.Pattern, apps []render.App, rep *ValidateReport) error {
	for _, app := range apps {
		for _, o := range app.Objects {
			if o.Kind != "ConfigMap" || o.Name != generate.RVPSConfigMap {
				continue
			}
			for _, p := range patterns {
				if p.ClusterGroup != app.Plan.Group {
					continue
				}
				missing, err := generate.MissingFirmware(o, p.Coco())
				if err != nil {
					return fmt.Errorf("application %s: %w", app.Plan.Name, err)
				}
				if len(missing) > 0 {
					rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s has no %s, so no pod of that TEE attests as affirming; write them in %s as the README says, commit it and list it in the trustee application's extraValueFiles", generate.RVPSConfigMap, strings.Join(missing, ", "), render.FirmwareFile))
				}
			}
		}
	}
	return nil
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
		rep.problem(measurements.File, "global.coco.trustee.measurements.expires", fmt.Sprintf("expired at %s; the RVPS of Trustee 1.1 and 1.2 does not enforce the expiration, so validate does: run pattern-gen measurements pull", set.Expires))
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

// subscribedCSVs is every operator version (OLM CSV) the fork's clusterGroups subscribe.
func subscribedCSVs(patterns []*render.Pattern) map[string]bool {
	out := map[string]bool{}
	for _, p := range patterns {
		for _, sub := range p.Subscriptions() { // the map and the list form
			if disabled, _ := sub.Spec["disabled"].(bool); disabled {
				continue
			}
			if csv, ok := sub.Spec["csv"].(string); ok {
				out[csv] = true
			}
		}
	}
	return out
}

// pinnedSchemas is the table's schemas of kind for what the fork installs: each schema that
// belongs to no particular version, and each of an operator version the fork subscribes (or,
// when it subscribes no version of that operator by csv:, of the version the table pins). For
// an operator version the fork subscribes that the table has no schema of, missing says so.
func pinnedSchemas(table pins.Table, kind string, f pinFilter) (use []pins.Schema, missing []string) {
	csvs := f.csvs
	for _, c := range table.Components {
		if kind == pins.SchemaCRD && !slices.ContainsFunc(c.Serves, func(a pins.API) bool { return f.groups[a.Group] }) {
			continue // a CRD of kinds the group does not render (the bare-metal ones on a cloud)
		}
		pkg, _, _ := strings.Cut(c.Pinned, ".v")
		var subscribed []string
		for _, csv := range slices.Sorted(maps.Keys(csvs)) {
			if strings.HasPrefix(csv, pkg+".v") {
				subscribed = append(subscribed, csv)
			}
		}
		if len(subscribed) == 0 {
			subscribed = []string{c.Pinned}
		}
		var known []string
		matched := map[string]bool{}
		for _, s := range c.Schemas {
			if s.Kind != kind {
				continue
			}
			if len(s.CSVs) == 0 {
				use = append(use, s)
				continue
			}
			known = append(known, s.CSVs...)
			for _, csv := range subscribed {
				if slices.Contains(s.CSVs, csv) && !matched[csv] {
					use, matched[csv] = append(use, s), true
				}
			}
		}
		for _, csv := range subscribed {
			if len(known) > 0 && !matched[csv] {
				missing = append(missing, fmt.Sprintf("%s schema of %s: %s has one only for %s (no download supplies it; --crds replaces every pinned CRD, so its folder must hold them all)", kind, csv, pins.File, strings.Join(known, ", ")))
			}
		}
	}
	return use, missing
}

// pinFilter is what chooses a clusterGroup's pinned schemas: the CSVs it subscribes and the API
// groups its applications render.
type pinFilter struct {
	csvs, groups map[string]bool
}

// renderedGroups are the API groups of every object apps render.
func renderedGroups(apps []render.App) map[string]bool {
	out := map[string]bool{}
	for _, app := range apps {
		for _, o := range app.Objects {
			group, _, ok := strings.Cut(o.APIVersion, "/")
			if !ok { // "v1": the core group
				group = ""
			}
			out[group] = true
		}
	}
	return out
}

// SchemaCache is the cache of pinned schemas in dir ("" for schemacache.DefaultDir), fetching
// a missing one through go-getter unless offline.
func SchemaCache(dir string, offline bool, logf func(format string, args ...any)) schemacache.Cache {
	if dir == "" {
		dir, _ = schemacache.DefaultDir() // none: Get says to pass --schema-cache, if a schema is needed
	}
	c := schemacache.Cache{Dir: dir, Logf: logf}
	if !offline {
		c.Fetch = func(ctx context.Context, src string) ([]byte, error) {
			return fetch.File(ctx, src, fetch.Options{MaxBytes: generate.MaxForkFileSize, Timeout: FetchTimeout})
		}
	}
	return c
}
