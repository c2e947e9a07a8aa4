package chartrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/testutil/chartserver"
)

// chart is a small clustergroup chart at version v.
func chart(v string) map[string][]byte {
	return map[string][]byte{
		"Chart.yaml":        []byte("apiVersion: v2\nname: clustergroup\nversion: " + v + "\n"),
		"templates/cm.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v" + strings.ReplaceAll(v, ".", "-") + "}\n"),
	}
}

func options(t *testing.T, s *chartserver.Server) Options {
	return Options{Dir: t.TempDir(), Transport: s.Transport(), Logf: t.Logf}
}

func TestResolveNewestInRangeAndCache(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.54"), chart("0.9.55"), chart("0.10.0"))
	o := options(t, s)
	r, err := Open(s.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Resolve(context.Background(), "clustergroup", "0.9.*")
	if err != nil {
		t.Fatal(err)
	}
	archive := s.Get("clustergroup-0.9.55.tgz")
	if c.Version != "0.9.55" || c.Digest != "sha256:"+chartserver.Digest(archive) || c.Source != s.URL+"clustergroup-0.9.55.tgz" {
		t.Errorf("resolved %s %s from %s", c.Version, c.Digest, c.Source)
	}
	if !bytes.Equal(c.Files["templates/cm.yaml"], chart("0.9.55")["templates/cm.yaml"]) {
		t.Errorf("files %v", c.Files)
	}
	if got := s.Requests(); !slices.Equal(got, []string{"index.yaml", "clustergroup-0.9.55.tgz"}) {
		t.Errorf("requests %v", got)
	}
	// The same run resolves a second range from the index it has.
	if c, err := r.Resolve(context.Background(), "clustergroup", "~0.9.54 <0.9.55"); err != nil || c.Version != "0.9.54" {
		t.Errorf("second range: %v %v", c, err)
	}
	if got := s.Requests(); !slices.Equal(got, []string{"clustergroup-0.9.54.tgz"}) {
		t.Errorf("requests %v", got)
	}

	// A later run reads the index again (a newer release may match, and a cached index someone
	// changed is replaced), but not the cached archive.
	r3, _ := Open(s.URL, o)
	if _, err := r3.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil {
		t.Fatal(err)
	}
	if got := s.Requests(); !slices.Equal(got, []string{"index.yaml"}) {
		t.Errorf("requests %v", got)
	}

	// Offline, the cache answers; a version it lacks is unavailable, not an error of the fork.
	o.Offline = true
	off, _ := Open(s.URL, o)
	if c, err := off.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil || c.Version != "0.9.55" {
		t.Errorf("offline: %v %v", c, err)
	}
	if _, err := off.Resolve(context.Background(), "clustergroup", "0.10.*"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("offline, uncached archive: %v", err)
	}
	if got := s.Requests(); len(got) != 0 {
		t.Errorf("offline made requests %v", got)
	}
}

func TestUnavailable(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	o := options(t, s)
	o.Offline = true
	r, _ := Open(s.URL, o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "--offline") {
		t.Errorf("offline, empty cache: %v", err)
	}
	// Nothing listens on port 1 of the loopback address.
	o.Offline = false
	r, _ = Open("https://127.0.0.1:1/charts/", o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "could not be reached") {
		t.Errorf("unreachable: %v", err)
	}
}

// A repository that gives no answer (a server error, as a proxy gives, or no connection) with
// its index cached: the cached index stands in, and says so.
func TestCachedIndexStandsIn(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	o := options(t, s)
	var notes []string
	o.Logf = func(format string, a ...any) { notes = append(notes, fmt.Sprintf(format, a...)) }
	r, _ := Open(s.URL, o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil {
		t.Fatal(err)
	}
	s.Answer(http.StatusBadGateway)
	r, _ = Open(s.URL, o)
	c, err := r.Resolve(context.Background(), "clustergroup", "0.9.*")
	if err != nil || c.Version != "0.9.55" {
		t.Fatalf("%v %v", c, err)
	}
	s.Close()
	r, _ = Open(s.URL, o)
	if c, err = r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil || c.Version != "0.9.55" {
		t.Fatalf("%v %v", c, err)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "could not be reached") || !strings.Contains(notes[0], "502") || !strings.Contains(notes[1], "connection refused") {
		t.Errorf("notes %q", notes)
	}
}

// An answer that is an error is the user's to fix, not a network outage: a wrong URL (404)
// or a certificate that does not verify fails, even with an index cached.
func TestAnswersThatAreErrors(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	o := options(t, s)
	r, _ := Open(s.URL, o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil {
		t.Fatal(err)
	}
	r, _ = Open(s.URL+"wrong/", o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	o.Transport = nil // the system's roots, which do not hold the test server's
	r, _ = Open(s.URL, o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unknown authority: %v", err)
	}
}

// An exact pin served from the cache does not make a later range of the same run resolve in
// the cached index: a base pinning 0.9.54 and a head pinning 0.9.* see the newest release.
func TestExactPinDoesNotStaleARange(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.54"))
	o := options(t, s)
	r, _ := Open(s.URL, o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.54"); err != nil {
		t.Fatal(err)
	}
	newer := chartserver.Start(t, chart("0.9.54"), chart("0.9.55"))
	s.Set("index.yaml", bytes.ReplaceAll(newer.Get("index.yaml"), []byte(newer.URL), nil))
	s.Set("clustergroup-0.9.55.tgz", newer.Get("clustergroup-0.9.55.tgz"))
	s.Set("clustergroup-0.9.54.tgz", newer.Get("clustergroup-0.9.54.tgz"))
	r, _ = Open(s.URL, o)
	if c, err := r.Resolve(context.Background(), "clustergroup", "0.9.54"); err != nil || c.Version != "0.9.54" {
		t.Fatalf("exact: %v %v", c, err)
	}
	if c, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil || c.Version != "0.9.55" {
		t.Errorf("range after a cached exact pin: %v %v", c, err)
	}
}

func TestBadInput(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.54"), chart("0.9.55"))
	cases := map[string]struct {
		constraint string
		prepare    func(o *Options)
		want       string
	}{
		"no release satisfies": {constraint: "0.10.*", want: `no release of clustergroup in ` + s.URL + ` satisfies "0.10.*" (it has 0.9.55, 0.9.54); pin one it has`},
		"not a range":          {constraint: "latest please", want: `chart version "latest please" is not a version or a range`},
		"archive changed on the server": {constraint: "0.9.55", prepare: func(*Options) {
			evil := chart("0.9.55")
			evil["templates/evil.yaml"] = []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: evil}\n")
			_, data := chartserver.Package(t, evil)
			s.Set("clustergroup-0.9.55.tgz", data)
		}, want: "has SHA-256"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := options(t, s)
			if c.prepare != nil {
				c.prepare(&o)
			}
			r, _ := Open(s.URL, o)
			_, err := r.Resolve(context.Background(), "clustergroup", c.constraint)
			t.Log(err)
			if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
			if entries, _ := os.ReadDir(o.Dir); c.prepare != nil && slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.HasSuffix(e.Name(), ".tgz") }) {
				t.Errorf("a bad archive was cached: %v", entries)
			}
		})
	}
}

