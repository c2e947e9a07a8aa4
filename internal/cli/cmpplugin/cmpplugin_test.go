package cmpplugin

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
)

// TestWriteManifests: the stream is written whole, or not at all when it is over the limit or a
// signal has come.
func TestWriteManifests(t *testing.T) {
	t.Parallel()
	stopped, cancel := context.WithCancelCause(context.Background())
	cancel(base.SignalError{Signal: syscall.SIGTERM})
	cases := []struct {
		name    string
		ctx     context.Context
		out     string
		limit   int
		wantErr string
	}{
		{"written", context.Background(), "---\nkind: A\n", 64, ""},
		{"at the limit", context.Background(), strings.Repeat("x", 64), 64, ""},
		{"over the limit", context.Background(), strings.Repeat("x", 65), 64, "the application renders 65 bytes of manifests, more than the 64 cmp-plugin passes to Argo CD"},
		{"after a signal", stopped, "---\nkind: A\n", 64, "stopped by SIGTERM before finishing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var w bytes.Buffer
			err := writeManifests(tc.ctx, &w, []byte(tc.out), tc.limit)
			switch {
			case tc.wantErr == "" && (err != nil || w.String() != tc.out):
				t.Errorf("error %v, wrote %q", err, w.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || w.Len() > 0):
				t.Errorf("error %v, wrote %d bytes; want %q and nothing written", err, w.Len(), tc.wantErr)
			}
		})
	}
}

// MaxManifestBytes stays below Argo CD's default 100 MiB gRPC message limit.
func TestMaxManifestBytesUnderArgoCDLimit(t *testing.T) {
	if MaxManifestBytes >= 100<<20 {
		t.Errorf("MaxManifestBytes %d is not below Argo CD's 100 MiB", MaxManifestBytes)
	}
}
