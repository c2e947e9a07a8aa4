// Package project connects the pieces for each command: it loads a config (a file or the
// embedded default), reads a fork from disk, calls the pure renderer and hands the result to
// the tree writer. It never writes to stdout; the CLI decides what to print.
package project

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	patterngen "github.com/pattern-gen/pattern-gen"
	"github.com/pattern-gen/pattern-gen/internal/chartrepo"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/fetch"
	"github.com/pattern-gen/pattern-gen/internal/forklock"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/review"
	"github.com/pattern-gen/pattern-gen/internal/textdiff"
	"github.com/pattern-gen/pattern-gen/internal/treewriter"
)

// readStdin reads a config from r, at most limit bytes.
func readStdin(r io.Reader, limit int64) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return data, nil
}

// LoadConfig loads the config file, or the embedded default when file is "". It returns the
// raw bytes too, since the fork keeps the config as the user wrote it.
func LoadConfig(ctx context.Context, file string) (*config.Loaded, []byte, error) {
	return loadConfig(ctx, ScaffoldOptions{Config: file})
}

// loadConfig reads the config and gives it the repository URL the options choose.
func loadConfig(ctx context.Context, o ScaffoldOptions) (*config.Loaded, []byte, error) {
	name, data := patterngen.DefaultConfigName+" (embedded default)", patterngen.DefaultConfig()
	if o.Config != "" {
		name = shownSource(o.Config)
		var err error
		if o.Config == "-" {
			name = "<stdin>"
			data, err = readStdin(o.Stdin, MaxConfigSize)
		} else {
			data, err = readSource(ctx, o.Config, MaxConfigSize)
		}
		if err != nil {
			return nil, nil, config.Problems{{File: name, Msg: "cannot read the config: " + err.Error()}}
		}
	}
	if o.Config == "" {
		var err error
		if data, err = config.SetPluginImage(data, config.DefaultPluginImage()); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	url, from := o.repoURL(config.RepoURLOf(data))
	if url != "" {
		edited, err := config.SetRepoURL(data, url)
		if err != nil {
			// Load names the line of what is wrong with the document.
			_, lerr := config.Load(name, data)
			return nil, nil, cmpOr(lerr, fmt.Errorf("%s: %w", name, err))
		}
		data = edited
	}
	l, err := config.Load(name, data)
	var ps config.Problems
	if errors.As(err, &ps) && from != "" {
		// A URL init put there is not on any line of the config: name where it came from.
		for i := range ps {
			if ps[i].Path == "git.repoURL" {
				ps[i].File, ps[i].Line = from, 0
			}
		}
		return nil, nil, ps
	}
	if err != nil {
		return nil, nil, err
	}
	return l, data, nil
}

// cmpOr returns the first non-nil error.
func cmpOr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// MaxConfigSize bounds a config file: a real one is a few KiB.
const MaxConfigSize = 1 << 20

// FetchTimeout bounds the download of a remote config or schema.
const FetchTimeout = 60 * time.Second

// shownSource is how messages name a source: a remote one without its credentials.
func shownSource(src string) string {
	if fetch.IsRemote(src) {
		return fetch.Redact(src)
	}
	return src
}

// readSource reads a local file, or a remote source through go-getter (cmp-plugin, which never
// fetches anything, does not link this package).
func readSource(ctx context.Context, src string, limit int64) ([]byte, error) {
	if fetch.IsRemote(src) {
		return fetch.File(ctx, src, fetch.Options{MaxBytes: limit, Timeout: FetchTimeout})
	}
	return generate.ReadLimited(src, limit)
}

// ScaffoldOptions says which config to scaffold and where the fork's repository is.
type ScaffoldOptions struct {
	Config string    // a config file or URL, "-" for Stdin; "" for the embedded default
	Stdin  io.Reader // read when Config is "-"
	// RepoURL replaces the config's git.repoURL (init --repo-url). Origin is used only when
	// neither gives one: the target clone's origin remote for init; OriginName says so in
	// messages.
	RepoURL, Origin, OriginName string
}

// repoURL is the URL to write into the config and where it comes from, or "" to leave the
// config as it is.
func (o ScaffoldOptions) repoURL(inConfig string) (url, from string) {
	switch {
	case o.RepoURL != "":
		return o.RepoURL, "--repo-url"
	case inConfig == "" && o.Origin != "":
		return o.Origin, cmp.Or(o.OriginName, "the origin remote")
	}
	return "", ""
}

// Scaffold builds the fork for a config file (or the embedded default) in memory.
func Scaffold(ctx context.Context, o ScaffoldOptions) (*config.Loaded, render.Tree, error) {
	l, data, err := loadConfig(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	t, err := render.Scaffold(l, data, patterngen.Assets())
	if err != nil {
		return nil, nil, err
	}
	return l, t, nil
}

// InitOptions says what init writes where.
type InitOptions struct {
	Config, Dir string
	Stdin       io.Reader // the config when Config is "-"
	RepoURL     string    // --repo-url: replaces the config's git.repoURL
	Force       bool      // overwrite generated files that are not committed unchanged in git
	// Logf reports what init decided for the user (where the repository URL came from).
	Logf func(format string, args ...any)
}

// InitResult is what init wrote and removed.
type InitResult struct {
	Written int
	Removed []string // files an earlier init generated that this one does not, unedited
}

// Init writes the fork of a config into dir and says what it wrote. The fork's
// repository URL comes from --repo-url, else the config, else dir's origin remote when dir is
// a clone (the natural flow: create the repository, clone it, init in it).
func Init(ctx context.Context, o InitOptions) (*InitResult, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	so := ScaffoldOptions{Config: o.Config, Stdin: o.Stdin, RepoURL: o.RepoURL}
	repo := cloneOf(o.Dir)
	stripped := false
	if repo != nil {
		if origin, err := repo.RemoteURL("origin"); err == nil && origin != "" {
			so.Origin, stripped = config.WithoutCredentials(origin)
			so.OriginName = "the origin remote of " + o.Dir + " (or pass --repo-url)"
		}
	}
	l, t, err := Scaffold(ctx, so)
	if err != nil {
		return nil, err
	}
	if o.RepoURL == "" && so.Origin != "" && l.Pattern.Git.RepoURL == so.Origin {
		logf("git.repoURL: %s (the origin remote of %s)", so.Origin, o.Dir)
		if stripped {
			logf("the origin remote's URL carries credentials; the fork names it without them (give Argo CD a repository Secret)")
		}
	}
	if err := context.Cause(ctx); err != nil { // stopped while fetching: write nothing
		return nil, err
	}
	lockData, err := lockFor(t, t[render.ConfigFile])
	if err != nil {
		return nil, err
	}
	t[forklock.File] = lockData
	target := initTarget{dir: o.Dir, repo: repo, tree: t, force: o.Force}
	if st, err := os.Lstat(o.Dir); err == nil && st.IsDir() { // else the tree writer says what is wrong
		if target.lock, err = readLock(o.Dir); err != nil {
			return nil, err
		}
	}
	remove, err := target.check()
	if err != nil {
		return nil, err
	}
	if err := treewriter.Update(o.Dir, t, remove); err != nil {
		return nil, err
	}
	return &InitResult{Written: len(t), Removed: remove}, nil
}

// PreviewRepoURL stands for the fork's repository when a config without git.repoURL is
// rendered (never written to a fork): .invalid is reserved and resolves nowhere (RFC 2606).
const PreviewRepoURL = "https://fork.invalid/repository-url-not-set.git"

// Source says what to render: a fork on disk, or the fork a config (or the default) scaffolds.
// Env stands in for the plugin env and parameters of the Applications (offline, no cluster).
type Source struct {
	Fork   string
	Config string
	Env    config.PluginEnv
	Group  string // only this clusterGroup; "" for every one
	// Chart says where the clustergroup chart comes from: its objects are rendered for the
	// hub's clusterGroup as application clustergroup.
	Chart ChartOptions
	Logf  func(format string, args ...any) // notes for the user; may be nil
}

// Rendered is a render's result in both output forms.
type Rendered struct {
	Applications []render.App
	Objects      int
	Groups       []string          // the clusterGroups rendered, in order
	Stream       []byte            // one YAML stream
	Files        map[string][]byte // <group>/<app>/<object file>
	// NotShown are the folders (<group>/clustergroup/) of the clustergroup chart when it could
	// not be had: a committed render keeps them as they are, and a check passes over them.
	NotShown []string
	// Chart is the clustergroup chart rendered, nil when none was.
	Chart *review.ChartRef
}

// Render renders every application of the source offline.
func Render(ctx context.Context, src Source) (*Rendered, error) {
	var t render.Tree
	if src.Fork != "" {
		var err error
		if t, err = generate.ReadFork(src.Fork); err != nil {
			return nil, err
		}
	} else {
		// The repository URL changes no rendered object: a config without one renders too.
		_, tree, err := Scaffold(ctx, ScaffoldOptions{Config: src.Config, Origin: PreviewRepoURL})
		if err != nil {
			return nil, err
		}
		t = tree
	}
	charts, err := openChartSource(ctx, src.Chart, src.Logf)
	if err != nil {
		return nil, err
	}
	res, err := renderGroups(ctx, t, src.Env, src.Group, charts)
	if err != nil && src.Fork != "" {
		return nil, fmt.Errorf("fork %s: %w", src.Fork, err)
	}
	return res, err
}

// RenderTree renders every application of every clusterGroup of a fork tree offline: plugin
// applications as cmp-plugin would, with what only the cluster knows left as placeholders.
func RenderTree(t render.Tree, env config.PluginEnv) (*Rendered, error) {
	return renderGroups(context.Background(), t, env, "", nil)
}

// renderGroups is RenderTree for one clusterGroup only, or every one when only is "".
func renderGroups(ctx context.Context, t render.Tree, env config.PluginEnv, only string, charts *chartSource) (*Rendered, error) {
	patterns, err := render.ReadPatterns(t)
	if err != nil {
		return nil, err
	}
	all := patterns
	if only != "" {
		p, err := render.SelectGroup(patterns, only)
		if err != nil {
			return nil, err
		}
		patterns = []*render.Pattern{p}
	}
	var chart *clusterGroupChart
	if charts != nil {
		chart, err = charts.forTree(ctx, t, all, "the fork")
		if errors.Is(err, chartrepo.ErrUnavailable) {
			charts.logf("%s", unavailableNote(err))
		} else if err != nil {
			return nil, err
		}
	}
	res, err := renderPatterns(t, patterns, env)
	if err != nil || charts == nil {
		return res, err
	}
	if chart == nil {
		for _, p := range patterns {
			res.NotShown = append(res.NotShown, p.ClusterGroup+"/"+render.ClusterGroupAppName+"/")
		}
		return res, nil
	}
	lead, err := clusterGroupChartApps(t, all, patterns, env, chart)
	if err != nil {
		return nil, err
	}
	if res, err = assemble(append(lead, res.Applications...)); err == nil {
		res.Chart = &chart.ref
	}
	return res, err
}

// renderPatterns renders the applications of the given clusterGroups of t.
func renderPatterns(t render.Tree, patterns []*render.Pattern, env config.PluginEnv) (*Rendered, error) {
	var apps []render.App
	for _, p := range patterns {
		r, err := generate.NewRenderer(generate.RendererOptions{Tree: t, Pattern: p, Env: env})
		if err != nil {
			return nil, err
		}
		for _, plan := range r.Plans() {
			if plan.Name == render.ClusterGroupAppName {
				return nil, fmt.Errorf("clusterGroup %s: application %s: render and diff show the clustergroup chart's objects under that name; rename the application", p.ClusterGroup, plan.Name)
			}
			objs, err := r.RenderApp(plan) // sorted by RenderApp; injection keeps the order
			if err != nil {
				return nil, err
			}
			apps = append(apps, render.App{Plan: plan, Objects: objs})
		}
	}
	return assemble(apps)
}

// assemble encodes every object once, into its file and into the stream; applications come
// grouped by clusterGroup, as renderPatterns produces them.
func assemble(apps []render.App) (*Rendered, error) {
	res := &Rendered{Applications: apps, Files: map[string][]byte{}}
	parts := map[string][]byte{} // clusterGroup -> its part of the stream
	for _, app := range apps {
		g := app.Plan.Group
		if !slices.Contains(res.Groups, g) {
			res.Groups = append(res.Groups, g)
		}
		for _, o := range app.Objects {
			name := app.Plan.ObjectPath(o)
			if _, dup := res.Files[name]; dup {
				return nil, fmt.Errorf("clusterGroup %s, application %s: two objects render to %s (%s); give them distinct names", g, app.Plan.Name, name, o.ID())
			}
			data, err := manifest.Encode(o)
			if err != nil {
				return nil, err
			}
			res.Files[name] = data
			res.Objects++
			parts[g] = append(append(parts[g], manifest.Separator...), data...)
		}
	}
	for _, g := range res.Groups {
		if len(res.Groups) > 1 {
			// One stream for several clusterGroups: say which clusters each part is for.
			res.Stream = append(res.Stream, "# clusterGroup "+g+": apply on its clusters only\n"...)
		}
		res.Stream = append(res.Stream, parts[g]...)
	}
	return res, nil
}

// WriteRendered writes one file per object into dir, replacing an earlier render there.
func WriteRendered(dir string, res *Rendered) error {
	files := make(map[string][]byte, len(res.Files)+1)
	for k, v := range res.Files {
		files[k] = v
	}
	files[treewriter.Marker] = []byte("# Written by pattern-gen render; the whole directory is replaced on every render.\n")
	if len(res.NotShown) > 0 {
		kept, err := readRendered(dir, func(name string) bool { return notShown(name, res.NotShown) })
		if err != nil {
			return err
		}
		maps.Copy(files, kept)
	}
	return treewriter.Write(dir, files, treewriter.Replace)
}

// readRendered reads the files of a committed render in dir that want wants (none when dir is
// missing).
func readRendered(dir string, want func(name string) bool) (map[string][]byte, error) {
	out := map[string][]byte{}
	if _, err := os.Stat(dir); err != nil {
		return out, nil
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == treewriter.Marker || !want(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		out[rel] = data
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return out, nil
}

// notShown says whether a render's file is under one of the folders not rendered.
func notShown(name string, folders []string) bool {
	return slices.ContainsFunc(folders, func(f string) bool { return strings.HasPrefix(name, f) })
}

// CheckRendered compares a committed render in dir with res and returns a report of what is
// stale (empty when dir is up to date): files to add, to remove and that differ, with diffs.
func CheckRendered(dir string, res *Rendered) (string, error) {
	onDisk, err := readRendered(dir, func(name string) bool { return !notShown(name, res.NotShown) })
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(res.Files)+len(onDisk))
	for n := range res.Files {
		names = append(names, n)
	}
	for n := range onDisk {
		if _, ok := res.Files[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		want, rendered := res.Files[n]
		got, committed := onDisk[n]
		switch {
		case !committed:
			fmt.Fprintf(&b, "+ %s (rendered, not committed)\n", n)
		case !rendered:
			fmt.Fprintf(&b, "- %s (committed, no longer rendered)\n", n)
		case !bytes.Equal(want, got):
			fmt.Fprintf(&b, "~ %s\n%s", n, textdiff.Unified(filepath.Join(dir, n), "rendered", string(got), string(want), 3))
		}
	}
	return b.String(), nil
}

// ReadPatternOf reads clusterGroup group of the fork in dir (render.Select's rule: "" is the
// main one) from its values files and config alone.
func ReadPatternOf(dir, group string) (*render.Pattern, error) {
	t, err := forkValues(dir)
	if err != nil {
		return nil, err
	}
	p, err := render.Select(t, group)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", dir, err)
	}
	return p, nil
}

// forkValues reads only what the clusterGroups and their applications are read from: the
// fork's top-level values files (values-*.yaml) and its config.
func forkValues(dir string) (render.Tree, error) {
	f, err := generate.OpenForkTop(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, generate.NotAFork(dir)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	for _, name := range f.FilesUnder(".") {
		if strings.HasPrefix(name, "values-") && strings.HasSuffix(name, ".yaml") || name == render.ConfigFile {
			names = append(names, name)
		}
	}
	t := render.Tree{}
	if err := f.Load(t, names...); err != nil {
		return nil, fmt.Errorf("fork %s: %w", dir, err)
	}
	return t, nil
}

// valuesPatterns reads the clusterGroups of the fork in dir from its values files alone.
func valuesPatterns(dir string) ([]*render.Pattern, error) {
	t, err := forkValues(dir)
	if err != nil {
		return nil, err
	}
	return render.ReadPatterns(t)
}

// ClusterGroups lists the clusterGroups of the fork in dir, hub first (shell completion).
func ClusterGroups(dir string) ([]string, error) {
	patterns, err := valuesPatterns(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(patterns))
	for i, p := range patterns {
		out[i] = p.ClusterGroup
	}
	return out, nil
}

// ApplicationNames lists the Argo CD applications of a clusterGroup of the fork in dir (the
// hub's when group is ""), as the clustergroup chart names them, without disabled ones (shell
// completion).
func ApplicationNames(dir, group string) ([]string, error) {
	p, err := ReadPatternOf(dir, group)
	if err != nil {
		return nil, err
	}
	var out []string
	named, _ := entries(p.Dig("clusterGroup", "applications"))
	for key, spec := range named {
		m, _ := spec.(map[string]any)
		if disabled, _ := m["disabled"].(bool); disabled {
			continue
		}
		if n, ok := m["name"].(string); ok && n != "" {
			key = n
		}
		out = append(out, key)
	}
	slices.Sort(out)
	return out, nil
}
