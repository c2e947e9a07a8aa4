// Package chartrepo resolves the clustergroup chart a fork pins in a Helm chart repository (the
// Validated Patterns one by default) with Helm's own repository and getter code, to one version
// and the archive's digest, and keeps indexes and archives under the user cache directory, so
// that render and diff show the chart's objects, offline once it is cached.
//
// Only pattern-gen links it: cmp-plugin never reaches the network. The repository URL is the
// user's (a flag, an environment variable or the default), never one a fork names; a fork only
// chooses which of that repository's releases its range selects.
package chartrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/pattern-gen/pattern-gen/internal/atomicfile"
	"github.com/pattern-gen/pattern-gen/internal/fetch"
)

// ErrUnavailable is what errors.Is finds in the error for a chart that is neither cached nor
// fetched (offline, or the repository unreachable): render and diff go on without the chart's
// objects.
var ErrUnavailable = errors.New("chart unavailable")

// unavailable is an ErrUnavailable whose text says why, and only that.
type unavailable struct{ msg string }

func (u unavailable) Error() string        { return u.msg }
func (u unavailable) Is(target error) bool { return target == ErrUnavailable }

func unavailablef(format string, args ...any) error {
	return unavailable{msg: fmt.Sprintf(format, args...)}
}

// DefaultTimeout bounds each request.
const DefaultTimeout = 60 * time.Second

// maxResponseBytes bounds what one connection may read: an index or an archive. The Validated
// Patterns index is a few MiB, the clustergroup chart's archive under 100 KiB. A variable for
// the test of the bound.
var maxResponseBytes int64 = 64 << 20

// Options say where charts are kept and whether the network may be used.
type Options struct {
	// Dir keeps the repositories' indexes and the archives; "" keeps nothing.
	Dir string
	// Offline never reaches the network: only what Dir holds is used.
	Offline bool
	// Transport carries the requests; nil is one with the proxy of the environment
	// (HTTPS_PROXY, NO_PROXY) and the system's certificate authorities.
	Transport *http.Transport
	Timeout   time.Duration // of each request; 0 = DefaultTimeout
	// Logf says when a cached index stands in for one that could not be fetched; may be nil.
	Logf func(format string, args ...any)
}

// Chart is a chart resolved to one archive.
type Chart struct {
	Name    string
	Version string
	Digest  string // sha256:<hex> of the archive
	Source  string // the archive's URL, secrets redacted
	// Files are the archive's files, relative to the chart's folder (Chart.yaml, templates/...).
	Files map[string][]byte
}

// Repo is one chart repository. Its index is read once and shared by every Resolve.
type Repo struct {
	url        string // without userinfo
	shown      string // url with its secrets redacted, for messages
	user, pass string
	o          Options
	index      *repo.IndexFile
	indexErr   error
}

// Open checks a repository URL: https only (credentials in it are sent to its host only, as
// Helm does, and never printed).
func Open(rawURL string, o Options) (*Repo, error) {
	shown := fetch.Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" {
		return nil, fmt.Errorf("chart repository %s: not an https:// URL; give the repository's URL (the folder of its index.yaml)", shown)
	}
	r := &Repo{shown: shown, o: o}
	if u.User != nil {
		r.user = u.User.Username()
		r.pass, _ = u.User.Password()
		u.User = nil
		if r.user == "" || r.pass == "" { // Helm sends basic auth only with both
			return nil, fmt.Errorf("chart repository %s: credentials in the URL need a user and a password (user:password@host)", shown)
		}
	}
	r.url = u.String()
	if r.o.Timeout == 0 {
		r.o.Timeout = DefaultTimeout
	}
	return r, nil
}

// Same says whether u names this repository, credentials and a trailing slash aside.
func (r *Repo) Same(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	p.User = nil
	return strings.TrimSuffix(p.String(), "/") == strings.TrimSuffix(r.url, "/")
}

// URL is the repository's URL as it may be shown.
func (r *Repo) URL() string { return r.shown }

// Resolve picks the newest release of name that constraint (a version or a range such as
// 0.9.*) allows, as Argo CD picks a Helm chart's targetRevision, and returns its archive,
// checked against the index's digest.
func (r *Repo) Resolve(ctx context.Context, name, constraint string) (*Chart, error) {
	if _, err := semver.NewConstraint(constraint); err != nil {
		return nil, fmt.Errorf("chart version %q is not a version or a range (%v); pin one such as 0.9.55 or 0.9.*", constraint, err)
	}
	idx, err := r.loadIndex(ctx)
	if err != nil {
		return nil, err
	}
	cv, err := idx.Get(name, constraint)
	if err != nil {
		return nil, fmt.Errorf("no release of %s in %s satisfies %q (it has %s); pin one it has", name, r.shown, constraint, releases(idx, name))
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("%s %s in %s: the index gives no URL for it", name, cv.Version, r.shown)
	}
	hexDigest, ok := strings.CutPrefix(cv.Digest, "sha256:")
	if !ok {
		hexDigest = cv.Digest
	}
	if !isSHA256(hexDigest) {
		return nil, fmt.Errorf("%s %s in %s: the index gives no SHA-256 digest for it (%q), so its archive cannot be checked; pass --clustergroup-chart DIR", name, cv.Version, r.shown, cv.Digest)
	}
	ref, err := repo.ResolveReferenceURL(r.url, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("%s %s in %s: %w", name, cv.Version, r.shown, fetch.RedactError(cv.URLs[0], err))
	}
	data, err := r.archive(ctx, ref, hexDigest)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, cv.Version, err)
	}
	return load(data, name, cv.Version, fetch.Redact(ref))
}

