package reach

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// FIFO is a named pipe that records any open for reading. A plain marker file would need its
// access time, which mounts often do not keep; a FIFO cannot be read without its writer
// noticing. A goroutine blocks opening it for writing, which returns only when a reader comes;
// it records the open before it writes anything (so a reader that got data or end-of-file has
// been recorded), writes the content, closes, and opens again, so a second reader does not
// hang. A reader that still holds the FIFO after the writer closed is served again (it may read
// the content more than once), so the FIFO says whether it was opened, not how often.
type FIFO struct {
	Path    string
	content []byte
	opened  atomic.Bool
	done    atomic.Bool
	stopped chan struct{}
	once    sync.Once
}

// NewFIFO makes a FIFO at path, which must not exist, and starts recording; each reader gets
// content. Close stops it.
func NewFIFO(path string, content []byte) (*FIFO, error) {
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		return nil, fmt.Errorf("make FIFO %s: %w", path, err)
	}
	f := &FIFO{Path: path, content: content, stopped: make(chan struct{})}
	go f.serve()
	return f, nil
}

func (f *FIFO) serve() {
	defer close(f.stopped)
	for {
		w, err := os.OpenFile(f.Path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		if f.done.Load() { // Close's own open
			_ = w.Close()
			return
		}
		f.opened.Store(true)
		_, _ = w.Write(f.content) // a reader that left early gives EPIPE: it was recorded
		_ = w.Close()
	}
}

// Opened reports whether anyone opened the FIFO for reading since the start or the last Reset.
func (f *FIFO) Opened() bool { return f.opened.Load() }

// Reset forgets the opens so far.
func (f *FIFO) Reset() { f.opened.Store(false) }

// Close releases the writer without recording its own open, and waits for it to stop.
func (f *FIFO) Close() {
	f.once.Do(func() {
		f.done.Store(true)
		// A non-blocking read open succeeds at once and lets a blocked writer's open return.
		r, err := os.OpenFile(f.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return // the FIFO is gone, so the writer's next open fails and it stops
		}
		<-f.stopped
		_ = r.Close()
	})
}
