package project

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"

	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/review"
)

// ClusterGroupApp is the pseudo-application under which review shows, per clusterGroup, what
// the clustergroup chart makes objects of: the values entries that become Subscriptions (with
// their csv), Namespaces, Argo CD Applications, the plugin sidecars of the ArgoCD CR and the
// imperative Jobs. An operator upgrade in a pull request is then never silent, though the
// chart's own objects are not rendered.
const ClusterGroupApp = review.Lead

// clusterGroupEntries are the values the clustergroup chart turns into objects, by the kind
// review shows them as: the values path, and whether the order of a list matters (imperative
// jobs run in order; a later shared value file overrides an earlier one).
var clusterGroupEntries = []struct {
	kind    string
	path    []string
	ordered bool
}{
	{"clusterGroup.subscriptions", []string{"clusterGroup", "subscriptions"}, false},
	{"clusterGroup.namespaces", []string{"clusterGroup", "namespaces"}, false},
	{"clusterGroup.indexImages", []string{"clusterGroup", "indexImages"}, false},
	{"clusterGroup.applications", []string{"clusterGroup", "applications"}, false},
	{"clusterGroup.projects", []string{"clusterGroup", "projects"}, false},
	{"clusterGroup.argoCD.configManagementPlugins", []string{"clusterGroup", "argoCD", "configManagementPlugins"}, false},
	{"clusterGroup.imperative.jobs", []string{"clusterGroup", "imperative", "jobs"}, true},
	{"clusterGroup.managedClusterGroups", []string{"clusterGroup", "managedClusterGroups"}, false},
	{"clusterGroup.sharedValueFiles", []string{"clusterGroup", "sharedValueFiles"}, true},
	{"clusterGroup.extraObjects", []string{"clusterGroup", "extraObjects"}, false},
}

// clusterGroupSettings are maps whose other keys configure what the chart renders (the
// imperative jobs' image and schedule, the ArgoCD CR): each is one object, the entries above
// left out.
var clusterGroupSettings = []struct {
	kind string
	path []string
	skip string
}{
	{"clusterGroup.imperative", []string{"clusterGroup", "imperative"}, "jobs"},
	{"clusterGroup.argoCD", []string{"clusterGroup", "argoCD"}, "configManagementPlugins"},
}

// clusterGroupObjects is what review compares of each clusterGroup's values: one object per
// entry, keyed by its name, the order of the lists where it matters, and the clustergroup chart
// version the fork pins.
func clusterGroupObjects(patterns []*render.Pattern) []review.Object {
	var out []review.Object
	for _, p := range patterns {
		add := func(kind, name string, data any) {
			m, ok := data.(map[string]any)
			if !ok {
				m = map[string]any{"value": data}
			}
			out = append(out, review.Object{Group: p.ClusterGroup, App: ClusterGroupApp, ID: kind + "/" + name, Kind: kind, Name: name, Data: m})
		}
		if v := p.Dig("main", "multiSourceConfig", "clusterGroupChartVersion"); v != nil && !p.Spoke() {
			add("main.multiSourceConfig", "clusterGroupChartVersion", v)
		}
		for _, e := range clusterGroupEntries {
			v := p.Dig(e.path...)
			named, order := entries(v)
			for name, data := range named {
				add(e.kind, name, data)
			}
			if _, isList := v.([]any); isList && e.ordered && len(order) > 1 {
				add(e.kind, "(order)", map[string]any{"order": order})
			}
		}
		for _, st := range clusterGroupSettings {
			m, ok := p.Dig(st.path...).(map[string]any)
			if !ok {
				continue
			}
			rest := maps.Clone(m)
			delete(rest, st.skip)
			if len(rest) > 0 {
				add(st.kind, "settings", rest)
			}
		}
	}
	return out
}

