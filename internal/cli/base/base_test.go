package base

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

func TestCapMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 3000) // 6000 bytes: the cut must fall between runes
	many := strings.TrimSuffix(strings.Repeat("problem\n", 150), "\n")
	cases := []struct {
		name, in string
		check    func(out string) error
	}{
		{"short message unchanged", "a.yaml:3: x: bad\nb.yaml:4: y: bad", func(out string) error {
			return want(out == "a.yaml:3: x: bad\nb.yaml:4: y: bad", "changed: %q", out)
		}},
		{"long line cut at a rune", long, func(out string) error {
			return want(strings.HasSuffix(out, " ... (line cut at 4096 bytes)") && len(out) < MaxLineBytes+40 && strings.ToValidUTF8(out, "?") == out, "got %d bytes ending %q", len(out), out[len(out)-40:])
		}},
		{"many lines cut", many, func(out string) error {
			lines := strings.Split(out, "\n")
			return want(len(lines) == MaxLines+1 && lines[MaxLines] == "... (message cut at 100 lines; 50 more not shown)", "%d lines, last %q", len(lines), lines[len(lines)-1])
		}},
		{"repeated chain folded", "outer: " + strings.Repeat("a: b: ", 50) + "end", func(out string) error {
			return want(out == "outer: a: b: (the 2 parts before repeat 49 more times): end", "got %q", out)
		}},
		{"two repeats kept", "x: y: x: y: z", func(out string) error {
			return want(out == "x: y: x: y: z", "got %q", out)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.check(CapMessage(tc.in)); err != nil {
				t.Error(err)
			}
		})
	}
}

func want(ok bool, format string, a ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, a...)
}

// TestSelfIncludingTemplate: Helm's error for a template that includes itself nests 1,000
// times (90 KB on one line); printed, it is one short line.
func TestSelfIncludingTemplate(t *testing.T) {
	ch := &chart.Chart{
		Metadata:  &chart.Metadata{Name: "c", Version: "0.1.0", APIVersion: "v2"},
		Templates: []*chart.File{{Name: "templates/a.yaml", Data: []byte(`{{ define "x" }}{{ include "x" . }}{{ end }}{{ include "x" . }}`)}},
	}
	vals, err := chartutil.ToRenderValues(ch, map[string]any{}, chartutil.ReleaseOptions{Name: "r"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Render(ch, vals)
	if err == nil || len(err.Error()) < 50000 {
		t.Fatalf("want Helm's long nested error, got %v", err)
	}
	var out bytes.Buffer
	ExitCode(err, "pattern-gen", IOStreams{ErrOut: &out})
	if got := out.String(); strings.Count(got, "\n") != 1 || len(got) > 600 || !strings.Contains(got, "nested reference name: x") {
		t.Errorf("printed %d bytes:\n%s", len(got), got)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		code int
		msg  string
	}{
		{nil, ExitOK, ""},
		{errors.New("bad"), ExitError, "p: bad\n"},
		{UsageError{errors.New("flag")}, ExitUsage, "p: flag\n"},
		{ExitErr{Code: 1}, 1, ""},
		{fmt.Errorf("diff: %w", ExitErr{Code: 2, Err: errors.New("x")}), 2, "p: diff: x\n"},
		{SignalError{syscall.SIGTERM}, 143, "p: stopped by SIGTERM before finishing\n"},
		{SignalError{syscall.SIGINT}, 130, "p: stopped by SIGINT before finishing\n"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		if code := ExitCode(tc.err, "p", IOStreams{ErrOut: &out}); code != tc.code || out.String() != tc.msg {
			t.Errorf("%v: code %d, printed %q; want %d, %q", tc.err, code, out.String(), tc.code, tc.msg)
		}
	}
}

// TestSignalContext sends the test process a real SIGTERM: the context ends with the signal as
// its cause, and Await returns it while the work still blocks.
func TestSignalContext(t *testing.T) {
	ctx, stop := SignalContext(context.Background())
	defer stop()
	block := make(chan struct{})
	defer close(block)
	errc := make(chan error, 1)
	go func() {
		_, err := Await(ctx, func() (int, error) { <-block; return 1, nil })
		errc <- err
	}()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	var se SignalError
	if !errors.As(err, &se) || se.Signal != syscall.SIGTERM {
		t.Fatalf("Await: %v", err)
	}
	if !errors.Is(Stopped(ctx), se) {
		t.Errorf("Stopped: %v", Stopped(ctx))
	}
}

func TestAwaitReturnsResult(t *testing.T) {
	t.Parallel()
	v, err := Await(context.Background(), func() (string, error) { return "done", nil })
	if v != "done" || err != nil {
		t.Errorf("got %q, %v", v, err)
	}
	if err := Stopped(context.Background()); err != nil {
		t.Errorf("Stopped: %v", err)
	}
}

// TestLoggerQuietAfterContext: lines logged after the context ended (work left running after a
// signal) are dropped, and lines are capped like errors.
func TestLoggerQuietAfterContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	logf := Logger(ctx, &out, "cmp-plugin")
	logf("one %s", strings.Repeat("x", 5000))
	cancel()
	logf("two")
	if got := out.String(); !strings.HasPrefix(got, "cmp-plugin: one xxx") || !strings.HasSuffix(got, "(line cut at 4096 bytes)\n") || strings.Contains(got, "two") {
		t.Errorf("logged %q", got)
	}
}
