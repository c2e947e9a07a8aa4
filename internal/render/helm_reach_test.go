package render

import (
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/testutil/reach"
)

// newHelmLoopback is a loopback HTTP (or HTTPS) server answering a JSON schema; it counts every
// connection it accepts, whether or not a request follows.
func newHelmLoopback(t *testing.T, tls bool) *reach.Server {
	return reach.Serve(t, tls, reach.SchemaResponse)
}

// newHelmMarker is a FIFO outside any repository that records whether anyone opened it; a
// reader gets invalid JSON at once.
func newHelmMarker(t *testing.T) *reach.FIFO { return reach.Marker(t) }