// entries names the entries of a values list or map: a map by its keys, a list item by its
// name field, its only key (a one-key map such as a labelled namespace), or itself when it is
// a string, else by its position. order lists the names in the list's order.
func entries(v any) (named map[string]any, order []any) {
	named = map[string]any{}
	switch v := v.(type) {
	case map[string]any:
		maps.Copy(named, v)
	case []any:
		for i, item := range v {
			name := fmt.Sprintf("[%d]", i)
			switch it := item.(type) {
			case string:
				name = it
			case map[string]any:
				if n, ok := it["name"].(string); ok && n != "" {
					name = n
				} else if len(it) == 1 {
					for k := range it {
						name = k
					}
				}
			}
			for base, n := name, 2; ; n++ { // a name taken already gets a suffix no other has
				if _, taken := named[name]; !taken {
					break
				}
				name = fmt.Sprintf("%s (%d)", base, n)
			}
			named[name] = item
			order = append(order, name)
		}
	}
	return named, order
}

// chartPrefix is where the clustergroup chart's files go in a fork's tree for rendering: a
// folder of pattern-gen's own; whatever a fork keeps there is dropped first.
const chartPrefix = ".pattern-gen/clustergroup-chart"

// Bounds of a chart folder: the clustergroup chart is a few hundred KiB in a few dozen files.
const (
	maxChartFiles = 2000
	maxChartBytes = 64 << 20
)

// ReadClusterGroupChart reads a clustergroup chart folder (--clustergroup-chart DIR): regular
// files only, no links, bounded in number and size. A dependency Chart.yaml lists that charts/
// does not hold is dropped from it (the YAML edited, the rest as written) and named in missing:
// the reference copy of the chart lacks vp-rbac, so its objects are not rendered.
func ReadClusterGroupChart(dir string) (files render.Tree, missing []string, err error) {
	if _, err := os.Lstat(filepath.Join(dir, "Chart.yaml")); err != nil {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: no Chart.yaml; name the clustergroup chart's folder", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: %w", dir, err)
	}
	defer root.Close()
	files = render.Tree{}
	total := 0
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Type()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link; a chart folder holds regular files", p)
		case d.IsDir() || !d.Type().IsRegular():
			return nil
		case len(files) >= maxChartFiles:
			return fmt.Errorf("more than %d files; is it the chart's folder?", maxChartFiles)
		}
		data, err := readInRoot(root, p, maxChartBytes-total)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		total += len(data)
		files[p] = data
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: %w", dir, err)
	}
	if files["Chart.yaml"], missing, err = dropMissingDependencies(files); err != nil {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: Chart.yaml: %w", dir, err)
	}
	return files, missing, nil
}

// readInRoot reads the file p through root (no link followed), at most limit bytes.
func readInRoot(root *os.Root, p string, limit int) ([]byte, error) {
	f, err := root.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err == nil && len(data) > limit {
		err = fmt.Errorf("the chart folder is more than %d bytes", maxChartBytes)
	}
	return data, err
}

// dropMissingDependencies checks that Chart.yaml is the clustergroup chart's and removes the
// dependencies charts/ does not hold, editing the YAML nodes so everything else stays as
// written.
func dropMissingDependencies(files render.Tree) ([]byte, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(files["Chart.yaml"], &doc); err != nil {
		return nil, nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("not a mapping")
	}
	top := doc.Content[0]
	var name string
	var deps *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch top.Content[i].Value {
		case "name":
			name = top.Content[i+1].Value
		case "dependencies":
			deps = top.Content[i+1]
		}
	}
	if name != "clustergroup" {
		return nil, nil, fmt.Errorf("chart %q is not the clustergroup chart", name)
	}
	if deps == nil || deps.Kind != yaml.SequenceNode {
		return files["Chart.yaml"], nil, nil
	}
	var kept []*yaml.Node
	var missing []string
	for _, d := range deps.Content {
		dep := ""
		for i := 0; d.Kind == yaml.MappingNode && i+1 < len(d.Content); i += 2 {
			if d.Content[i].Value == "name" {
				dep = d.Content[i+1].Value
			}
		}
		if hasChart(files, dep) {
			kept = append(kept, d)
		} else {
			missing = append(missing, dep)
		}
	}
	if len(missing) == 0 {
		return files["Chart.yaml"], nil, nil
	}
	deps.Content = kept
	out, err := yaml.Marshal(&doc)
	return out, missing, err
}

// hasChart says whether charts/ holds the dependency name, as a folder or as an archive
// name-<version>.tgz.
func hasChart(files render.Tree, name string) bool {
	for p := range files {
		rest, ok := strings.CutPrefix(p, "charts/"+name)
		if ok && (strings.HasPrefix(rest, "/") || len(rest) > 1 && rest[0] == '-' && rest[1] >= '0' && rest[1] <= '9' && strings.HasSuffix(rest, ".tgz")) {
			return true
		}
	}
	return false
}