// releases lists the newest versions of name an index has, for an error message.
func releases(idx *repo.IndexFile, name string) string {
	var vs []string
	for _, cv := range idx.Entries[name] {
		if len(vs) == 5 {
			vs = append(vs, "...")
			break
		}
		vs = append(vs, cv.Version)
	}
	if len(vs) == 0 {
		return "no " + name
	}
	return strings.Join(vs, ", ")
}

// loadIndex returns the repository's index, read once per run: fetched, or the cached copy when
// offline or when the repository cannot be reached. Online it is always fetched, even for an
// exact version: a cached index someone changed is replaced on the next online run. An answer that is an error (a 404, a certificate that does
// not verify, an index that does not read) is an error: the URL or the trust is wrong.
func (r *Repo) loadIndex(ctx context.Context) (*repo.IndexFile, error) {
	if r.index != nil || r.indexErr != nil {
		return r.index, r.indexErr
	}
	if r.o.Offline {
		cached, why := r.cachedIndex()
		if cached == nil {
			r.indexErr = unavailablef("the index of %s is not cached (%s), and --offline is set", r.shown, why)
		}
		r.index = cached
		return r.index, r.indexErr
	}
	idx, err := r.fetchIndex(ctx)
	var re *requestError
	if err == nil {
		r.index = idx
		return idx, nil
	}
	if !errors.As(err, &re) || !re.unreachable {
		r.indexErr = fmt.Errorf("chart repository %s: %w", r.shown, err)
		return nil, r.indexErr
	}
	cached, _ := r.cachedIndex()
	if cached == nil {
		r.indexErr = unavailablef("%s could not be reached (%v), and its index is not cached", r.shown, err)
		return nil, r.indexErr
	}
	if r.o.Logf != nil {
		r.o.Logf("note: %s could not be reached (%v); its index cached at %s stands in", r.shown, err, r.indexPath())
	}
	r.index = cached
	return r.index, r.indexErr
}

// indexPath is where the cache keeps the repository's index: named by the host and a digest
// of the URL, so that two repositories never share one.
func (r *Repo) indexPath() string {
	if r.o.Dir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(r.url))
	host := strings.Map(func(c rune) rune {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' {
			return c
		}
		return '_'
	}, strings.ToLower(hostOf(r.url)))
	return filepath.Join(r.o.Dir, "index", host+"-"+hex.EncodeToString(sum[:8])+".yaml")
}

func hostOf(u string) string {
	p, _ := url.Parse(u)
	if p == nil {
		return ""
	}
	return p.Host
}

// cachedIndex reads the cached index; the error says why there is none.
func (r *Repo) cachedIndex() (*repo.IndexFile, error) {
	p := r.indexPath()
	if p == "" {
		return nil, errors.New("no cache folder")
	}
	idx, err := r.loadIndexFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no %s", p)
	case err != nil:
		return nil, fmt.Errorf("%s does not read: %v", p, err)
	}
	return idx, nil
}

// fetchIndex downloads index.yaml with Helm's ChartRepository into a temporary folder, loads
// it as Helm does, then keeps it in the cache.
func (r *Repo) fetchIndex(ctx context.Context) (*repo.IndexFile, error) {
	tmp, err := os.MkdirTemp("", "pattern-gen-index-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cr, err := repo.NewChartRepository(&repo.Entry{Name: "repository", URL: r.url, Username: r.user, Password: r.pass}, r.providers(ctx))
	if err != nil {
		return nil, fetch.RedactError(r.url, err)
	}
	cr.CachePath = tmp
	var p string
	quietly(func() { p, err = cr.DownloadIndexFile() }) // loadIndexFile below says what it skips
	if err != nil {
		return nil, r.requestError(ctx, err)
	}
	idx, err := r.loadIndexFile(p)
	if err != nil {
		return nil, fmt.Errorf("its index.yaml does not read: %w", fetch.RedactError(r.url, err))
	}
	if dst := r.indexPath(); dst != "" {
		if data, err := os.ReadFile(p); err == nil {
			r.keep(dst, data)
		}
	}
	return idx, nil
}

// logMu serialises the swap of the standard logger's output in quietly.
var logMu sync.Mutex

// quietly runs f with the standard logger's output captured and returns it. Helm reports each
// index entry it skips as invalid through the standard logger, naming the index's source (a
// URL, with its token) and a temporary path: that text must not reach stderr.
func quietly(f func()) []byte {
	logMu.Lock()
	defer logMu.Unlock()
	var out bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&out)
	defer log.SetOutput(prev)
	f()
	return out.Bytes()
}

