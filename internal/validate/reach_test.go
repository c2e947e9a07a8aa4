package validate

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

// The side-effect detectors below are the same as internal/render's (helm_reach_test.go); test
// files cannot share them across packages.

// loopback is a loopback HTTP server that counts every connection it accepts.
type loopback struct {
	*httptest.Server
	conns atomic.Int64
}

func newLoopback(t *testing.T) *loopback {
	t.Helper()
	l := &loopback{}
	l.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"type": "string"}`))
	}))
	l.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			l.conns.Add(1)
		}
	}
	l.Start()
	t.Cleanup(l.Close)
	return l
}

// marker is a FIFO outside any repository that records whether anyone opened it for reading: a
// goroutine keeps opening it for writing, which blocks until a reader comes, records the open
// before writing anything, and gives the reader invalid JSON.
type marker struct {
	Path   string
	opened atomic.Bool
	done   atomic.Bool
	wg     sync.WaitGroup
}

func newMarker(t *testing.T) *marker {
	t.Helper()
	m := &marker{Path: filepath.Join(t.TempDir(), "marker.json")}
	if err := syscall.Mkfifo(m.Path, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	m.wg.Add(1)
	go m.serve()
	t.Cleanup(m.release)
	return m
}

func (m *marker) serve() {
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
func (m *marker) Opened() bool { return m.opened.Load() }

// release lets the writer go without counting this test's own open.
func (m *marker) release() {
	m.done.Store(true)
	if f, err := os.OpenFile(m.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		m.wg.Wait()
		_ = f.Close()
	}
}
