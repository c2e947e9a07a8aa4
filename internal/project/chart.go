package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/chartrepo"
	"github.com/pattern-gen/pattern-gen/internal/fetch"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/review"
)

// ChartOptions say where render and diff take the clustergroup chart from.
type ChartOptions struct {
	// Source is a chart folder, or the https:// URL of a chart repository (its index resolves
	// the version each side of the fork pins) or of a chart archive (.tgz); "" or "none"
	// renders no chart, and shows the values its objects come from instead.
	Source string
	// Offline never reaches the network: a repository's chart comes from the cache or not at all.
	Offline bool
	// CacheDir keeps the indexes and archives; "" = DefaultChartCache().
	CacheDir string
	// Transport carries the requests; nil = the environment's proxy and the system's
	// certificate authorities (tests give one that trusts their server).
	Transport *http.Transport
}

// NoChart is the --clustergroup-chart value that renders no chart.
const NoChart = "none"

// DefaultChartCache is <user cache directory>/pattern-gen/charts, beside the schemas; "" when
// there is no user cache directory (then nothing is kept).
func DefaultChartCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "pattern-gen", "charts")
}

// clusterGroupChart is the chart one side of a fork is rendered with, and what review shows of it.
type clusterGroupChart struct {
	files render.Tree
	ref   review.ChartRef
	cr    render.PatternCR // the fork's Pattern resource, read once with the pin
}

// chartSource gives each fork tree the clustergroup chart it pins.
type chartSource struct {
	o     ChartOptions
	logf  func(format string, args ...any)
	fixed *clusterGroupChart // a folder or an archive: every tree gets it
	repo  *chartrepo.Repo
	said  map[string]bool // notes already given
}

