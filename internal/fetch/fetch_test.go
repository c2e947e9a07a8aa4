package fetch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const body = "apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\n"

func server(t *testing.T) (*httptest.Server, Options) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/pattern-gen.yaml", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
	mux.HandleFunc("/big.yaml", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat("x", 4096)) })
	mux.HandleFunc("/slow.yaml", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewTLSServer(mux) // loopback only
	t.Cleanup(srv.Close)
	return srv, Options{MaxBytes: 1024, Timeout: 2 * time.Second, HTTPClient: srv.Client()}
}

func TestHTTPSWithChecksum(t *testing.T) {
	srv, o := server(t)
	sum := sha256.Sum256([]byte(body))
	got, err := File(context.Background(), fmt.Sprintf("%s/pattern-gen.yaml?checksum=sha256:%x", srv.URL, sum), o)
	if err != nil || string(got) != body {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = File(context.Background(), srv.URL+"/pattern-gen.yaml?checksum=sha256:"+strings.Repeat("0", 64), o)
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a wrong checksum was accepted: %v", err)
	}
}

func TestLimits(t *testing.T) {
	srv, o := server(t)
	if _, err := File(context.Background(), srv.URL+"/big.yaml", o); err == nil {
		t.Error("a file over MaxBytes was accepted")
	}
	start := time.Now()
	if _, err := File(context.Background(), srv.URL+"/slow.yaml", o); err == nil || time.Since(start) > 4*time.Second {
		t.Errorf("the timeout did not stop a slow server: %v after %v", err, time.Since(start))
	}
	left, _ := os.ReadDir(os.TempDir())
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "pattern-gen-fetch-") {
			t.Errorf("temporary folder left behind: %s", e.Name())
		}
	}
}

func TestOnlyAllowedSources(t *testing.T) {
	for _, src := range []string{
		"http://example.com/pattern-gen.yaml",      // no TLS
		"s3::https://bucket.s3.amazonaws.com/x",    // not allowed
		"file::/etc/passwd",                        // local files are plain paths
		"git::file:///tmp/repo//pattern-gen.yaml",  // only https and ssh for git
		"hg::https://example.com/repo",             // not allowed
		"https://user:s3cret@example.com/x.yaml?x", // credentials are redacted in the message
	} {
		_, err := File(context.Background(), src, Options{MaxBytes: 1024, Timeout: time.Second})
		if err == nil {
			t.Errorf("%s was accepted", src)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("credentials in the message: %v", err)
		}
	}
	if _, err := File(context.Background(), "git::https://example.com/org/repo.git", Options{MaxBytes: 1, Timeout: time.Second}); err == nil || !strings.Contains(err.Error(), "names no file") {
		t.Errorf("a git source without a file: %v", err)
	}
}

func TestReadInsideRefusesEscapes(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(root+"/ok", []byte("x"), 0o644)
	os.Symlink("/etc/passwd", root+"/link")
	if _, err := readInside(root, "ok", 10); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"../outside", "link", "missing"} {
		if _, err := readInside(root, name, 10); err == nil {
			t.Errorf("%s was read", name)
		}
	}
}

// The git path, with a local repository: File itself only allows https and ssh remotes.
func TestGitFile(t *testing.T) {
	repo := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=f", "GIT_AUTHOR_EMAIL=f@example.com", "GIT_COMMITTER_NAME=f", "GIT_COMMITTER_EMAIL=f@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	os.MkdirAll(repo+"/cfg", 0o755)
	os.WriteFile(repo+"/cfg/pattern-gen.yaml", []byte(body), 0o644)
	os.Symlink("/etc/passwd", repo+"/cfg/link.yaml")
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "c")
	git("tag", "v1")
	o := Options{MaxBytes: 1024, Timeout: 30 * time.Second}
	got, err := gitFile(context.Background(), "file://"+repo+"//cfg/pattern-gen.yaml?ref=v1", o)
	if err != nil || string(got) != body {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, bad := range []string{"//cfg/link.yaml", "//../../etc/passwd", "//cfg/missing.yaml"} {
		if _, err := gitFile(context.Background(), "file://"+repo+bad, o); err == nil {
			t.Errorf("%s was read", bad)
		}
	}
}
