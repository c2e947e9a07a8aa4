package render

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// helmLoopback is a loopback HTTP (or HTTPS) server that counts every connection it accepts,
// whether or not a request follows.
type helmLoopback struct {
	*httptest.Server
	conns atomic.Int64
}

func newHelmLoopback(t *testing.T, tls bool) *helmLoopback {
	t.Helper()
	l := &helmLoopback{}
	l.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type": "string"}`))
	}))
	l.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			l.conns.Add(1)
		}
	}
	if tls {
		l.StartTLS()
	} else {
		l.Start()
	}
	t.Cleanup(l.Close)
	return l
}

// helmMarker is a FIFO outside any repository that records whether anyone opened it for
// reading: a goroutine holds it open for writing, which blocks until a reader comes. Nothing
// can read it without the goroutine noticing, and a reader gets invalid JSON at once.
type helmMarker struct {
	Path   string
	opened atomic.Bool
	done   atomic.Bool
	wg     sync.WaitGroup
}

func newHelmMarker(t *testing.T) *helmMarker {
	t.Helper()
	m := &helmMarker{Path: filepath.Join(t.TempDir(), "marker.json")}
	if err := syscall.Mkfifo(m.Path, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	m.wg.Add(1)
	go m.serve()
	t.Cleanup(m.release)
	return m
}

// serve answers every reader until release: each open is recorded before anything is written,
// so a reader that got data has been recorded.
func (m *helmMarker) serve() {
	defer m.wg.Done()
	for {
		f, err := os.OpenFile(m.Path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		if m.done.Load() {
			_ = f.Close()
			return
		}
		m.opened.Store(true)
		_, _ = f.Write([]byte("not json"))
		_ = f.Close()
	}
}

// Opened reports whether anyone opened the marker for reading so far.
func (m *helmMarker) Opened() bool { return m.opened.Load() }

// release lets the writer go without counting this test's own open.
func (m *helmMarker) release() {
	m.done.Store(true)
	if f, err := os.OpenFile(m.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		m.wg.Wait()
		_ = f.Close()
	}
}
