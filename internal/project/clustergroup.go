package project

import (
	"fmt"
	"maps"

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
// review shows them as: the values path, and whether the entries are a list of names, a list of
// objects with a name, or a map keyed by name.
var clusterGroupEntries = []struct {
	kind string
	path []string
}{
	{"clusterGroup.subscriptions", []string{"clusterGroup", "subscriptions"}},
	{"clusterGroup.namespaces", []string{"clusterGroup", "namespaces"}},
	{"clusterGroup.applications", []string{"clusterGroup", "applications"}},
	{"clusterGroup.projects", []string{"clusterGroup", "projects"}},
	{"clusterGroup.argoCD.configManagementPlugins", []string{"clusterGroup", "argoCD", "configManagementPlugins"}},
	{"clusterGroup.imperative.jobs", []string{"clusterGroup", "imperative", "jobs"}},
	{"clusterGroup.managedClusterGroups", []string{"clusterGroup", "managedClusterGroups"}},
	{"clusterGroup.sharedValueFiles", []string{"clusterGroup", "sharedValueFiles"}},
}

// clusterGroupObjects is what review compares of each clusterGroup's values: one object per
// entry, keyed by its name, and the clustergroup chart version the fork pins.
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
			for name, data := range entries(p.Dig(e.path...)) {
				add(e.kind, name, data)
			}
		}
	}
	return out
}

// entries names the entries of a values list or map: a map by its keys, a list item by its
// name field (or itself, when it is a string), else by its position.
func entries(v any) map[string]any {
	out := map[string]any{}
	switch v := v.(type) {
	case map[string]any:
		maps.Copy(out, v)
	case []any:
		for i, item := range v {
			name := fmt.Sprintf("[%d]", i)
			switch it := item.(type) {
			case string:
				name = it
			case map[string]any:
				if n, ok := it["name"].(string); ok && n != "" {
					name = n
				}
			}
			if _, dup := out[name]; dup {
				name = fmt.Sprintf("%s[%d]", name, i)
			}
			out[name] = item
		}
	}
	return out
}
