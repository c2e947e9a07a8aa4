// Package fetch reads a config or schema from a local path or a remote go-getter source,
// restricted to what a review can trust: HTTPS (pinned when the URL carries ?checksum=) and git
// over HTTPS or SSH, with a timeout, a size limit, no archive extraction, and no path or link
// out of the download.
package fetch

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	getter "github.com/hashicorp/go-getter/v2"
)

// Options bound a fetch.
type Options struct {
	MaxBytes int64
	Timeout  time.Duration
	// HTTPClient makes the HTTPS requests (tests pass one that trusts their server).
	HTTPClient *http.Client
}

// IsRemote reports whether src names a go-getter source rather than a local path.
func IsRemote(src string) bool {
	return strings.Contains(src, "::") || strings.Contains(src, "://")
}

// File fetches one file. git sources name the file after "//": git::https://host/org/repo.git//path/file?ref=v1.
func File(ctx context.Context, src string, o Options) ([]byte, error) {
	forced, rest := "", src
	if i := strings.Index(src, "::"); i > 0 {
		forced, rest = src[:i], src[i+2:]
	}
	switch {
	case forced == "" && strings.HasPrefix(rest, "https://"):
		return httpsFile(ctx, rest, o)
	case forced == "git" && (strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "ssh://")):
		return gitFile(ctx, rest, o)
	}
	return nil, fmt.Errorf("source %q is not allowed: use a local path, https://...?checksum=sha256:<hex>, or git::https://... / git::ssh://... with //path/to/file", redact(src))
}

func httpsFile(ctx context.Context, src string, o Options) ([]byte, error) {
	// go-getter truncates at MaxBytes without an error: allow one byte more, so that readInside
	// sees the file is too large instead of reading a cut one.
	g := &getter.HttpGetter{Client: o.HTTPClient, MaxBytes: o.MaxBytes + 1, ReadTimeout: o.Timeout, XTerraformGetDisabled: true}
	return download(ctx, src, o, g, &getter.Request{Src: src, GetMode: getter.ModeFile}, "")
}

func gitFile(ctx context.Context, src string, o Options) ([]byte, error) {
	repo, sub := getter.SourceDirSubdir(src)
	if sub == "" {
		return nil, fmt.Errorf("git source %s names no file: add //path/to/file after the repository", redact(src))
	}
	// The query (ref=...) belongs to the repository, not to the file path.
	sub, _, _ = strings.Cut(sub, "?")
	return download(ctx, src, o, &getter.GitGetter{}, &getter.Request{Src: repo, GetMode: getter.ModeDir, Forced: "git"}, sub)
}

// download fetches req into a temporary folder with one getter, no archive extraction and no
// symlinks, within the timeout, and reads the file (ModeFile) or name inside the download.
func download(ctx context.Context, src string, o Options, g getter.Getter, req *getter.Request, name string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "pattern-gen-fetch-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	client := &getter.Client{
		Getters:         []getter.Getter{g},
		Decompressors:   map[string]getter.Decompressor{}, // never unpack archives
		DisableSymlinks: true,
	}
	req.Dst = filepath.Join(dir, "get")
	target := "get"
	if name != "" {
		target += "/" + name
	}
	if _, err := client.Get(ctx, req); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", redact(src), err)
	}
	return readInside(dir, target, o.MaxBytes)
}

// readInside reads name below root, refusing paths or links that lead out of it.
func readInside(root, name string, limit int64) ([]byte, error) {
	p := filepath.Join(root, filepath.FromSlash(name))
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s leaves the downloaded folder", name)
	}
	st, err := os.Lstat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: not in the download", name)
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		return nil, fmt.Errorf("%s is a symbolic link; refusing to follow it", name)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", name)
	case st.Size() > limit:
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", name, st.Size(), limit)
	}
	return os.ReadFile(p)
}

// redact drops credentials from a source before it appears in a message.
func redact(src string) string {
	if at := strings.Index(src, "@"); at > 0 {
		if scheme := strings.Index(src, "://"); scheme > 0 && scheme < at {
			return src[:scheme+3] + "REDACTED" + src[at:]
		}
	}
	return src
}
