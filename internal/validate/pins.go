package validate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/pins"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// Pins checks a clusterGroup of a fork against the pins table: every chart the table knows is
// pinned to the range the tests use, the clustergroup chart too, and every rendered object of
// the group uses an API version the pinned component serves (an ExternalSecret at
// external-secrets.io/v1 under a chart that bundles an operator serving only v1beta1 is never
// applied).
func Pins(p *render.Pattern, apps []render.App, t pins.Table) []Problem {
	groupFile := "values-" + p.ClusterGroup + ".yaml"
	var ps []Problem
	if cg, err := t.Named("clustergroup"); err == nil && !p.Spoke() {
		if got, _ := p.Dig("main", "multiSourceConfig", "clusterGroupChartVersion").(string); got != cg.Pinned {
			ps = append(ps, Problem{File: "values-global.yaml", Path: "main.multiSourceConfig.clusterGroupChartVersion",
				Msg: fmt.Sprintf("%q is not the range pattern-gen pins and tests (%q, %s); set %q", got, cg.Pinned, pins.File, cg.Pinned)})
		}
	}
	entries, _ := p.Dig("clusterGroup", "applications").(map[string]any)
	for _, key := range slices.Sorted(maps.Keys(entries)) {
		spec, _ := entries[key].(map[string]any)
		chart, _ := spec["chart"].(string)
		c, ok := t.Chart(chart)
		if !ok {
			continue
		}
		if _, ok := spec["chartVersion"]; !ok {
			ps = append(ps, Problem{File: groupFile, Path: "clusterGroup.applications." + key,
				Msg: fmt.Sprintf("no chartVersion: Argo CD would install the newest %s chart; set chartVersion: %q (%s)", chart, c.Pinned, pins.File)})
		} else if got := fmt.Sprint(spec["chartVersion"]); got != c.Pinned {
			ps = append(ps, Problem{File: groupFile, Path: "clusterGroup.applications." + key + ".chartVersion",
				Msg: fmt.Sprintf("%q is not the range pattern-gen pins and tests (%q, %s); set %q", got, c.Pinned, pins.File, c.Pinned)})
		}
	}
	for _, app := range apps {
		if app.Plan.Group != p.ClusterGroup {
			continue
		}
		for _, o := range app.Objects {
			group, version, found := strings.Cut(o.APIVersion, "/")
			if !found {
				continue // the core group: the Kubernetes version, not a pin
			}
			c, served, ok := t.Serving(group)
			if ok && !slices.Contains(served, version) {
				ps = append(ps, Problem{File: app.Plan.ObjectPath(o), Path: "apiVersion",
					Msg: fmt.Sprintf("%s %s is not served by the pinned %s, which serves %s/%s; render one of those", o.Kind, o.APIVersion, c.Describe(), group, pins.VersionsText(served))})
			}
		}
	}
	return ps
}
