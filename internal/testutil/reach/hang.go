package reach

import (
	"net"
	"sync"
)

// Hang is a loopback listener that accepts connections and never answers them: a flaky network
// or an API server that stopped responding, for tests that a command gives up when told to.
type Hang struct {
	l    net.Listener
	mu   sync.Mutex
	held []net.Conn
}

// StartHang starts a Hang on a free loopback port.
func StartHang() (*Hang, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &Hang{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.held = append(h.held, c) // never read, never answered
			h.mu.Unlock()
		}
	}()
	return h, nil
}

// Addr is the listener's host:port.
func (h *Hang) Addr() string { return h.l.Addr().String() }

// Close stops listening and drops every held connection.
func (h *Hang) Close() {
	h.l.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.held {
		c.Close()
	}
}
