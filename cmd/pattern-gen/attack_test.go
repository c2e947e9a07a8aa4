package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/reach"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

// TestAttacks runs the attack corpus in testdata/attacks: what someone who can push to a fork,
// open a pull request, write a namespace's objects or hand over a config could try. Each script
// runs the real binaries and, with no-side-effects, asserts that nothing reached outside: no git
// ran, nothing reached the loopback server, no file outside the fork was opened and nothing
// was left in TMPDIR.
//
// The watches: $PATH starts with a git that records every call and then runs the real git;
// $TRAP_URL is a loopback HTTP server that counts connections; $OUTSIDE is a folder outside
// the work tree whose FIFOs ($OUTSIDE/secret.yaml, $OUTSIDE/schema.json) record any open;
// TMPDIR is an empty folder in $WORK.
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

const watchesKey = "watches"

// setupWatches starts the script's watches (internal/testutil/reach) and names them in its
// environment; TMPDIR is $WORK/.watch/tmp and the git wrapper is in $WORK/.watch/bin.
func setupWatches(env *testscript.Env, realGit string) error {
	w, err := reach.Start(reach.Options{
		Dir:      filepath.Join(env.WorkDir, ".watch"),
		RealGit:  realGit,
		FIFOs:    []string{"secret.yaml", "schema.json"},
		Response: reach.ManifestResponse,
	})
	if err != nil {
		return err
	}
	env.Defer(w.Close)
	env.Setenv("PATH", w.PATH(env.Getenv("PATH")))
	env.Setenv("TMPDIR", w.TmpDir)
	env.Setenv("OUTSIDE", w.Outside)
	env.Setenv("TRAP_URL", w.Server.URL)
	env.Values[watchesKey] = w
	// No script reaches charts.validatedpatterns.io; one that tests the chart source sets it.
	env.Setenv("PATTERN_GEN_CLUSTERGROUP_CHART", "none")
	// $HANG_URL accepts connections and never answers: a flaky network, for the signal scripts.
	hang, err := reach.StartHang()
	if err != nil {
		return err
	}
	env.Defer(hang.Close)
	env.Setenv("HANG_URL", "https://"+hang.Addr())
	// A fork whose plugin applications render with no cluster: the KBS certificate pinned.
	pinned, err := testcert.WritePinnedConfig(env.WorkDir, forkrepo.URL)
	env.Setenv("PINNED_CERT_CONFIG", pinned)
	return err
}

// watchReset forgets what the script's own set-up did (its git commits) before the command
// under test runs.
func watchReset(ts *testscript.TestScript, neg bool, args []string) {
	if err := ts.Value(watchesKey).(*reach.Watches).Reset(); err != nil {
		ts.Fatalf("%v", err)
	}
}

// noSideEffects fails when, since the last watch-reset, git ran (other than the subcommands
// named as arguments, for diff, which reads revisions with git), anything connected to
// $TRAP_URL, a FIFO in $OUTSIDE was opened or TMPDIR holds anything.
func noSideEffects(ts *testscript.TestScript, neg bool, allowedGit []string) {
	if neg {
		ts.Fatalf("no-side-effects does not take !")
	}
	if err := ts.Value(watchesKey).(*reach.Watches).Check(allowedGit...); err != nil {
		ts.Fatalf("%v", err)
	}
}