// patternCR reads what the fork's Pattern resource (the document of kind Pattern in
// bootstrap/pattern.yaml) says the operator passes to the clustergroup chart.
func patternCR(t render.Tree) render.PatternCR {
	dec := yaml.NewDecoder(bytes.NewReader(t["bootstrap/pattern.yaml"]))
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Namespace string `yaml:"namespace"`
			} `yaml:"metadata"`
			Spec struct {
				GitSpec struct {
					TargetRevision string `yaml:"targetRevision"`
					OriginRepo     string `yaml:"originRepo"`
					TokenSecret    string `yaml:"tokenSecret"`
				} `yaml:"gitSpec"`
				MultiSourceConfig struct {
					Enabled                  *bool  `yaml:"enabled"`
					HelmRepoURL              string `yaml:"helmRepoUrl"`
					ClusterGroupChartVersion string `yaml:"clusterGroupChartVersion"`
				} `yaml:"multiSourceConfig"`
				ExperimentalCapabilities string   `yaml:"experimentalCapabilities"`
				ExtraValueFiles          []string `yaml:"extraValueFiles"`
				ExtraParameters          []struct {
					Name  string `yaml:"name"`
					Value string `yaml:"value"`
				} `yaml:"extraParameters"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			return render.PatternCR{} // no Pattern document that reads: the operator's defaults
		}
		if doc.Kind != "Pattern" {
			continue
		}
		sp := doc.Spec
		cr := render.PatternCR{Namespace: doc.Metadata.Namespace, TargetRevision: sp.GitSpec.TargetRevision, OriginRepo: sp.GitSpec.OriginRepo,
			PrivateRepo: sp.GitSpec.TokenSecret != "", MultiSource: sp.MultiSourceConfig.Enabled, HelmRepoURL: sp.MultiSourceConfig.HelmRepoURL,
			ClusterGroupChartVersion: sp.MultiSourceConfig.ClusterGroupChartVersion, ExperimentalCapabilities: sp.ExperimentalCapabilities,
			ExtraValueFiles: sp.ExtraValueFiles}
		for _, e := range sp.ExtraParameters {
			cr.ExtraParameters = append(cr.ExtraParameters, render.Param{Name: e.Name, Value: e.Value})
		}
		return cr
	}
}

// clusterGroupChartApps renders the clustergroup chart for each of the fork's clusterGroups the
// patterns operator installs it for (the hub's), as the Lead application of that group.
func clusterGroupChartApps(t render.Tree, patterns []*render.Pattern, env config.PluginEnv, chart render.Tree) ([]render.App, error) {
	tree := maps.Clone(t)
	for p := range tree { // a fork's own files there would change the chart's output
		if strings.HasPrefix(p, chartPrefix+"/") {
			delete(tree, p)
		}
	}
	for p, data := range chart {
		tree[chartPrefix+"/"+p] = data
	}
	cr := patternCR(t)
	var out []render.App
	for _, p := range patterns {
		if p.Spoke() {
			continue
		}
		r, err := generate.NewRenderer(generate.RendererOptions{Tree: tree, Pattern: p, Env: env})
		if err != nil {
			return nil, err
		}
		plan, err := r.ClusterGroupPlan(chartPrefix, cr)
		if err != nil {
			return nil, err
		}
		objs, err := render.RenderApp(tree, plan)
		if err != nil {
			return nil, fmt.Errorf("clusterGroup %s: the clustergroup chart: %w", p.ClusterGroup, err)
		}
		out = append(out, render.App{Plan: plan, Objects: objs})
	}
	return out, nil
}

// readChartOption reads the --clustergroup-chart folder, if one is given, and says which of its
// dependencies are not shown.
func readChartOption(dir string, logf func(format string, args ...any)) (render.Tree, error) {
	if dir == "" {
		return nil, nil
	}
	chart, missing, err := ReadClusterGroupChart(dir)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 && logf != nil {
		logf("note: --clustergroup-chart %s has no %s in charts/: the objects of those dependencies are not shown", dir, strings.Join(missing, ", "))
	}
	return chart, nil
}
