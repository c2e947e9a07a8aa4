package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// helmChartFiles lists the files of a chart directory (paths relative to it) the way
// `helm template <dir>` reads them (loader.LoadDir): without the files the chart's .helmignore
// and Helm's default rule (`templates/.?*`) exclude, a directory rule excluding everything below
// it, and with a leading UTF-8 byte order mark removed.
func helmChartFiles(dir string, chartFiles Tree) ([]*loader.BufferedFile, error) {
	rules := ignore.Empty()
	if data, ok := chartFiles[ignore.HelmIgnore]; ok {
		r, err := ignore.Parse(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w; fix the pattern (Helm's ignore rules have no **)", path.Join(dir, ignore.HelmIgnore), err)
		}
		rules = r
	}
	rules.AddDefaults()
	files := make([]*loader.BufferedFile, 0, len(chartFiles))
	for _, p := range chartFiles.Paths() {
		if helmIgnored(rules, p) {
			continue
		}
		files = append(files, &loader.BufferedFile{Name: p, Data: bytes.TrimPrefix(chartFiles[p], utf8BOM)})
	}
	return files, nil
}

// helmIgnored tells whether LoadDir's walk would skip p: a rule matches one of its directories
// (the walk then skips the whole directory) or the file itself.
func helmIgnored(rules *ignore.Rules, p string) bool {
	for i := range len(p) {
		if p[i] == '/' && rules.Ignore(p[:i], entryInfo{name: path.Base(p[:i]), dir: true}) {
			return true
		}
	}
	return rules.Ignore(p, entryInfo{name: path.Base(p)})
}

// entryInfo is the little of fs.FileInfo that ignore rules look at: whether the entry is a
// directory.
type entryInfo struct {
	name string
	dir  bool
}

func (e entryInfo) Name() string { return e.name }
func (e entryInfo) Size() int64  { return 0 }
func (e entryInfo) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (e entryInfo) ModTime() time.Time { return time.Time{} }
func (e entryInfo) IsDir() bool        { return e.dir }
func (e entryInfo) Sys() any           { return nil }

// checkDependencies fails as `helm template` does (action.CheckDependencies, which cmp-plugin
// must not link) when Chart.yaml lists a dependency that charts/ does not hold. Helm checks the
// chart it is given only, not its subcharts.
func checkDependencies(dir string, ch *chart.Chart) error {
	var missing []string
	for _, r := range ch.Metadata.Dependencies {
		if r == nil {
			continue
		}
		found := false
		for _, d := range ch.Dependencies() {
			if d.Name() == r.Name {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, r.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: found in Chart.yaml, but missing in charts/ directory: %s; run `helm dependency build %s` and commit what it puts in charts/",
		path.Join(dir, "Chart.yaml"), strings.Join(missing, ", "), dir)
}
