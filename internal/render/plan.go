package render

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"text/template"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/contract"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
)

// Facts are what the Validated Patterns operator knows about the cluster and passes to every
// application as Helm parameters. Offline, the cluster-only ones are placeholders.
type Facts struct {
	ClusterPlatform    string
	ClusterVersion     string
	ClusterDomain      string
	HubClusterDomain   string
	LocalClusterDomain string
	KubeVersion        string // Capabilities.KubeVersion, as Argo CD passes --kube-version
}

// Placeholder domains: .invalid (RFC 2606) can never resolve, so a placeholder that reached a
// cluster fails visibly instead of pointing somewhere real.
const (
	PlaceholderClusterDomain = "cluster-provided.invalid"
	PlaceholderAppsDomain    = "apps.cluster-provided.invalid"
	// PlaceholderSpokeAppsDomain is a spoke's own apps domain offline: a spoke is not the hub.
	PlaceholderSpokeAppsDomain = "apps.spoke-provided.invalid"
)

// OfflineFacts are the facts `pattern-gen render` uses with no cluster: the platform is known
// from the config, the domains are placeholders and the OpenShift version is left out (so no
// version-specific value file applies).
func OfflineFacts(platform string) Facts {
	return Facts{
		ClusterPlatform:  platform,
		ClusterDomain:    PlaceholderClusterDomain,
		HubClusterDomain: PlaceholderAppsDomain,
		KubeVersion:      "v1.30.0", // OpenShift 4.17, the oldest release OSC 1.12 supports
	}
}

// Param is one Helm parameter: --set, --set-string when ForceString, or --set-literal when
// Literal. Argo CD passes an application's parameters with --set or --set-string; what
// cmp-plugin derives itself is Literal, so no character of the value is parsed.
type Param struct {
	Name, Value string
	ForceString bool
	Literal     bool
}

// OfflineFacts are OfflineFacts(platform) for the clusters of p's clusterGroup: on a spoke only
// the hub's domain is shared, the cluster's own is another placeholder.
func (p *Pattern) OfflineFacts(platform string) Facts {
	f := OfflineFacts(platform)
	if p.Spoke() {
		f.LocalClusterDomain = PlaceholderSpokeAppsDomain
		f.ClusterDomain = strings.TrimPrefix(PlaceholderSpokeAppsDomain, "apps.")
	}
	return f
}

// AppPlan is how one application of the clusterGroup is rendered: exactly what Argo CD would be
// told by the clustergroup chart, or what cmp-plugin derives for a plugin application.
type AppPlan struct {
	Group           string // the clusterGroup the application belongs to
	Name, Namespace string
	Release         string   // the Helm release name when it is not Name (the clustergroup chart's)
	Path            string   // chart directory in the fork
	ValueFiles      []string // fork paths, in order, only those that exist
	// Values are an Application's inline helm.values: Argo CD passes them as one more values
	// file, after ValueFiles and before Params.
	Values      map[string]any
	Params      []Param
	Overlay     string // kustomize overlay directory applied to the chart output, or ""
	KubeVersion string
	Plugin      bool // rendered by cmp-plugin at sync time (plugin: in the clusterGroup)
}

// Pattern is what the fork's top-level values and one clusterGroup file say about the pattern.
// ClusterGroup is the group read; MainGroup is main.clusterGroupName, the group of the cluster
// the pattern is installed on (the hub). Any other group is a spoke's (managedClusterGroups).
type Pattern struct {
	Name, ClusterGroup, RepoURL, Revision string
	// Platform is the config's platform (pattern-gen.yaml, read once with values-global.yaml),
	// config.DefaultPlatform when the fork has no config or it names none.
	Platform            string
	MainGroup           string
	apps                []appEntry
	shared, extraGlobal []string
	managed             []ManagedGroup // managedClusterGroups, in order
	coco                contract.Coco  // global.coco of the merged values
	root                map[string]any // merged global + clusterGroup values
	global              map[string]any // values-global.yaml, parsed once
}

type appEntry struct {
	key  string
	spec map[string]any
}

