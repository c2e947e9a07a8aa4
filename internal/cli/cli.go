// Package cli is pattern-gen's command line: flags and arguments in, one call into the
// packages below, errors mapped to exit codes. It is the only package that imports cobra.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// IOStreams are the streams a command uses; stdout carries data only.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// StdStreams returns the process's streams.
func StdStreams() IOStreams { return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr} }

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // bad input or a failed operation
	ExitUsage = 2 // bad flags or arguments
)

// exitError ends a command with a given exit code; err, when set, is printed.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e exitError) Unwrap() error { return e.err }

type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// PatternGenMain runs pattern-gen with args and returns the process exit code.
func PatternGenMain(args []string, streams IOStreams) int {
	root := &cobra.Command{
		Use:           "pattern-gen",
		Short:         "Scaffold, render and review forks of the Confidential Containers Validated Pattern",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInitCmd(streams), newRenderCmd(streams), newDiffCmd(streams), newValidateCmd(streams), newStatusCmd(streams), newSyncCmd(streams), newWaitCmd(streams), newSchemaCmd(streams))
	root.SetArgs(args)
	return exitCode(root.Execute(), "pattern-gen", streams)
}

// exitCode prints err (if any) and maps it to the process exit code.
func exitCode(err error, prog string, streams IOStreams) int {
	if err == nil {
		return ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(streams.ErrOut, prog+": "+indentContinuation(msg))
	}
	var ee exitError
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ee):
		return ee.code
	}
	return ExitError
}

// indentContinuation keeps multi-line errors (one problem per line) readable after the prefix.
func indentContinuation(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

// rangeArgs is cobra.RangeArgs with errors that count as usage errors.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return usageError{fmt.Errorf("%w\nusage: %s", err, cmd.UseLine())}
		}
		return nil
	}
}
