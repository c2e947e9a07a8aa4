package validate

import (
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/testutil/reach"
)

// newLoopback is a loopback HTTP server answering a JSON schema; it counts every connection.
func newLoopback(t *testing.T) *reach.Server { return reach.Serve(t, false, reach.SchemaResponse) }

// newMarker is a FIFO outside any repository that records whether anyone opened it; a reader
// gets invalid JSON.
func newMarker(t *testing.T) *reach.FIFO { return reach.Marker(t) }
