package project

import (
	"fmt"
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
// folder of pattern-gen's own, replacing anything a fork keeps there.
const chartPrefix = ".pattern-gen/clustergroup-chart"

// ReadClusterGroupChart reads a clustergroup chart folder (diff --clustergroup-chart DIR):
// regular files only, no links, each bounded. A dependency Chart.yaml lists that charts/ does
// not hold is dropped and named in missing (the reference copy of the chart lacks vp-rbac, so
// its objects are not rendered).
func ReadClusterGroupChart(dir string) (files render.Tree, missing []string, err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: %w", dir, err)
	}
	defer root.Close()
	files = render.Tree{}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Type()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link; a chart folder holds regular files", p)
		case d.IsDir() || !d.Type().IsRegular():
			return nil
		}
		data, err := generate.ReadLimited(filepath.Join(dir, filepath.FromSlash(p)), generate.MaxForkFileSize)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		files[p] = data
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: %w", dir, err)
	}
	meta, ok := files["Chart.yaml"]
	if !ok {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: no Chart.yaml; name the clustergroup chart's folder", dir)
	}
	var chart map[string]any
	if err := yaml.Unmarshal(meta, &chart); err != nil {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: Chart.yaml: %w", dir, err)
	}
	if name, _ := chart["name"].(string); name != "clustergroup" {
		return nil, nil, fmt.Errorf("--clustergroup-chart %s: chart %q is not the clustergroup chart", dir, name)
	}
	deps, _ := chart["dependencies"].([]any)
	var kept []any
	for _, d := range deps {
		m, _ := d.(map[string]any)
		name, _ := m["name"].(string)
		if hasChart(files, name) {
			kept = append(kept, d)
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		chart["dependencies"] = kept
		if files["Chart.yaml"], err = yaml.Marshal(chart); err != nil {
			return nil, nil, err
		}
	}
	return files, missing, nil
}

// hasChart says whether charts/ holds the dependency name, as a folder or an archive.
func hasChart(files render.Tree, name string) bool {
	for p := range files {
		if strings.HasPrefix(p, "charts/"+name+"/") || strings.HasPrefix(p, "charts/"+name+"-") && strings.HasSuffix(p, ".tgz") {
			return true
		}
	}
	return false
}

// patternNamespace is the namespace of the fork's Pattern (bootstrap/pattern.yaml), the
// clustergroup application's destination.
func patternNamespace(t render.Tree) string {
	var doc struct {
		Metadata struct {
			Namespace string `yaml:"namespace"`
		} `yaml:"metadata"`
	}
	if data, ok := t["bootstrap/pattern.yaml"]; ok && yaml.Unmarshal(data, &doc) == nil && doc.Metadata.Namespace != "" {
		return doc.Metadata.Namespace
	}
	return render.PatternNamespace
}

// clusterGroupChartApps renders the clustergroup chart for each of the fork's clusterGroups the
// patterns operator installs it for (the hub's), as the Lead application of that group.
func clusterGroupChartApps(t render.Tree, patterns []*render.Pattern, env config.PluginEnv, chart render.Tree) ([]render.App, error) {
	tree := maps.Clone(t)
	for p, data := range chart {
		tree[chartPrefix+"/"+p] = data
	}
	ns := patternNamespace(t)
	var out []render.App
	for _, p := range patterns {
		if p.Spoke() {
			continue
		}
		r, err := generate.NewRenderer(generate.RendererOptions{Tree: tree, Pattern: p, Env: env})
		if err != nil {
			return nil, err
		}
		plan, err := r.ClusterGroupPlan(chartPrefix, ns)
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
