// Package schemacache holds the schemas the pins table names (the clustergroup chart's values
// schema, the pinned operators' CRDs, the Kubernetes OpenAPI of core kinds) in a folder under
// the user cache directory, each under its SHA-256. validate fetches a missing one once, by its
// pinned URL and checksum, and then checks forks offline.
package schemacache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pattern-gen/pattern-gen/internal/atomicfile"
	"github.com/pattern-gen/pattern-gen/internal/pins"
)

// Cache is a folder of schemas named by their SHA-256, and how to fetch a missing one.
type Cache struct {
	Dir string
	// Fetch downloads a go-getter source (the schema's URL with ?checksum=sha256:...); nil
	// means offline: only what the folder holds is used.
	Fetch func(ctx context.Context, src string) ([]byte, error)
	// Logf reports a fetched schema the folder could not keep (every run then fetches it
	// again); may be nil.
	Logf func(format string, args ...any)
}

// DefaultDir is <user cache directory>/pattern-gen/schemas (~/.cache/pattern-gen/schemas on
// Linux), beside the tools the project's Makefile caches.
func DefaultDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "pattern-gen", "schemas"), nil
}

// Path is where the cache keeps s.
func (c Cache) Path(s pins.Schema) string { return filepath.Join(c.Dir, "sha256-"+s.SHA256) }

// ErrUnavailable is the error for a schema neither cached nor fetched.
var ErrUnavailable = errors.New("schema unavailable")

// Get returns s from the cache, or fetches it, checks its SHA-256 and caches it. A cached file
// whose digest does not match (a partial write, an edit) is fetched again.
func (c Cache) Get(ctx context.Context, s pins.Schema) ([]byte, error) {
	if c.Dir == "" {
		return nil, fmt.Errorf("%w: %s: there is no user cache directory ($XDG_CACHE_HOME or $HOME); pass --schema-cache DIR", ErrUnavailable, s.URL)
	}
	p := c.Path(s)
	why := "is not in the cache (" + c.Dir + ")"
	switch data, err := os.ReadFile(p); {
	case err == nil && digest(data) == s.SHA256:
		return data, nil
	case err == nil:
		why = "has a copy in the cache (" + p + ") whose SHA-256 is not the pinned one"
	case !errors.Is(err, fs.ErrNotExist):
		why = "cannot be read from the cache (" + c.Dir + "): " + errors.Unwrap(err).Error()
	}
	if c.Fetch == nil {
		return nil, fmt.Errorf("%w: %s %s, and fetching is off", ErrUnavailable, s.URL, why)
	}
	data, err := c.Fetch(ctx, s.URL+"?checksum=sha256:"+s.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s, and fetching it failed: %w", ErrUnavailable, s.URL, why, err)
	}
	if digest(data) != s.SHA256 { // go-getter checks it too; a schema is only ever used verified
		return nil, fmt.Errorf("%w: %s: its SHA-256 is %s, the pins table says %s", ErrUnavailable, s.URL, digest(data), s.SHA256)
	}
	if err := c.store(p, data); err != nil && c.Logf != nil {
		c.Logf("the schema cache %s cannot keep %s (%v): every run fetches it again", c.Dir, s.URL, err)
	}
	return data, nil
}

// Put stores data as s when its digest is s's (a schema copied in by hand, for air-gapped use).
func (c Cache) Put(s pins.Schema, data []byte) error {
	if digest(data) != s.SHA256 {
		return fmt.Errorf("%s: SHA-256 %s, the pins table says %s", s.URL, digest(data), s.SHA256)
	}
	return c.store(c.Path(s), data)
}

// store writes data to p so that a reader never sees part of a schema.
func (c Cache) store(p string, data []byte) error {
	return atomicfile.Write(p, data, 0o644, 0o755)
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