// loadIndexFile loads an index as Helm does (repo.LoadIndexFile), with a note counting the
// entries it skips instead of Helm's log lines.
func (r *Repo) loadIndexFile(p string) (*repo.IndexFile, error) {
	var idx *repo.IndexFile
	var err error
	logged := quietly(func() { idx, err = repo.LoadIndexFile(p) })
	if n := bytes.Count(logged, []byte("skipping loading invalid entry")); n > 0 && r.o.Logf != nil {
		r.o.Logf("note: the index of %s has %d entries Helm skips as invalid", r.shown, n)
	}
	return idx, err
}

// requestError is a failed request in one line, without the URL's secrets; unreachable says
// whether it failed before any answer (see unreachable).
type requestError struct {
	msg         string
	unreachable bool
}

func (e *requestError) Error() string { return e.msg }

// requestError describes a failed request: a timeout says so.
func (r *Repo) requestError(ctx context.Context, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || ctx.Err() != nil {
		return &requestError{msg: fmt.Sprintf("no answer within %s", r.o.Timeout), unreachable: true}
	}
	// net/http's error repeats the method and URL; the cause is what is new.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := fetch.RedactError(r.url, err).Error()
	if len(r.pass) >= 4 { // fetch.RedactError has redacted it in URLs; this is for other text
		msg = strings.ReplaceAll(msg, r.pass, "REDACTED")
	}
	return &requestError{msg: strings.Join(strings.Fields(msg), " "), unreachable: unreachable(err)}
}

// serverErrorRE matches the status of a 5xx answer in the error of Helm's HTTPGetter
// ("failed to fetch <url> : 503 Service Unavailable").
var serverErrorRE = regexp.MustCompile(` : 5[0-9][0-9] [^:]*$`)

// unreachable says whether a request failed before any answer: no address, no connection, or
// a server error (5xx), or a proxy's 5xx answer to CONNECT for a host it cannot reach. A 4xx answer or a
// certificate that does not verify is an answer: the URL or the trust is wrong.
func unreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	var proxy *proxyError
	switch {
	case errors.As(err, &dns), errors.As(err, &proxy):
		return true
	case errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect"):
		return true
	}
	return serverErrorRE.MatchString(err.Error())
}

// keep writes data to the cache; a cache that cannot keep it is said, not fatal.
func (r *Repo) keep(dst string, data []byte) {
	if err := atomicfile.Write(dst, data, 0o644, 0o755); err != nil && r.o.Logf != nil {
		r.o.Logf("note: the chart cache %s cannot keep %s (%v): every run fetches it again", r.o.Dir, filepath.Base(dst), err)
	}
}

// archivePath is where the cache keeps an archive: under its SHA-256 (lower-case hex).
func archivePath(dir, hexDigest string) string {
	return filepath.Join(dir, "sha256-"+strings.ToLower(hexDigest)+".tgz")
}

// archive returns the archive at ref whose SHA-256 the index gives: from the cache, or
// downloaded, checked and cached. A cached archive that does not match is an error, not
// fetched again silently: someone changed the cache.
func (r *Repo) archive(ctx context.Context, ref, hexDigest string) ([]byte, error) {
	hexDigest = strings.ToLower(hexDigest)
	if r.o.Dir != "" {
		p := archivePath(r.o.Dir, hexDigest)
		data, err := os.ReadFile(p)
		switch {
		case err == nil && digestOf(data) == hexDigest:
			return data, nil
		case err == nil:
			return nil, fmt.Errorf("the cached archive %s has SHA-256 %s, not the index's %s; remove it to fetch it again", p, digestOf(data), hexDigest)
		}
		// Any other read error (missing, a file where a folder should be) is a miss.
	}
	if r.o.Offline {
		return nil, unavailablef("its archive is not cached (%s), and --offline is set", r.o.Dir)
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("its archive %s is not an https:// URL; pass --clustergroup-chart DIR", fetch.Redact(ref))
	}
	data, err := r.get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if got := digestOf(data); got != hexDigest {
		return nil, fmt.Errorf("%s has SHA-256 %s, not the %s the index of %s gives; nothing was kept", fetch.Redact(ref), got, hexDigest, r.shown)
	}
	if r.o.Dir != "" {
		r.keep(archivePath(r.o.Dir, hexDigest), data)
	}
	return data, nil
}

