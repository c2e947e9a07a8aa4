// Package chartserver serves a Helm chart repository over HTTPS for tests: an index.yaml and
// chart archives packaged with Helm's own code. It stands in for charts.validatedpatterns.io
// only; the client under test is Helm's repository and getter code.
package chartserver

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// T is what the helpers need of a test: testing.TB, or a testscript command's adaptor.
type T interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
	TempDir() string
}

// Server is a running chart repository.
type Server struct {
	URL string // https://127.0.0.1:port/charts/
	srv *httptest.Server

	mu       sync.Mutex
	files    map[string][]byte // URL path -> content
	status   int               // when not 0, every answer is this status
	requests []string          // URL paths served, in order
}

// Start serves the charts (each a chart's files, relative to its folder) until the test ends.
func Start(t T, charts ...map[string][]byte) *Server {
	t.Helper()
	s := &Server{files: map[string][]byte{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/charts/"
	idx := repo.NewIndexFile()
	for _, files := range charts {
		name, data := Package(t, files)
		s.files["/charts/"+name] = data
		c, err := loader.LoadArchive(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if err := idx.MustAdd(c.Metadata, name, "", "sha256:"+Digest(data)); err != nil {
			t.Fatal(err)
		}
	}
	idx.SortEntries()
	data, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	s.files["/charts/index.yaml"] = data
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	data, ok := s.files[r.URL.Path]
	status := s.status
	s.requests = append(s.requests, r.URL.Path)
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(data)
}

// Set replaces (or, with nil, removes) the file served at the repository-relative path p.
func (s *Server) Set(p string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if data == nil {
		delete(s.files, "/charts/"+p)
		return
	}
	s.files["/charts/"+p] = data
}

// Answer makes every request answered with status (0: serve the files again).
func (s *Server) Answer(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Close stops the server: requests then fail to connect.
func (s *Server) Close() { s.srv.Close() }

// Get is the file served at the repository-relative path p.
func (s *Server) Get(p string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files["/charts/"+p]
}

// Requests lists the repository-relative paths served so far, and forgets them.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.requests))
	for _, r := range s.requests {
		out = append(out, strings.TrimPrefix(r, "/charts/"))
	}
	s.requests = nil
	return out
}

// Transport trusts the server's certificate.
func (s *Server) Transport() *http.Transport {
	return s.srv.Client().Transport.(*http.Transport).Clone()
}

// WriteCA writes the server's certificate as PEM, for SSL_CERT_FILE in a child process.
func (s *Server) WriteCA(t T, p string) {
	t.Helper()
	block := &pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
}

// Package packages a chart's files with Helm (as helm package does) and returns the archive's
// name (<name>-<version>.tgz) and content.
func Package(t T, files map[string][]byte) (string, []byte) {
	t.Helper()
	var bf []*loader.BufferedFile
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		bf = append(bf, &loader.BufferedFile{Name: p, Data: files[p]})
	}
	c, err := loader.LoadFiles(bf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return path.Base(p), data
}

// ReadDir reads a chart folder's regular files, relative to it, with Chart.yaml's version set
// to version (when not "") and its dependencies left out (the reference copy lacks them).
func ReadDir(t T, dir, version string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := yaml.Unmarshal(files["Chart.yaml"], &meta); err != nil {
		t.Fatal(err)
	}
	delete(meta, "dependencies")
	if version != "" {
		meta["version"] = version
	}
	if files["Chart.yaml"], err = yaml.Marshal(meta); err != nil {
		t.Fatal(err)
	}
	return files
}

// Digest is the lower-case hex SHA-256 of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
