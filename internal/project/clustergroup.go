package project

import (
	"bytes"
	"fmt"
	"maps"
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
					ClusterGroupGitRepoURL   string `yaml:"clusterGroupGitRepoUrl"`
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
			PrivateRepo: sp.GitSpec.TokenSecret != "", MultiSource: sp.MultiSourceConfig.Enabled, HelmRepoURL: sp.MultiSourceConfig.HelmRepoURL, ClusterGroupGitRepoURL: sp.MultiSourceConfig.ClusterGroupGitRepoURL,
			ClusterGroupChartVersion: sp.MultiSourceConfig.ClusterGroupChartVersion, ExperimentalCapabilities: sp.ExperimentalCapabilities,
			ExtraValueFiles: sp.ExtraValueFiles}
		for _, e := range sp.ExtraParameters {
			cr.ExtraParameters = append(cr.ExtraParameters, render.Param{Name: e.Name, Value: e.Value})
		}
		return cr
	}
}

// clusterGroupChartApps renders the clustergroup chart for each of the fork's clusterGroups, as
// the Lead application of that group: the hub's as the patterns operator has it rendered, a
// spoke's as the hub's ACM policy has it rendered there.
// all are the fork's clusterGroups (the hub's first, as ReadPatterns gives them); only those in
// selected are rendered.
func clusterGroupChartApps(t render.Tree, all, selected []*render.Pattern, env config.PluginEnv, chart *clusterGroupChart) ([]render.App, error) {
	tree := maps.Clone(t)
	for p := range tree { // a fork's own files there would change the chart's output
		if strings.HasPrefix(p, chartPrefix+"/") {
			delete(tree, p)
		}
	}
	for p, data := range chart.files {
		tree[chartPrefix+"/"+p] = data
	}
	cr := chart.cr
	// The hub's plan first: a spoke's parameters are the hub's global.* values.
	hub := all[0]
	r, err := generate.NewRenderer(generate.RendererOptions{Tree: tree, Pattern: hub, Env: env})
	if err != nil {
		return nil, err
	}
	hubPlan, err := r.ClusterGroupPlan(chartPrefix, cr)
	if err != nil {
		return nil, err
	}
	var out []render.App
	for _, p := range selected {
		plan := hubPlan
		if p.Spoke() {
			g, ok := hub.ManagedGroup(p.ClusterGroup)
			if !ok {
				continue
			}
			r, err := generate.NewRenderer(generate.RendererOptions{Tree: tree, Pattern: p, Env: env})
			if err != nil {
				return nil, err
			}
			var made bool
			if plan, made, err = r.SpokeClusterGroupPlan(chartPrefix, render.SpokeHub{Pattern: hub, Plan: hubPlan}, g); err != nil {
				return nil, err
			}
			if !made {
				continue
			}
		}
		objs, err := render.RenderApp(tree, plan)
		if err != nil {
			return nil, fmt.Errorf("clusterGroup %s: the clustergroup chart %s (%s): %w", p.ClusterGroup, chart.ref.Version, chart.ref.Source, err)
		}
		out = append(out, render.App{Plan: plan, Objects: objs})
	}
	return out, nil
}
