package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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
	mux.HandleFunc("/fail.yaml", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
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

// The git path, with a local repository: File itself only allows https and ssh remotes. A link
// anywhere on the path to the file, a directory link above it included, is refused, and the
// file it leads to outside the download is never read.
func TestGitFile(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(outside+"/pattern-gen.yaml", []byte("outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=f", "GIT_AUTHOR_EMAIL=f@example.com", "GIT_COMMITTER_NAME=f", "GIT_COMMITTER_EMAIL=f@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	os.MkdirAll(repo+"/cfg/sub", 0o755)
	os.WriteFile(repo+"/cfg/pattern-gen.yaml", []byte(body), 0o644)
	os.Symlink("/etc/passwd", repo+"/cfg/link.yaml")
	os.Symlink(outside, repo+"/out")
	os.Symlink(outside, repo+"/cfg/sub/deeper")
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "c")
	git("tag", "v1")
	o := Options{MaxBytes: 1024, Timeout: 30 * time.Second}
	got, err := gitFile(context.Background(), "git::file://"+repo+"//cfg/pattern-gen.yaml?ref=v1", o)
	if err != nil || string(got) != body {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, tc := range []struct{ path, want string }{
		{"//cfg/link.yaml", "cfg/link.yaml is a symbolic link; refusing to follow it"},
		{"//out/pattern-gen.yaml", "out is a symbolic link; refusing to follow it"},
		{"//cfg/sub/deeper/pattern-gen.yaml", "cfg/sub/deeper is a symbolic link; refusing to follow it"},
		{"//cfg/pattern-gen.yaml/x", "cfg/pattern-gen.yaml/x: not in the download"},
		{"//../../etc/passwd", "../../etc/passwd leaves the downloaded folder"},
		{"//cfg/missing.yaml", "cfg/missing.yaml: not in the download"},
		{"//cfg", "cfg is not a regular file"},
	} {
		got, err := gitFile(context.Background(), "file://"+repo+tc.path+"?ref=v1", o)
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: got %q, %v; want the error to end with %q", tc.path, got, err, tc.want)
		}
	}
}

// A remote source's password, token or sshkey never shows in an error, neither where pattern-gen
// names the source nor in the text go-getter and git return.
func TestSecretsNeverEcho(t *testing.T) {
	srv, o := server(t)
	authURL := strings.Replace(srv.URL, "https://", "https://user:pa55word-https@", 1)
	key := base64.StdEncoding.EncodeToString([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nsshkeysecret\n-----END OPENSSH PRIVATE KEY-----\n"))
	secrets := []string{"pa55word", "t0kenvalue", "amzsig123", "sshkeysecret", key, "S3CRETPASS"}
	tests := []struct{ name, src, want string }{
		{"https server error", authURL + "/fail.yaml?token=t0kenvalue&X-Amz-Signature=amzsig123&checksum=sha256:" + strings.Repeat("0", 64), "bad response code: 500"},
		{"https not found", authURL + "/missing.yaml?access_token=t0kenvalue", "bad response code: 404"},
		{"unreachable git over https", "git::https://user:pa55word@127.0.0.1:1/org/repo.git//pattern-gen.yaml?ref=main&token=t0kenvalue", "exited with"},
		{"unreachable git over ssh", "git::ssh://git@127.0.0.1:1/org/repo.git//pattern-gen.yaml?ref=v1&sshkey=" + key, "exited with"},
		{"not allowed", "ftp://admin:S3CRETPASS@127.0.0.1/x?sig=amzsig123", "is not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			o.Timeout = 30 * time.Second
			_, err := File(context.Background(), tc.src, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("secret %q in the message: %v", s, err)
				}
			}
			if !strings.Contains(err.Error(), "REDACTED") {
				t.Errorf("the message does not show where the secret was: %v", err)
			}
		})
	}
}
