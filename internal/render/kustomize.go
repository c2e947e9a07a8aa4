package render

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// OverlayInput is the file, beside an overlay's kustomization.yaml, in which the renderer puts
// the chart's output; the overlay lists it under resources.
const OverlayInput = "chart.yaml"

// kustomizeBuild runs kustomize in-process over an in-memory filesystem that holds only the
// folders of the overlay's kustomizations, after KustomizeDirs has refused everything that would
// make kustomize reach outside them.
func kustomizeBuild(t Tree, overlay string, chartOutput []byte) ([]byte, error) {
	dirs, err := KustomizeDirs(t, overlay)
	if err != nil {
		return nil, err
	}
	fsys := filesys.MakeFsInMemory()
	for p, data := range t { // order does not matter in a filesystem; no sort on this hot path
		if !underAny(p, dirs) {
			continue
		}
		if err := fsys.MkdirAll(path.Join("/", path.Dir(p))); err != nil {
			return nil, err
		}
		if err := fsys.WriteFile(path.Join("/", p), data); err != nil {
			return nil, err
		}
	}
	if err := fsys.MkdirAll(path.Join("/", overlay)); err != nil {
		return nil, err
	}
	if err := fsys.WriteFile(path.Join("/", overlay, OverlayInput), chartOutput); err != nil {
		return nil, err
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, path.Join("/", overlay))
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// Reader is a fork's files as the kustomization check reads them: which files and folders exist,
// and their contents on demand (a Tree in memory, or a fork on disk read lazily).
type Reader interface {
	Has(p string) bool
	IsDir(p string) bool
	ReadFile(p string) ([]byte, error)
}

// KustomizeDirs checks the kustomization in dir and every kustomization it reaches through
// resources, bases and components, and returns their folders, dir first. Every other file
// kustomize may read lies below one of them (its load restrictor keeps files under their
// kustomization's folder), so these folders are all an overlay can reach.
//
// Kustomize fetches a resource, patch, generator input or schema that is a URL over HTTP, and
// clones one that is a git spec by running git (whose flags a URL can set); in-process, in
// Argo CD's repo server, that is a command and network access on content anyone who can push
// to the fork controls. So every entry must be a path inside the repository, and plugin
// configurations and Helm chart inflation, which run or fetch things of their own, are refused.
func KustomizeDirs(r Reader, dir string) ([]string, error) {
	c := closure{r: r, top: dir, seen: map[string]bool{}}
	if err := c.visit(dir); err != nil {
		return nil, err
	}
	return c.dirs, nil
}

type closure struct {
	r    Reader
	top  string
	seen map[string]bool
	dirs []string
}

func (c *closure) visit(dir string) error {
	if c.seen[dir] {
		return nil
	}
	c.seen[dir] = true
	file := kustomizationFile(c.r, dir)
	if file == "" {
		return fmt.Errorf("%s: no kustomization.yaml in the folder", displayDir(dir))
	}
	data, err := c.r.ReadFile(file)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	k.FixKustomization()
	c.dirs = append(c.dirs, dir)
	entries, refused := kustomizationPaths(&k)
	if len(refused) > 0 {
		return fmt.Errorf("%s: %s: %s", file, refused[0].field, refused[0].why)
	}
	for _, e := range entries {
		p, err := c.local(dir, e)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if e.mayBeDir && c.r.IsDir(p) {
			if err := c.visit(p); err != nil {
				return err
			}
			continue
		}
		// kustomize's load restrictor (LoadRestrictionsRootOnly) reads files only below the
		// kustomization's folder; saying so here keeps cmp-plugin, which loads only these
		// folders, and the offline render, which has the whole fork, to one message.
		if dir != "." && dir != "" && !strings.HasPrefix(p, dir+"/") {
			return fmt.Errorf("%s: %s: %s is outside the kustomization's folder; kustomize reads files only below it (make it a resource folder with its own kustomization.yaml)", file, e.field, p)
		}
	}
	return nil
}

// local resolves an entry against its kustomization's folder, refusing anything that is not a
// path inside the repository.
func (c *closure) local(dir string, e pathEntry) (string, error) {
	v := strings.TrimSpace(e.value)
	switch {
	case v == "":
		return "", fmt.Errorf("%s: empty path", e.field)
	case looksRemote(v):
		return "", fmt.Errorf("%s: a URL or git repository; pattern-gen builds overlays only from files in the fork (copy the file into the repository)", e.field)
	case path.IsAbs(v) || strings.HasPrefix(v, "~"):
		return "", fmt.Errorf("%s: an absolute path; use a path relative to the kustomization", e.field)
	}
	p := path.Join(dir, v)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%s: the path leaves the repository", e.field)
	}
	if !c.r.Has(p) && !c.r.IsDir(p) && !(dir == c.top && p == path.Join(c.top, OverlayInput)) {
		return "", fmt.Errorf("%s: %s is not in the fork", e.field, p)
	}
	return p, nil
}

