package schemacache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pattern-gen/pattern-gen/internal/fetch"
	"github.com/pattern-gen/pattern-gen/internal/pins"
)

const schema = `{"type": "object"}`

// A schema is fetched once through go-getter (the real HTTPS getter, from a loopback server
// standing in for raw.githubusercontent.com), checked, cached, and then used offline.
func TestGetFetchesOnceThenOffline(t *testing.T) {
	var hits atomic.Int32 // fetches, each of them one or more requests
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, schema) }))
	defer srv.Close()
	c := Cache{Dir: t.TempDir(), Fetch: func(ctx context.Context, src string) ([]byte, error) {
		hits.Add(1)
		return fetch.File(ctx, src, fetch.Options{MaxBytes: 1 << 20, Timeout: 5 * time.Second, HTTPClient: srv.Client()})
	}}
	s := pins.Schema{Kind: pins.SchemaValues, URL: srv.URL + "/values.schema.json", SHA256: digest([]byte(schema))}
	for range 2 {
		if got, err := c.Get(context.Background(), s); err != nil || string(got) != schema {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("%d fetches, want 1", hits.Load())
	}
	offline := Cache{Dir: c.Dir}
	if _, err := offline.Get(context.Background(), s); err != nil {
		t.Fatalf("offline after a fetch: %v", err)
	}

	// A cached file that no longer matches its digest is fetched again, not used.
	if err := os.WriteFile(c.Path(s), []byte(`{"type": "string"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := offline.Get(context.Background(), s); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a tampered cache file was used: %v", err)
	}
	if got, err := c.Get(context.Background(), s); err != nil || string(got) != schema || hits.Load() != 2 {
		t.Fatalf("refetch: %q, %v, %d fetches", got, err, hits.Load())
	}

	// What the server sends must be what the pins table says: nothing else is cached.
	wrong := pins.Schema{Kind: pins.SchemaCRD, URL: srv.URL + "/crd.yaml", SHA256: strings.Repeat("0", 64)}
	if _, err := c.Get(context.Background(), wrong); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("a wrong checksum: %v", err)
	}
	if _, err := os.Stat(c.Path(wrong)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a schema that failed its checksum was cached: %v", err)
	}
}

// Offline and not cached: the error names the URL and the cache folder.
func TestGetOfflineNamesTheCache(t *testing.T) {
	c := Cache{Dir: "/no/such/cache"}
	s := pins.Schema{Kind: pins.SchemaCRD, URL: "https://example.com/x.yaml", SHA256: strings.Repeat("a", 64)}
	_, err := c.Get(context.Background(), s)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "https://example.com/x.yaml is not in the cache (/no/such/cache), and fetching is off") {
		t.Fatalf("got %v", err)
	}
	if err := c.Put(s, []byte("other")); err == nil {
		t.Fatal("Put took a file whose digest is not the pinned one")
	}
}