// ReadGlobal reads only values-global.yaml (and the config's platform): the pattern's name,
// clusterGroup and repository. (*Pattern).Select then reads clusterGroup files without parsing
// values-global.yaml again.
func ReadGlobal(t Tree) (*Pattern, error) {
	global, err := readValues(t, "values-global.yaml", true)
	if err != nil {
		return nil, err
	}
	p := &Pattern{
		global:       global,
		Name:         str(Dig(global, "global", "pattern")),
		ClusterGroup: str(Dig(global, "main", "clusterGroupName")),
		RepoURL:      str(Dig(global, "main", "git", "repoURL")),
		Revision:     str(Dig(global, "main", "git", "revision")),
		Platform:     platformOf(t),
	}
	if p.ClusterGroup == "" {
		return nil, fmt.Errorf("values-global.yaml: main.clusterGroupName: missing; it selects values-<name>.yaml")
	}
	if p.Name == "" {
		return nil, fmt.Errorf("values-global.yaml: global.pattern: missing")
	}
	p.MainGroup = p.ClusterGroup
	return p, nil
}

// Spoke says whether the group read is a spoke's, not the hub's.
func (p *Pattern) Spoke() bool { return p.ClusterGroup != p.MainGroup }

// Coco is the values contract (global.coco) of the clusterGroup's merged values, decoded once.
func (p *Pattern) Coco() contract.Coco { return p.coco }

// platformOf reads the platform from the fork's config, config.DefaultPlatform when there is
// none. The config is the fork's content: it is decoded in linear time like every other input,
// and a config that does not decode is validate's to report.
func platformOf(t Tree) string {
	if data, ok := t[ConfigFile]; ok {
		if m, err := manifest.DecodeMap(data); err == nil {
			if p, _ := m["platform"].(string); p != "" {
				return p
			}
		}
	}
	return config.DefaultPlatform
}

// ReadPattern reads values-global.yaml and the main clusterGroup's values file from the fork.
func ReadPattern(t Tree) (*Pattern, error) {
	g, err := ReadGlobal(t)
	if err != nil {
		return nil, err
	}
	return g.readGroup(t, "")
}

// Select reads clusterGroup group of the fork: the main one when group is "" or
// main.clusterGroupName, else one the main group's managedClusterGroups names, whose values
// file must be in the fork. It is the one way a clusterGroup is chosen, by the plugin and the
// CLI alike.
func Select(t Tree, group string) (*Pattern, error) {
	g, err := ReadGlobal(t)
	if err != nil {
		return nil, err
	}
	return g.Select(t, group)
}

// Select is the package's Select on the values-global.yaml that g holds, for a caller that
// needed g to know which files to load.
func (g *Pattern) Select(t Tree, group string) (*Pattern, error) {
	main, err := g.readGroup(t, "")
	if err != nil || group == "" || group == main.ClusterGroup {
		return main, err
	}
	if !slices.ContainsFunc(main.managed, func(m ManagedGroup) bool { return m.Name == group }) {
		return nil, notAGroupError(group, main.GroupNames())
	}
	return main.readSpoke(t, group)
}

// GroupNames lists the fork's clusterGroups: the main one, then those its managedClusterGroups
// name, each once.
func (p *Pattern) GroupNames() []string {
	out := []string{p.MainGroup}
	for _, m := range p.managed {
		if !slices.Contains(out, m.Name) {
			out = append(out, m.Name)
		}
	}
	return out
}

func notAGroupError(group string, names []string) error {
	return fmt.Errorf("clusterGroup %q is not one of the fork's clusterGroups (%s)", group, strings.Join(names, ", "))
}

// readSpoke reads the values file of spoke group on top of the main group's values-global.yaml,
// saying which entry named it when the file is not in the fork.
func (main *Pattern) readSpoke(t Tree, group string) (*Pattern, error) {
	if groupFile := "values-" + group + ".yaml"; !t.Has(groupFile) {
		return nil, fmt.Errorf("values-%s.yaml: clusterGroup.managedClusterGroups names %q, but %s is not in the fork; add it or remove the entry", main.ClusterGroup, group, groupFile)
	}
	return main.readGroup(t, group)
}