// fetchError says an archive could not be fetched: unavailable when there was no answer.
func fetchError(shown string, err error) error {
	var re *requestError
	if errors.As(err, &re) && re.unreachable {
		return unavailablef("%s could not be fetched (%v)", shown, err)
	}
	return fmt.Errorf("%s could not be fetched: %w", shown, err)
}

// providers are the getters Helm's repository code may use: https through Helm's HTTPGetter
// only; never Helm's plugin getters, which run commands, nor OCI.
func (r *Repo) providers(ctx context.Context) getter.Providers {
	t := capped(ctx, r.o.Transport)
	return getter.Providers{{
		Schemes: []string{"https"},
		New: func(opts ...getter.Option) (getter.Getter, error) {
			return getter.NewHTTPGetter(append(opts, getter.WithTransport(t), getter.WithTimeout(r.o.Timeout))...)
		},
	}}
}

// capped is the transport with every connection's reads bounded by maxResponseBytes, and
// dialled within ctx.
func capped(ctx context.Context, base *http.Transport) *http.Transport {
	var t *http.Transport
	if base == nil {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: 10 * time.Second}
	} else {
		t = base.Clone()
	}
	t.DisableKeepAlives = true // one response per connection, so one budget per response
	// A redirect to http:// would carry the credentials and the index (whose digests vouch for
	// the archives) in clear text: http is refused, redirects included.
	t.RegisterProtocol("http", refuseHTTP{})
	// A proxy that cannot reach the repository answers CONNECT with a 5xx: no answer from the
	// repository, as a failed dial is.
	t.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, res *http.Response) error {
		if res.StatusCode >= 500 {
			return &proxyError{status: res.Status}
		}
		return nil
	}
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	}
	t.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &cappedConn{Conn: c, left: maxResponseBytes}, nil
	}
	return t
}

// proxyError is a proxy's 5xx answer to CONNECT.
type proxyError struct{ status string }

func (e *proxyError) Error() string { return "the proxy answered " + e.status }

// refuseHTTP is the round tripper for http:// URLs: none is requested.
type refuseHTTP struct{}

func (refuseHTTP) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("%s is http://, not https://: refused", fetch.Redact(req.URL.String()))
}

// cappedConn fails a read once the connection has read its budget.
type cappedConn struct {
	net.Conn
	left int64
}

func (c *cappedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("the response is larger than %d MiB", maxResponseBytes>>20)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// Archive reads a chart archive at an https:// URL (--clustergroup-chart URL ending in .tgz).
// Its digest is computed, not checked: there is no index to check it against. It is never
// cached, and offline it is unavailable.
func Archive(ctx context.Context, rawURL string, o Options) (*Chart, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("chart archive %s: not an https:// URL", fetch.Redact(rawURL))
	}
	base := *u
	base.Path = strings.TrimSuffix(u.Path, filepath.Base(u.Path))
	r, err := Open(base.String(), o)
	if err != nil {
		return nil, err
	}
	if o.Offline {
		return nil, unavailablef("%s is not fetched with --offline", r.shown)
	}
	u.User = nil
	ref := u.String()
	data, err := r.get(ctx, ref)
	if err != nil {
		return nil, err
	}
	return load(data, "", "", fetch.Redact(ref))
}

// get downloads ref with Helm's getter, the repository's credentials sent to its host only.
func (r *Repo) get(ctx context.Context, ref string) ([]byte, error) {
	g, err := r.providers(ctx).ByScheme("https")
	if err != nil {
		return nil, err
	}
	buf, err := g.Get(ref, getter.WithURL(r.url), getter.WithBasicAuth(r.user, r.pass))
	if err != nil {
		return nil, fetchError(fetch.Redact(ref), r.requestError(ctx, err))
	}
	return buf.Bytes(), nil
}

// load unpacks an archive with Helm's loader (its size limits, and no path out of the chart)
// and checks it is the chart and version asked for ("" = any).
func load(data []byte, name, version, source string) (*Chart, error) {
	files, err := loader.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a chart archive: %w", source, err)
	}
	c := &Chart{Digest: "sha256:" + digestOf(data), Source: source, Files: map[string][]byte{}}
	for _, f := range files {
		c.Files[f.Name] = f.Data
	}
	var meta struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(c.Files["Chart.yaml"], &meta); err != nil {
		return nil, fmt.Errorf("%s: Chart.yaml: %w", source, err)
	}
	if name != "" && meta.Name != name || version != "" && meta.Version != version {
		return nil, fmt.Errorf("%s holds chart %s %s, not the %s %s the index lists", source, meta.Name, meta.Version, name, version)
	}
	c.Name, c.Version = meta.Name, meta.Version
	return c, nil
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