// openChartSource reads a chart folder or fetches an archive now, or opens a repository whose
// charts each tree resolves later; nil for no chart. A chart that cannot be had (offline, not
// reachable) is a note and no chart, not an error.
func openChartSource(ctx context.Context, o ChartOptions, logf func(format string, args ...any)) (*chartSource, error) {
	if o.Source == "" || o.Source == NoChart {
		return nil, nil
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s := &chartSource{o: o, logf: logf, said: map[string]bool{}}
	ro := chartrepo.Options{Dir: o.CacheDir, Offline: o.Offline, Transport: o.Transport, Logf: logf}
	if ro.Dir == "" {
		ro.Dir = DefaultChartCache()
	}
	switch {
	case strings.HasPrefix(o.Source, "https://") && strings.HasSuffix(strings.SplitN(o.Source, "?", 2)[0], ".tgz"):
		c, err := chartrepo.Archive(ctx, o.Source, ro)
		if errors.Is(err, chartrepo.ErrUnavailable) {
			logf("%s", unavailableNote(err))
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("--clustergroup-chart: %w", err)
		}
		if s.fixed, err = s.unpacked(render.Tree(c.Files), review.ChartRef{Version: c.Version, Digest: c.Digest, Source: c.Source}); err != nil {
			return nil, err
		}
	case strings.Contains(o.Source, "://"):
		r, err := chartrepo.Open(o.Source, ro)
		if err != nil {
			return nil, fmt.Errorf("--clustergroup-chart: %w; or name a chart folder", err)
		}
		s.repo = r
	default:
		files, missing, err := ReadClusterGroupChart(o.Source)
		if err != nil {
			return nil, err
		}
		s.noteMissing(o.Source, missing)
		s.fixed = &clusterGroupChart{files: files, ref: review.ChartRef{Version: chartVersion(files), Source: o.Source}}
	}
	return s, nil
}

// forTree is the chart t is rendered with: the fixed one, or the release of the repository
// that the version t pins resolves to. Unavailable is chartrepo.ErrUnavailable.
func (s *chartSource) forTree(ctx context.Context, t render.Tree, patterns []*render.Pattern, label string) (*clusterGroupChart, error) {
	pin, cr := chartPin(t, patterns)
	// The fork's own chart location is only named, never fetched: the repository is the user's.
	switch {
	case cr.ClusterGroupGitRepoURL != "":
		s.note("the Pattern resource takes the clustergroup chart from git, %q; pattern-gen renders %s instead (pass --clustergroup-chart DIR with a checkout of it)", fetch.Redact(cr.ClusterGroupGitRepoURL), s.describe())
	case cr.HelmRepoURL != "" && s.repo != nil && !s.repo.Same(cr.HelmRepoURL):
		s.note("the Pattern resource takes the clustergroup chart from %q; pattern-gen reads it from %s (pass --clustergroup-chart URL to read it from there)", fetch.Redact(cr.HelmRepoURL), s.repo.URL())
	}
	if len(cr.ExtraParameters) > 0 {
		s.note("the Pattern's extraParameters reach the clustergroup chart and its Applications' parameters; the applications rendered here from the fork's charts do not take them")
	}
	if s.fixed != nil {
		c := *s.fixed
		c.ref.Pin, c.cr = pin, cr
		if !satisfies(c.ref.Version, pin) {
			s.note("%s pins clustergroup chart %q; it is rendered with %s %s all the same", label, pin, c.ref.Source, c.ref.Version)
		}
		return &c, nil
	}
	c, err := s.repo.Resolve(ctx, "clustergroup", pin)
	if err != nil {
		return nil, fmt.Errorf("%s pins clustergroup chart %q: %w", label, pin, err)
	}
	out, err := s.unpacked(render.Tree(c.Files), review.ChartRef{Pin: pin, Version: c.Version, Digest: c.Digest, Source: c.Source})
	if out != nil {
		out.cr = cr
	}
	return out, err
}

// describe names where the chart comes from.
func (s *chartSource) describe() string {
	if s.repo != nil {
		return "the release in " + s.repo.URL()
	}
	return s.fixed.ref.Source
}

// unpacked checks a chart archive's files are the clustergroup chart's, and leaves out the
// dependencies it does not hold.
func (s *chartSource) unpacked(files render.Tree, ref review.ChartRef) (*clusterGroupChart, error) {
	chart, missing, err := dropMissingDependencies(files)
	if err != nil {
		return nil, fmt.Errorf("clustergroup chart %s: Chart.yaml: %w", ref.Source, err)
	}
	files["Chart.yaml"] = chart
	s.noteMissing(ref.Source, missing)
	return &clusterGroupChart{files: files, ref: ref}, nil
}

func (s *chartSource) noteMissing(source string, missing []string) {
	if len(missing) > 0 {
		s.note("the clustergroup chart %s has no %s in charts/: the objects of those dependencies are not shown", source, strings.Join(missing, ", "))
	}
}

// note says something once.
func (s *chartSource) note(format string, args ...any) {
	msg := fmt.Sprintf("note: "+format, args...)
	if !s.said[msg] {
		s.said[msg] = true
		s.logf("%s", msg)
	}
}

// unavailableNote is the one line render and diff give when the chart cannot be had: what is
// not shown, why, and how to supply it.
func unavailableNote(err error) string {
	return fmt.Sprintf("note: the clustergroup chart's objects are not shown, only the values they come from: %v; supply the chart with --clustergroup-chart DIR or a reachable repository (--clustergroup-chart none silences this)", err)
}

// chartPin is the clustergroup chart version (or range) a fork pins, as the patterns operator
// reads it: the Pattern resource's multiSourceConfig.clusterGroupChartVersion, else the hub's
// main.multiSourceConfig.clusterGroupChartVersion (VP's pattern-install chart copies it from
// values-global.yaml into the Pattern), else the operator's default.
func chartPin(t render.Tree, patterns []*render.Pattern) (string, render.PatternCR) {
	cr := patternCR(t)
	if cr.ClusterGroupChartVersion != "" {
		return cr.ClusterGroupChartVersion, cr
	}
	for _, p := range patterns {
		if v, ok := p.Dig("main", "multiSourceConfig", "clusterGroupChartVersion").(string); ok && v != "" && !p.Spoke() {
			return v, cr
		}
	}
	return render.DefaultClusterGroupChartVersion, cr
}

// satisfies says whether version is allowed by the constraint pin (unknown: yes).
func satisfies(version, pin string) bool {
	v, err := semver.NewVersion(version)
	if err != nil {
		return true
	}
	c, err := semver.NewConstraint(pin)
	return err != nil || c.Check(v)
}

// chartVersion is the version Chart.yaml gives.
func chartVersion(files render.Tree) string {
	var meta struct {
		Version string `yaml:"version"`
	}
	_ = yaml.Unmarshal(files["Chart.yaml"], &meta)
	return meta.Version
}

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
