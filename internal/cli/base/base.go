// Package base holds what both command lines (pattern-gen and cmp-plugin) share: streams, exit
// codes and the errors that choose them. It is its own package so cmp-plugin links none of
// pattern-gen's commands.
package base

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

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

// ExitErr ends a command with a given exit code; Err, when set, is printed.
type ExitErr struct {
	Code int
	Err  error
}

func (e ExitErr) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}
func (e ExitErr) Unwrap() error { return e.Err }

// UsageError marks bad flags or arguments (exit code 2).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// NewRoot returns a root command that prints its own errors through ExitCode and treats flag
// errors as usage errors.
func NewRoot(use, short string) *cobra.Command {
	root := &cobra.Command{Use: use, Short: short, SilenceErrors: true, SilenceUsage: true}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{err} })
	return root
}

// Execute runs root with a context that SIGTERM and SIGINT end (see SignalContext), prints any
// error and returns the exit code. A command stopped by a signal reports the signal, whatever
// error its cancelled work returned. A command that does not return within StopGrace of the
// signal (one that cannot be cancelled, or does not look at its context) is left behind: the
// caller exits, so every command stops within about a second, as Argo CD's deadline expects.
// The grace lets cancelled work that can clean up (a download's temporary folder) do so.
func Execute(root *cobra.Command, prog string, streams IOStreams) int {
	ctx, stop := SignalContext(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		case <-time.After(StopGrace):
		}
	}
	var se SignalError
	if errors.As(context.Cause(ctx), &se) {
		err = se
	}
	return ExitCode(err, prog, streams)
}

// StopGrace is how long Execute waits for a command after a signal.
const StopGrace = 500 * time.Millisecond

// ExitCode prints err (if any), capped by CapMessage, and maps it to the process exit code.
func ExitCode(err error, prog string, streams IOStreams) int {
	if err == nil {
		return ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(streams.ErrOut, prog+": "+indentContinuation(CapMessage(msg)))
	}
	var ee ExitErr
	var ue UsageError
	var se SignalError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &se):
		return 128 + int(se.Signal) // what a shell reports for a process a signal ended
	}
	return ExitError
}

// indentContinuation keeps multi-line errors (one problem per line) readable after the prefix.
func indentContinuation(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

// RangeArgs is cobra.RangeArgs with errors that count as usage errors.
func RangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return UsageError{fmt.Errorf("%w\nusage: %s", err, cmd.UseLine())}
		}
		return nil
	}
}