// A cached archive someone changed is an error naming it, not silently replaced.
func TestTamperedCache(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	o := options(t, s)
	r, _ := Open(s.URL, o)
	c, err := r.Resolve(context.Background(), "clustergroup", "0.9.55")
	if err != nil {
		t.Fatal(err)
	}
	p := archivePath(o.Dir, strings.TrimPrefix(c.Digest, "sha256:"))
	if err := os.WriteFile(p, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ = Open(s.URL, o)
	_, err = r.Resolve(context.Background(), "clustergroup", "0.9.55")
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "remove it to fetch it again") {
		t.Errorf("got %v", err)
	}
}

// Credentials in the URL go to the repository's host as basic auth, and are never printed.
func TestCredentialsNeverPrinted(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	const secret = "s3cret-Pa55word"
	u := strings.Replace(s.URL, "https://", "https://robot:"+secret+"@", 1)
	o := options(t, s)
	r, err := Open(u+"missing/?token="+secret, o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(context.Background(), "clustergroup", "0.9.*")
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "404") {
		t.Errorf("got %v", err)
	}
	if strings.Contains(r.URL(), secret) {
		t.Errorf("URL() = %s", r.URL())
	}
	if _, err := Open("http://"+strings.TrimPrefix(u, "https://"), o); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("http: %v", err)
	}
}

func TestResponseBound(t *testing.T) {
	big := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("# padding\n"), 1<<17))
	}))
	defer big.Close()
	defer func(n int64) { maxResponseBytes = n }(maxResponseBytes)
	maxResponseBytes = 256 << 10
	r, _ := Open(big.URL, Options{Dir: t.TempDir(), Transport: big.Client().Transport.(*http.Transport)})
	_, err := r.Resolve(context.Background(), "clustergroup", "0.9.*")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v", err)
	}
}

