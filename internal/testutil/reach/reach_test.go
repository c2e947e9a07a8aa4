package reach

import (
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A client that trusts the server is counted as a connection and a request; one that does not
// trust the test certificate is still counted as a connection.
func TestServerCounts(t *testing.T) {
	for _, tc := range []struct {
		name          string
		tls, trusting bool
		wantRequests  int64
	}{
		{"http", false, true, 1},
		{"https", true, true, 1},
		{"https untrusted", true, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Serve(t, tc.tls, SchemaResponse)
			client := &http.Client{}
			if tc.trusting {
				client = s.Client()
			}
			resp, err := client.Get(s.URL + "/s.json")
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != SchemaResponse.Body || resp.Header.Get("Content-Type") != SchemaResponse.ContentType {
					t.Errorf("answer %s %q, want %s %q", resp.Header.Get("Content-Type"), body, SchemaResponse.ContentType, SchemaResponse.Body)
				}
			}
			if s.Conns() != 1 || s.Requests() != tc.wantRequests {
				t.Errorf("conns, requests = %d, %d; want 1, %d", s.Conns(), s.Requests(), tc.wantRequests)
			}
			s.Reset()
			if s.Conns() != 0 || s.Requests() != 0 {
				t.Errorf("after Reset: conns, requests = %d, %d", s.Conns(), s.Requests())
			}
		})
	}
}

// Every open is recorded and gets the content; a second open does not hang; Close releases the
// writer, with or without readers, and is not recorded.
func TestFIFORecordsEveryOpen(t *testing.T) {
	// Reads follow each other without a Reset between them: a writer re-armed while the
	// previous reader is still closing can serve the next reader before a Reset, so only
	// "opened at all" is a stable fact, and that is all the watches assert.
	for _, reads := range []int{0, 1, 2} {
		f := Marker(t)
		for i := range reads {
			got, err := os.ReadFile(f.Path) // a second read must not hang
			if err != nil || got == nil || strings.ReplaceAll(string(got), "not json", "") != "" {
				t.Fatalf("read %d: %q, %v; want %q", i, got, err, "not json")
			}
		}
		if f.Opened() != (reads > 0) {
			t.Errorf("%d reads: Opened() = %v", reads, f.Opened())
		}
		f.Reset()
		f.Close() // must not hang, with or without readers before
		f.Close()
		// Only without earlier readers is "not opened" stable: the writer may still serve the
		// last reader while it closes, and record that after the Reset.
		if reads == 0 && f.Opened() {
			t.Errorf("Close recorded its own open")
		}
	}
}

// The git wrapper logs each call, then fails or runs the real git; paths with quotes and
// spaces stay one word.
func TestGitLogsEveryCall(t *testing.T) {
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git here")
	}
	for _, tc := range []struct {
		name, realGit string
		wantOK        bool
	}{
		{"fails", "", false},
		{"runs the real git", realGit, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "it's a $dir")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			g, err := NewGit(dir, tc.realGit)
			if err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"version"}, {"version", "--build-options"}} {
				out, err := exec.Command(filepath.Join(g.Dir, "git"), args...).Output()
				if ok := err == nil && strings.HasPrefix(string(out), "git version"); ok != tc.wantOK {
					t.Errorf("git %v: %q, %v; want success %v", args, out, err, tc.wantOK)
				}
			}
			if calls, err := g.Calls(); err != nil || !slices.Equal(calls, []string{"version", "version --build-options"}) {
				t.Errorf("calls = %q, %v", calls, err)
			}
			if err := g.Reset(); err != nil {
				t.Fatal(err)
			}
			if calls, err := g.Calls(); err != nil || calls != nil {
				t.Errorf("after Reset: calls = %q, %v", calls, err)
			}
		})
	}
}

// Check names each side effect once it happens, leaves out allowed git subcommands, and after
// Reset sees only what came since (TMPDIR is not reset: it must be empty for good).
func TestWatchesCheck(t *testing.T) {
	w, err := Start(Options{Dir: t.TempDir(), FIFOs: []string{"secret.yaml", "schema.json"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Check(); err != nil {
		t.Fatalf("nothing happened yet: %v", err)
	}
	_ = exec.Command(filepath.Join(w.Git.Dir, "git"), "archive", "HEAD").Run()
	_ = exec.Command(filepath.Join(w.Git.Dir, "git"), "fetch", "--upload-pack=x").Run()
	if resp, err := http.Get(w.Server.URL); err == nil {
		resp.Body.Close()
	}
	if _, err := os.ReadFile(filepath.Join(w.Outside, "secret.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.TmpDir, "kustomize-123"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "git ran: git fetch --upload-pack=x\n" +
		"1 connection(s), 1 request(s) reached the loopback server\n" +
		"opened outside the repository: secret.yaml\n" +
		"left in TMPDIR: [kustomize-123]"
	if err := w.Check("archive"); err == nil || err.Error() != want {
		t.Errorf("Check:\n got %v\nwant %s", err, want)
	}
	if err := w.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(); err == nil || err.Error() != "left in TMPDIR: [kustomize-123]" {
		t.Errorf("after Reset: %v", err)
	}
}

// failRecorder is a testing.TB that records failures instead of failing the test.
type failRecorder struct {
	testing.TB
	errs []string
}

func (r *failRecorder) Error(args ...any) {
	r.errs = append(r.errs, strings.TrimSpace(strings.Repeat("%v ", len(args))))
}

// Watch puts the git wrapper first on PATH and the watched folder in TMPDIR, and AssertNone
// fails when either sees something.
func TestWatch(t *testing.T) {
	w := Watch(t)
	if git, err := exec.LookPath("git"); err != nil || git != filepath.Join(w.Git.Dir, "git") {
		t.Errorf("git on PATH = %s, %v; want the wrapper", git, err)
	}
	if os.TempDir() != w.TmpDir {
		t.Errorf("TMPDIR = %s, want %s", os.TempDir(), w.TmpDir)
	}
	r := &failRecorder{TB: t}
	w.AssertNone(r)
	if len(r.errs) != 0 {
		t.Fatalf("nothing happened yet: %v", r.errs)
	}
	var exit *exec.ExitError
	if err := exec.Command("git", "fetch").Run(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("git fetch: %v, want exit status 1", err)
	}
	w.AssertNone(r)
	if len(r.errs) != 1 {
		t.Errorf("after git ran: AssertNone failed %d times, want 1", len(r.errs))
	}
}