// readGroup reads the values file of clusterGroup group ("" for main.clusterGroupName) on top
// of the values-global.yaml that g holds.
func (g *Pattern) readGroup(t Tree, group string) (*Pattern, error) {
	p := &Pattern{Name: g.Name, ClusterGroup: g.MainGroup, RepoURL: g.RepoURL, Revision: g.Revision, Platform: g.Platform, MainGroup: g.MainGroup, global: g.global}
	global := g.global
	if group != "" {
		p.ClusterGroup = group
	}
	groupFile := "values-" + p.ClusterGroup + ".yaml"
	values, err := readValues(t, groupFile, true)
	if err != nil {
		return nil, err
	}
	p.root = mergeValues(mergeValues(map[string]any{}, global), values)
	p.coco = contract.Decode(p.root)
	cg, ok := Dig(values, "clusterGroup").(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: clusterGroup: missing or not a mapping", groupFile)
	}
	p.managed = managedGroups(cg["managedClusterGroups"])
	p.shared = strList(cg["sharedValueFiles"])
	p.extraGlobal = strList(Dig(global, "global", "extraValueFiles"))
	switch apps := cg["applications"].(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(apps)) {
			spec, _ := apps[k].(map[string]any)
			p.apps = append(p.apps, appEntry{key: k, spec: spec})
		}
	case []any:
		for i, a := range apps {
			spec, _ := a.(map[string]any)
			p.apps = append(p.apps, appEntry{key: fmt.Sprintf("[%d]", i), spec: spec})
		}
	case nil:
	default:
		return nil, fmt.Errorf("%s: clusterGroup.applications: expected a mapping or a list", groupFile)
	}
	return p, nil
}

// ManagedGroup is one entry of the hub's clusterGroup.managedClusterGroups: what the ACM
// policy passes to the clustergroup chart on that group's spokes.
type ManagedGroup struct {
	Name            string
	ExtraValueFiles []string
	HelmOverrides   []Param
}

// managedGroups reads clusterGroup.managedClusterGroups (a map, keys sorted, or a list): each
// entry's name or else its key, its extraValueFiles and helmOverrides.
func managedGroups(v any) []ManagedGroup {
	var out []ManagedGroup
	add := func(key string, m map[string]any) {
		if m != nil && truthy(m["disabled"]) {
			return
		}
		if n := str(m["name"]); n != "" {
			key = n
		}
		if key == "" {
			return
		}
		g := ManagedGroup{Name: key}
		files, _ := m["extraValueFiles"].([]any)
		for _, f := range files {
			if f := str(f); f != "" {
				g.ExtraValueFiles = append(g.ExtraValueFiles, f)
			}
		}
		overrides, _ := m["helmOverrides"].([]any)
		for _, o := range overrides {
			if o, ok := o.(map[string]any); ok && str(o["name"]) != "" {
				// The policy writes value: {{ .value | quote }}, and Argo CD passes it with --set.
				g.HelmOverrides = append(g.HelmOverrides, Param{Name: str(o["name"]), Value: scalarString(o["value"])})
			}
		}
		out = append(out, g)
	}
	switch g := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(g)) {
			m, _ := g[k].(map[string]any)
			add(k, m)
		}
	case []any:
		for _, x := range g {
			m, _ := x.(map[string]any)
			add("", m)
		}
	}
	return out
}