// looksRemote says whether kustomize would treat s as a URL (fetched over HTTP) or a git
// repository (cloned with git): a scheme, the git:: prefix, github.com shorthand, or the
// scp-like user@host:path form (kustomize api internal/git repospec.go and loader.IsRemoteFile).
func looksRemote(s string) bool {
	l := strings.ToLower(s)
	if strings.Contains(l, "://") || strings.HasPrefix(l, "git::") ||
		strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:") {
		return true
	}
	first, _, _ := strings.Cut(l, "/")
	return strings.ContainsAny(first, "@:")
}

func kustomizationFile(r Reader, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if p := path.Join(dir, name); r.Has(p) {
			return p
		}
	}
	return ""
}

// pathEntry is one path a kustomization names, and where.
type pathEntry struct {
	field, value string
	mayBeDir     bool // a resource, base or component: a file or another kustomization's folder
}

type refusal struct{ field, why string }

// kustomizationPaths lists every path a kustomization (after FixKustomization) names, and the
// fields that are refused outright. TestKustomizationFieldsClassified fails when a kustomize
// upgrade adds a field this does not account for.
func kustomizationPaths(k *types.Kustomization) ([]pathEntry, []refusal) {
	var out []pathEntry
	var refused []refusal
	add := func(field string, mayBeDir bool, values ...string) {
		for i, v := range values {
			out = append(out, pathEntry{field: fmt.Sprintf("%s[%d]", field, i), value: v, mayBeDir: mayBeDir})
		}
	}
	add("resources", true, k.Resources...)
	add("components", true, k.Components...)
	add("crds", false, k.Crds...)
	add("configurations", false, k.Configurations...)
	for i, p := range k.Patches {
		if p.Path != "" {
			out = append(out, pathEntry{field: fmt.Sprintf("patches[%d].path", i), value: p.Path})
		}
	}
	for i, p := range k.PatchesJson6902 {
		if p.Path != "" {
			out = append(out, pathEntry{field: fmt.Sprintf("patchesJson6902[%d].path", i), value: p.Path})
		}
	}
	for i, p := range k.PatchesStrategicMerge {
		if s := string(p); !strings.Contains(s, "\n") { // a one-line entry is a file; an inline patch has lines
			out = append(out, pathEntry{field: fmt.Sprintf("patchesStrategicMerge[%d]", i), value: s})
		}
	}
	for i, r := range k.Replacements {
		if r.Path != "" {
			out = append(out, pathEntry{field: fmt.Sprintf("replacements[%d].path", i), value: r.Path})
		}
	}
	generator := func(field string, i int, a types.GeneratorArgs) {
		for j, f := range a.FileSources {
			_, p, found := strings.Cut(f, "=")
			if !found {
				p = f
			}
			out = append(out, pathEntry{field: fmt.Sprintf("%s[%d].files[%d]", field, i, j), value: p})
		}
		add(fmt.Sprintf("%s[%d].envs", field, i), false, a.EnvSources...)
		if a.EnvSource != "" {
			out = append(out, pathEntry{field: fmt.Sprintf("%s[%d].env", field, i), value: a.EnvSource})
		}
	}
	for i, g := range k.ConfigMapGenerator {
		generator("configMapGenerator", i, g.GeneratorArgs)
	}
	for i, g := range k.SecretGenerator {
		generator("secretGenerator", i, g.GeneratorArgs)
	}
	plugins := "kustomize plugin configurations are not supported in a fork's overlay (they run programs or fetch what they name); use patches, replacements or labels"
	helm := "kustomize's Helm chart inflation runs helm and fetches charts from repositories; make the chart an application of the clusterGroup instead"
	for _, f := range []struct {
		name string
		set  bool
		why  string
	}{
		{"generators", len(k.Generators) > 0, plugins},
		{"transformers", len(k.Transformers) > 0, plugins},
		{"validators", len(k.Validators) > 0, plugins},
		{"helmCharts", len(k.HelmCharts) > 0, helm},
		{"helmChartInflationGenerator", len(k.HelmChartInflationGenerator) > 0, helm},
		{"helmGlobals", k.HelmGlobals != nil, helm},
		// kustomize keeps a custom schema process-wide (kyaml openapi.SetSchema), so in a
		// render of every application it would change how later overlays merge their
		// patches: the review would differ from what Argo CD applies, one process per app.
		{"openapi", len(k.OpenAPI) > 0, "a custom OpenAPI schema is not supported in a fork's overlay (kustomize would apply it to every overlay built after it); use JSON 6902 patches"},
	} {
		if f.set {
			refused = append(refused, refusal{f.name, f.why})
		}
	}
	return out, refused
}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if d == "." || d == "" || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

func displayDir(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
