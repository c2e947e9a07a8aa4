// Package cli is pattern-gen's command line: flags and arguments in, one call into the
// packages below, errors mapped to exit codes. Only it and its subpackages import cobra.
package cli

import (
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
)

// forkArg is the FORK argument of a command, the current directory when it is left out.
func forkArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// PatternGenMain runs pattern-gen with args and returns the process exit code.
func PatternGenMain(args []string, streams base.IOStreams) int {
	root := base.NewRoot("pattern-gen", "Scaffold, render and review forks of the Confidential Containers Validated Pattern")
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	root.AddCommand(newInitCmd(streams), newRenderCmd(streams), newDiffCmd(streams), newValidateCmd(streams), newStatusCmd(streams), newSyncCmd(streams), newWaitCmd(streams), newSchemaCmd(streams), newSecretsCmd(streams), newMeasurementsCmd(streams), newAzureCmd(streams), newUpdateCmd(streams))
	base.AddVersion(root)
	addCompletions(root)
	root.SetArgs(args)
	return base.Execute(root, "pattern-gen", streams)
}
