package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pattern-gen/pattern-gen/internal/cli"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cli/cmpplugin"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pattern-gen": func() { os.Exit(cli.PatternGenMain(os.Args[1:], base.StdStreams())) },
		"cmp-plugin":  func() { os.Exit(cmpplugin.Main(os.Args[1:], base.StdStreams(), os.Getenv)) },
	})
}

// TestScripts runs the CLI contract in testdata/script/*.txtar: exit codes, stderr wording and
// the files written (or not written).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
	})
}

// TestBadInput runs the bad-input corpus in testdata/bad: every case must fail with exit code 1
// and one clear line, write nothing and print no objects.
func TestBadInput(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/bad",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}
