package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestAttacks runs the attack corpus in testdata/attacks: what someone who can push to a fork,
// open a pull request, write a namespace's objects or hand over a config could try. Each script
// runs the real binaries and, with no-side-effects, asserts that nothing reached outside: no git
// ran, no request reached the loopback server, no file outside the fork was opened and nothing
// was left in TMPDIR.
//
// The watches: $PATH starts with a git that records every call and then runs the real git;
// $TRAP_URL is a loopback HTTP server that counts requests; $OUTSIDE is a folder outside the
// work tree whose FIFOs ($OUTSIDE/secret.yaml, $OUTSIDE/schema.json) record any open (a
// goroutine blocks opening each for writing, which returns only when someone opens it to read);
// TMPDIR is $WORK/tmp.
func TestAttacks(t *testing.T) {
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("the attack corpus needs git (diff reads revisions with it)")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/attacks",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               func(env *testscript.Env) error { return setupWatches(env, realGit) },
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"watch-reset":     watchReset,
			"no-side-effects": noSideEffects,
		},
	})
}

// watches are one script's side-effect recorders.
type watches struct {
	gitLog, tmp, outside string
	requests             atomic.Int32
	done                 atomic.Bool
	mu                   sync.Mutex
	opened               []string
}

const watchesKey = "watches"

var fifos = []string{"secret.yaml", "schema.json"}

func setupWatches(env *testscript.Env, realGit string) error {
	w := &watches{}
	bin := filepath.Join(env.WorkDir, ".watch-bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return err
	}
	w.gitLog = filepath.Join(bin, "git-calls")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %q\nexec %q \"$@\"\n", w.gitLog, realGit)
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		return err
	}
	env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
	w.tmp = filepath.Join(env.WorkDir, "tmp")
	if err := os.Mkdir(w.tmp, 0o755); err != nil {
		return err
	}
	env.Setenv("TMPDIR", w.tmp)
	outside, err := os.MkdirTemp("", "pattern-gen-outside-")
	if err != nil {
		return err
	}
	w.outside = outside
	env.Setenv("OUTSIDE", outside)
	for _, name := range fifos {
		p := filepath.Join(outside, name)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			return err
		}
		go func() { // re-armed after each open, so a second open does not hang the reader
			for {
				f, err := os.OpenFile(p, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				f.Close()
				if w.done.Load() {
					return
				}
				w.mu.Lock()
				w.opened = append(w.opened, name)
				w.mu.Unlock()
			}
		}()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.requests.Add(1)
		rw.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n"))
	}))
	env.Setenv("TRAP_URL", srv.URL)
	env.Values[watchesKey] = w
	env.Defer(func() {
		srv.Close()
		w.done.Store(true)
		for _, name := range fifos { // unblock the watchers
			if f, err := os.OpenFile(filepath.Join(outside, name), os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
		os.RemoveAll(outside)
	})
	return nil
}

// watchReset forgets what the script's own set-up did (its git commits) before the command
// under test runs.
func watchReset(ts *testscript.TestScript, neg bool, args []string) {
	w := ts.Value(watchesKey).(*watches)
	if err := os.Remove(w.gitLog); err != nil && !os.IsNotExist(err) {
		ts.Fatalf("%v", err)
	}
	w.requests.Store(0)
}

// noSideEffects fails when, since the last watch-reset, git ran (other than the subcommands
// named as arguments, for diff, which reads revisions with git), a request reached
// $TRAP_URL, a FIFO in $OUTSIDE was opened or TMPDIR holds anything.
func noSideEffects(ts *testscript.TestScript, neg bool, allowedGit []string) {
	if neg {
		ts.Fatalf("no-side-effects does not take !")
	}
	w := ts.Value(watchesKey).(*watches)
	if data, err := os.ReadFile(w.gitLog); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			sub, _, _ := strings.Cut(line, " ")
			allowed := false
			for _, a := range allowedGit {
				allowed = allowed || sub == a
			}
			if !allowed {
				ts.Fatalf("git ran: git %s", line)
			}
		}
	}
	if n := w.requests.Load(); n > 0 {
		ts.Fatalf("%d request(s) reached $TRAP_URL", n)
	}
	w.mu.Lock()
	opened := append([]string(nil), w.opened...)
	w.mu.Unlock()
	if len(opened) > 0 {
		ts.Fatalf("opened outside the fork: %v", opened)
	}
	if entries, _ := os.ReadDir(w.tmp); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		ts.Fatalf("left in TMPDIR: %v", names)
	}
}
