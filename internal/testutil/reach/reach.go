// Package reach holds side-effect watches for tests that prove code under test reaches
// nothing outside its input (issue 12): a loopback HTTP(S) server that counts connections and
// requests, FIFOs that record any open, a git first on PATH that records any call, and an
// empty TMPDIR that must stay empty. Watches bundles them for a testscript Setup (no
// testing.T needed); Watch does the same for a Go test.
package reach

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Options says what Start makes.
type Options struct {
	// Dir is a folder that Start creates, holding bin/ (the git wrapper) and tmp/ (TMPDIR).
	Dir string
	// RealGit is run after logging a git call; "" makes every call fail.
	RealGit string
	// FIFOs are names of FIFOs to make in a new folder outside Dir (and outside any repository).
	FIFOs []string
	// Response is what the server answers; zero means ManifestResponse.
	Response Response
}

// Watches is one test's set of side-effect recorders.
type Watches struct {
	Server  *Server
	Git     *Git
	TmpDir  string
	Outside string // the folder holding FIFOs; "" without any
	FIFOs   map[string]*FIFO
}

// Start makes and starts the watches; Close stops them. The caller puts Git.Dir first on PATH
// (see PATH) and sets TMPDIR to TmpDir.
func Start(o Options) (*Watches, error) {
	w := &Watches{TmpDir: filepath.Join(o.Dir, "tmp"), FIFOs: map[string]*FIFO{}}
	bin := filepath.Join(o.Dir, "bin")
	for _, d := range []string{bin, w.TmpDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("make the watch folder: %w", err)
		}
	}
	git, err := NewGit(bin, o.RealGit)
	if err != nil {
		return nil, err
	}
	w.Git = git
	if len(o.FIFOs) > 0 {
		if w.Outside, err = os.MkdirTemp("", "reach-outside-"); err != nil {
			return nil, fmt.Errorf("make the outside folder: %w", err)
		}
		for _, name := range o.FIFOs {
			f, err := NewFIFO(filepath.Join(w.Outside, name), nil)
			if err != nil {
				w.Close()
				return nil, err
			}
			w.FIFOs[name] = f
		}
	}
	if o.Response == (Response{}) {
		o.Response = ManifestResponse
	}
	w.Server = NewServer(false, o.Response)
	return w, nil
}

// PATH is path with the git wrapper's folder first.
func (w *Watches) PATH(path string) string {
	return w.Git.Dir + string(os.PathListSeparator) + path
}

// Reset forgets what happened so far (a script's own set-up, such as its git commits), so that
// Check sees only what the command under test does.
func (w *Watches) Reset() error {
	w.Server.Reset()
	for _, f := range w.FIFOs {
		f.Reset()
	}
	return w.Git.Reset()
}

// Check reports, one line each, every side effect since the start or the last Reset: a git
// call whose subcommand is not in allowedGit, a connection to the server, an open of a FIFO,
// anything in TMPDIR.
func (w *Watches) Check(allowedGit ...string) error {
	var errs []error
	calls, err := w.Git.Calls()
	errs = append(errs, err)
	for _, c := range calls {
		if sub := gitSubcommand(c); !slices.Contains(allowedGit, sub) {
			errs = append(errs, fmt.Errorf("git ran: git %s", c))
		}
	}
	if n := w.Server.Conns(); n > 0 {
		errs = append(errs, fmt.Errorf("%d connection(s), %d request(s) reached the loopback server", n, w.Server.Requests()))
	}
	names := make([]string, 0, len(w.FIFOs))
	for name := range w.FIFOs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if w.FIFOs[name].Opened() {
			errs = append(errs, fmt.Errorf("opened outside the repository: %s", name))
		}
	}
	left, err := Leftovers(w.TmpDir)
	errs = append(errs, err)
	if len(left) > 0 {
		errs = append(errs, fmt.Errorf("left in TMPDIR: %v", left))
	}
	return errors.Join(errs...)
}

// Close stops the server and the FIFOs and removes the outside folder.
func (w *Watches) Close() {
	if w.Server != nil {
		w.Server.Close()
	}
	for _, f := range w.FIFOs {
		f.Close()
	}
	if w.Outside != "" {
		_ = os.RemoveAll(w.Outside)
	}
}

// Watch starts watches (no FIFOs, a git that fails, a server answering ManifestResponse) for
// the rest of t, with PATH and TMPDIR set through t.Setenv, so t cannot run in parallel.
func Watch(t testing.TB) *Watches {
	t.Helper()
	w, err := Start(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Setenv("PATH", w.PATH(os.Getenv("PATH")))
	t.Setenv("TMPDIR", w.TmpDir)
	return w
}

// AssertNone fails t for every side effect Check reports.
func (w *Watches) AssertNone(t testing.TB) {
	t.Helper()
	if err := w.Check(); err != nil {
		t.Error(err)
	}
}

// Serve starts a Server for the rest of t.
func Serve(t testing.TB, tls bool, r Response) *Server {
	t.Helper()
	s := NewServer(tls, r)
	t.Cleanup(s.Close)
	return s
}

// Marker makes a FIFO outside any repository for the rest of t; a reader gets invalid JSON, so
// a schema loader that opens it fails at once. It skips t where FIFOs cannot be made.
func Marker(t testing.TB) *FIFO {
	t.Helper()
	f, err := NewFIFO(filepath.Join(t.TempDir(), "marker.json"), []byte("not json"))
	if err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	t.Cleanup(f.Close)
	return f
}

// gitSubcommand is the first word of a git call that is not a global option (git -C dir,
// --no-replace-objects, -c key=value).
func gitSubcommand(call string) string {
	words := strings.Fields(call)
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-C" || w == "-c":
			i++
		case strings.HasPrefix(w, "-"):
		default:
			return w
		}
	}
	return ""
}