func TestArchive(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	o := options(t, s)
	c, err := Archive(context.Background(), s.URL+"clustergroup-0.9.55.tgz", o)
	if err != nil || c.Version != "0.9.55" || c.Name != "clustergroup" {
		t.Fatalf("%v %v", c, err)
	}
	if _, err := Archive(context.Background(), s.URL+"index.yaml", o); err == nil || !strings.Contains(err.Error(), "not a chart archive") {
		t.Errorf("index as archive: %v", err)
	}
	o.Offline = true
	if _, err := Archive(context.Background(), s.URL+"clustergroup-0.9.55.tgz", o); !errors.Is(err, ErrUnavailable) {
		t.Errorf("offline: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(o.Dir)); len(entries) != 0 {
		t.Errorf("an archive URL was cached: %v", entries)
	}
}

// A redirect to http:// is refused: it would carry the credentials, and an index whose digests
// vouch for the archives, in clear text.
func TestRedirectToHTTPRefused(t *testing.T) {
	var plain []string
	insecure := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain = append(plain, r.URL.Path+" "+r.Header.Get("Authorization"))
	}))
	defer insecure.Close()
	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, insecure.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirect.Close()
	u := strings.Replace(redirect.URL, "https://", "https://robot:pw0rd-secret@", 1) + "/charts/"
	r, err := Open(u, Options{Dir: t.TempDir(), Transport: redirect.Client().Transport.(*http.Transport)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(context.Background(), "clustergroup", "0.9.*")
	if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "is http://, not https://: refused") || strings.Contains(err.Error(), "pw0rd-secret") {
		t.Errorf("got %v", err)
	}
	if len(plain) != 0 {
		t.Errorf("plain HTTP requests made: %q", plain)
	}
}

// Helm's report of an index entry it skips names the index's source (a URL with its token) and
// a temporary path: it never reaches the standard logger's output, and a note counts them.
func TestSkippedEntriesNoted(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	s.Set("index.yaml", bytes.Replace(s.Get("index.yaml"), []byte("entries:\n"), []byte("entries:\n  clustergroup-broken:\n  - name: clustergroup-broken\n    version: not-a-version\n    urls: [x.tgz]\n"), 1))
	var logged bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&logged)
	defer log.SetOutput(prev)
	o := options(t, s)
	var notes []string
	o.Logf = func(format string, a ...any) { notes = append(notes, fmt.Sprintf(format, a...)) }
	r, _ := Open(s.URL+"?token=SuperSecretTok", o)
	if c, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil || c.Version != "0.9.55" {
		t.Fatalf("%v %v", c, err)
	}
	if logged.Len() != 0 {
		t.Errorf("the standard logger got %q", logged.String())
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "1 entries Helm skips as invalid") || strings.Contains(notes[0], "SuperSecretTok") {
		t.Errorf("notes %q", notes)
	}
}

func TestUserWithoutPasswordRefused(t *testing.T) {
	if _, err := Open("https://ghp_TOKEN1234@charts.example.com/", Options{}); err == nil || strings.Contains(err.Error(), "ghp_TOKEN1234") || !strings.Contains(err.Error(), "need a user and a password") {
		t.Errorf("got %v", err)
	}
}

// A cache whose folder cannot hold files (a file where a folder should be) is a miss, not an error.
func TestCacheFolderIsAFile(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	o := options(t, s)
	o.Dir = filepath.Join(o.Dir, "file")
	if err := os.WriteFile(o.Dir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := Open(s.URL, o)
	if c, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil || c.Version != "0.9.55" {
		t.Errorf("%v %v", c, err)
	}
}

// A proxy that cannot reach the repository answers CONNECT with a 5xx: the repository gave no
// answer, so a cached index stands in.
func TestProxyConnect5xxIsUnreachable(t *testing.T) {
	s := chartserver.Start(t, chart("0.9.55"))
	o := options(t, s)
	r, _ := Open(s.URL, o)
	if _, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no route", http.StatusBadGateway)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	o.Transport = s.Transport()
	o.Transport.Proxy = http.ProxyURL(pu)
	var notes []string
	o.Logf = func(format string, a ...any) { notes = append(notes, fmt.Sprintf(format, a...)) }
	r, _ = Open(s.URL, o)
	if c, err := r.Resolve(context.Background(), "clustergroup", "0.9.*"); err != nil || c.Version != "0.9.55" {
		t.Fatalf("%v %v", c, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "the proxy answered 502 Bad Gateway") {
		t.Errorf("notes %q", notes)
	}
}
