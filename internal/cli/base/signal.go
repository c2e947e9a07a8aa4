package base

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SignalError is a run stopped by SIGTERM (Argo CD's deadline for a plugin, or a CI job's
// cancel) or SIGINT (Ctrl-C). Its exit code is 128 plus the signal number, which can be told
// apart from every code a command returns itself (diff's 1 means "differences").
type SignalError struct{ Signal syscall.Signal }

func (e SignalError) Error() string {
	name := "SIGTERM"
	if e.Signal == syscall.SIGINT {
		name = "SIGINT"
	}
	return "stopped by " + name + " before finishing"
}

// SignalContext returns a context that the first SIGTERM or SIGINT cancels with a SignalError
// as its cause. Later signals are taken too, until stop: GNU timeout (and a shell's job control)
// send a signal to the process and again to its process group, and a second one handled the
// default way would kill the process before it says why it stopped. Execute ends the command
// within StopGrace anyway. stop releases the signals.
func SignalContext(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(SignalError{Signal: s.(syscall.Signal)})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(context.Canceled)
	}
}

// Await returns f's result, or the context's cause as soon as ctx ends while f still runs. The
// Helm engine cannot be cancelled, so f goes on in its goroutine until the process exits: f
// must only compute, and the caller writes its output after Await returns, when Stopped says
// it may.
func Await[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

// Stopped returns the context's cause once it has ended, else nil. Commands call it right
// before they print or write, and never abandon a write once started.
func Stopped(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// Logger returns a logf that prints "prefix: message" lines (capped like errors) to w until ctx
// ends: work that Await left running after a signal, or that fails because of it, must not add
// lines after the command's last word.
func Logger(ctx context.Context, w io.Writer, prefix string) func(format string, a ...any) {
	var mu sync.Mutex
	return func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() == nil {
			fmt.Fprintln(w, prefix+": "+indentContinuation(CapMessage(fmt.Sprintf(format, a...))))
		}
	}
}