// ReadPatterns reads every clusterGroup of the fork: main.clusterGroupName first, then the spoke
// groups its managedClusterGroups name (GroupNames' order), each of which must have its values
// file in the fork. Every file is parsed once.
func ReadPatterns(t Tree) ([]*Pattern, error) {
	main, err := ReadPattern(t)
	if err != nil {
		return nil, err
	}
	out := []*Pattern{main}
	var errs []error
	for _, g := range main.GroupNames()[1:] {
		p, err := main.readSpoke(t, g)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// SelectGroup returns the pattern of clusterGroup name among ps (from ReadPatterns), by
// Select's rule: "" is the main group.
func SelectGroup(ps []*Pattern, name string) (*Pattern, error) {
	if name == "" {
		return ps[0], nil
	}
	for _, p := range ps {
		if p.ClusterGroup == name {
			return p, nil
		}
	}
	return nil, notAGroupError(name, ps[0].GroupNames())
}

// Dig returns the value at a path of the merged values (values-global.yaml and the clusterGroup
// file), or nil. The values are shared: callers must not change what they get.
func (p *Pattern) Dig(keys ...string) any { return Dig(p.root, keys...) }

// Subscription is one entry of clusterGroup.subscriptions: its values path (for messages) and
// its fields.
type Subscription struct {
	Path string
	Spec map[string]any
}

// Subscriptions lists clusterGroup.subscriptions, which the clustergroup chart takes as a map
// (in key order here) or as a list.
func (p *Pattern) Subscriptions() []Subscription {
	var out []Subscription
	switch v := p.Dig("clusterGroup", "subscriptions").(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			spec, _ := v[k].(map[string]any)
			out = append(out, Subscription{Path: "clusterGroup.subscriptions." + k, Spec: spec})
		}
	case []any:
		for i, s := range v {
			spec, _ := s.(map[string]any)
			out = append(out, Subscription{Path: fmt.Sprintf("clusterGroup.subscriptions[%d]", i), Spec: spec})
		}
	}
	return out
}

// Files is what planning asks of a fork: whether a file exists. A Tree answers, and so does a
// fork on disk that has been listed but not read.
type Files interface {
	Has(p string) bool
}

// Plan lists the applications of p's clusterGroup that point at a chart in the fork t, in the
// clusterGroup's order, and how each is rendered. Applications from a Helm repository (chart:)
// are not part of the fork and are skipped, as are disabled ones.
func (p *Pattern) Plan(t Files, facts Facts) ([]AppPlan, error) {
	groupFile := "values-" + p.ClusterGroup + ".yaml"
	root := mergeValues(map[string]any{}, p.root)
	mergeValues(root, map[string]any{"global": map[string]any{
		"clusterPlatform": facts.ClusterPlatform, "clusterVersion": facts.ClusterVersion,
		"clusterDomain": facts.ClusterDomain, "hubClusterDomain": facts.HubClusterDomain,
		"localClusterDomain": facts.LocalClusterDomain,
	}})
	var plans []AppPlan
	var errs []string
	seen := map[string]bool{}
	for _, a := range p.apps {
		where := fmt.Sprintf("%s: clusterGroup.applications.%s", groupFile, strings.TrimPrefix(a.key, "."))
		if a.spec == nil || truthy(a.spec["disabled"]) || a.spec["chart"] != nil {
			continue
		}
		plan, err := planApp(t, p, root, facts, a.spec)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		if seen[plan.Name] {
			errs = append(errs, fmt.Sprintf("%s: name %q is used by another application", where, plan.Name))
			continue
		}
		seen[plan.Name] = true
		plans = append(plans, plan)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return plans, nil
}

func planApp(t Files, p *Pattern, root map[string]any, facts Facts, spec map[string]any) (AppPlan, error) {
	plan := AppPlan{
		Group:       p.ClusterGroup,
		Name:        str(spec["name"]),
		Namespace:   str(spec["namespace"]),
		Path:        strings.Trim(path.Clean(str(spec["path"])), "/"),
		KubeVersion: facts.KubeVersion,
	}
	switch {
	case plan.Name == "":
		return plan, fmt.Errorf("name: missing")
	case str(spec["path"]) == "":
		return plan, fmt.Errorf("path: missing; an application in the fork needs the path of its chart")
	case strings.HasPrefix(plan.Path, ".."):
		return plan, fmt.Errorf("path: %q leaves the repository", spec["path"])
	case !t.Has(plan.Path + "/Chart.yaml"):
		return plan, fmt.Errorf("path: %s has no Chart.yaml in the fork", plan.Path)
	case spec["chartVersion"] != nil:
		return plan, fmt.Errorf("chartVersion: set on an application whose chart is in the fork; remove it (it would make Argo CD fetch the path from a Helm repository)")
	}
	if plan.Namespace == "" {
		plan.Namespace = p.Name + "-" + p.ClusterGroup // the clustergroup chart's default
	}
	// Value files, in the clustergroup chart's order (templates/_helpers.tpl valuefiles), then
	// sharedValueFiles and extraValueFiles, both passed through tpl with the root values.
	files := []string{"/values-global.yaml", "/values-" + p.ClusterGroup + ".yaml"}
	if pf := facts.ClusterPlatform; pf != "" {
		files = append(files, "/values-"+pf+".yaml")
		if facts.ClusterVersion != "" {
			files = append(files, "/values-"+pf+"-"+facts.ClusterVersion+".yaml")
		}
		files = append(files, "/values-"+pf+"-"+p.ClusterGroup+".yaml")
	}
	if facts.ClusterVersion != "" {
		files = append(files, "/values-"+facts.ClusterVersion+"-"+p.ClusterGroup+".yaml")
	}
	files = append(files, p.extraGlobal...)
	for _, list := range [][]string{p.shared, strList(spec["extraValueFiles"])} {
		for _, f := range list {
			out, err := tplValueFile(f, root)
			if err != nil {
				return plan, err
			}
			files = append(files, out)
		}
	}
	for _, f := range files {
		fp, err := forkPath(plan.Path, f)
		if err != nil {
			return plan, err
		}
		if t.Has(fp) { // ignoreMissingValueFiles: true
			plan.ValueFiles = append(plan.ValueFiles, fp)
		}
	}
	repoURL, revision := p.RepoURL, p.Revision
	if s := str(spec["repoURL"]); s != "" {
		repoURL = s
	}
	if s := str(spec["targetRevision"]); s != "" {
		revision = s
	}
	local := facts.LocalClusterDomain
	if local == "" {
		local = facts.HubClusterDomain
	}
	plan.Params = []Param{
		{Name: "global.repoURL", Value: repoURL},
		{Name: "global.targetRevision", Value: revision},
		{Name: "global.namespace", Value: plan.Namespace},
		{Name: "global.pattern", Value: p.Name},
		{Name: "global.clusterDomain", Value: facts.ClusterDomain},
		{Name: "global.clusterVersion", Value: facts.ClusterVersion},
		{Name: "global.clusterPlatform", Value: facts.ClusterPlatform},
		{Name: "global.hubClusterDomain", Value: facts.HubClusterDomain},
		{Name: "global.localClusterDomain", Value: local},
		{Name: "global.privateRepo", Value: ""},
	}
	for _, ov := range listOfMaps(spec["overrides"]) {
		name := str(ov["name"])
		if name == "" {
			return plan, fmt.Errorf("overrides: an entry has no name")
		}
		plan.Params = append(plan.Params, Param{Name: name, Value: fmt.Sprint(ov["value"]), ForceString: truthy(ov["forceString"])})
	}
	if plugin, ok := spec["plugin"].(map[string]any); ok {
		plan.Plugin = true
		for _, prm := range listOfMaps(plugin["parameters"]) {
			if str(prm["name"]) == "overlay" {
				plan.Overlay = strings.Trim(path.Clean(str(prm["string"])), "/")
				if strings.HasPrefix(plan.Overlay, "..") || !t.Has(plan.Overlay+"/kustomization.yaml") {
					return plan, fmt.Errorf("plugin.parameters overlay: %q has no kustomization.yaml in the fork", str(prm["string"]))
				}
			}
		}
	}
	return plan, nil
}

// forkPath resolves a value file as Argo CD does: "/x" is relative to the repository root,
// anything else to the application's path.
func forkPath(appPath, f string) (string, error) {
	var p string
	if strings.HasPrefix(f, "/") {
		p = path.Clean(strings.TrimPrefix(f, "/"))
	} else {
		p = path.Join(appPath, f)
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("value file %q leaves the repository", f)
	}
	return p, nil
}

func tplValueFile(s string, root map[string]any) (string, error) {
	tmpl, err := template.New("valueFile").Option("missingkey=zero").Parse(s)
	if err != nil {
		return "", fmt.Errorf("value file %q: %w", s, err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{"Values": root}); err != nil {
		return "", fmt.Errorf("value file %q: %w", s, err)
	}
	return strings.ReplaceAll(b.String(), "<no value>", ""), nil
}

func readValues(t Tree, p string, required bool) (map[string]any, error) {
	data, ok := t[p]
	if !ok {
		if required {
			return nil, fmt.Errorf("%s: missing; is this a pattern fork (pattern-gen init)?", p)
		}
		return map[string]any{}, nil
	}
	// Not yaml.Unmarshal: its duplicate-key check is quadratic in the keys of a mapping.
	m, err := manifest.DecodeMap(data)
	if err != nil {
		return nil, manifest.InFile(p, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// mergeValues merges src into dst as Helm merges value files: maps merge key by key, anything
// else in src replaces what dst has.
func mergeValues(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeValues(dv, sv)
				continue
			}
			dst[k] = mergeValues(map[string]any{}, sv)
			continue
		}
		dst[k] = v
	}
	return dst
}

// Dig returns the value at a path of nested maps, or nil.
func Dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// scalarString is a values-file scalar as sprig's quote prints it on a cluster: nil is empty,
// and a number is the float64 Helm reads every number of a values file as (1000000 is 1e+06).
func scalarString(v any) string {
	switch n := v.(type) {
	case nil:
		return ""
	case int:
		v = float64(n)
	case int64:
		v = float64(n)
	case uint64:
		v = float64(n)
	}
	return fmt.Sprint(v)
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func truthy(v any) bool {
	b, ok := v.(bool)
	return ok && b
}

func strList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func listOfMaps(v any) []map[string]any {
	var out []map[string]any
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// Values returns values-global.yaml merged with the clusterGroup file (a copy).
func (p *Pattern) Values() map[string]any {
	return mergeValues(map[string]any{}, p.root)
}
