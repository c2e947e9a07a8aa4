package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pattern-gen/pattern-gen/internal/cli"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pattern-gen": func() { os.Exit(cli.PatternGenMain(os.Args[1:], cli.StdStreams())) },
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
