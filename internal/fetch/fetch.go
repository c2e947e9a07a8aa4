// Package fetch reads a config or schema from a local path or a remote go-getter source,
// restricted to what a review can trust: HTTPS (pinned when the URL carries ?checksum=) and git
// over HTTPS or SSH, with a timeout, a size limit, no archive extraction, no path or link out of
// the download, and no secret of the source (userinfo, tokens, sshkey) in any message.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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
// Every error it returns has the source's secrets scrubbed, go-getter's and git's text included.
func File(ctx context.Context, src string, o Options) ([]byte, error) {
	data, err := file(ctx, src, o)
	return data, RedactError(src, err)
}

func file(ctx context.Context, src string, o Options) ([]byte, error) {
	forced, rest := splitForced(src)
	switch {
	case forced == "" && strings.HasPrefix(rest, "https://"):
		return httpsFile(ctx, src, o)
	case forced == "git" && (strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "ssh://")):
		return gitFile(ctx, src, o)
	}
	return nil, fmt.Errorf("source %q is not allowed: use a local path, https://...?checksum=sha256:<hex>, or git::https://... / git::ssh://... with //path/to/file", Redact(src))
}

// splitForced splits go-getter's "getter::" prefix (letters and digits only, as go-getter reads
// it) from a source.
func splitForced(src string) (forced, rest string) {
	i := strings.Index(src, "::")
	if i <= 0 || strings.IndexFunc(src[:i], func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) >= 0 {
		return "", src
	}
	return src[:i], src[i+2:]
}

// downloadName is the downloaded file or repository inside the temporary folder.
const downloadName = "download"

func httpsFile(ctx context.Context, src string, o Options) ([]byte, error) {
	// go-getter truncates at MaxBytes without an error: allow one byte more, so that readInside
	// sees the file is too large instead of reading a cut one.
	g := &getter.HttpGetter{Client: o.HTTPClient, MaxBytes: o.MaxBytes + 1, ReadTimeout: o.Timeout, XTerraformGetDisabled: true}
	return download(ctx, src, o, g, &getter.Request{Src: src, GetMode: getter.ModeFile}, downloadName)
}

// gitFile fetches the file a git source names; src may carry the "git::" prefix.
func gitFile(ctx context.Context, src string, o Options) ([]byte, error) {
	_, rest := splitForced(src)
	repo, sub := getter.SourceDirSubdir(rest)
	if sub == "" {
		return nil, fmt.Errorf("git source %s names no file: add //path/to/file after the repository", Redact(src))
	}
	// The query (ref=...) belongs to the repository, not to the file path.
	sub, _, _ = strings.Cut(sub, "?")
	return download(ctx, src, o, &getter.GitGetter{}, &getter.Request{Src: repo, GetMode: getter.ModeDir, Forced: "git"}, downloadName+"/"+sub)
}

// download fetches req into a temporary folder with one getter, no archive extraction and no
// symlinks, within the timeout, and reads name (slash path) inside the temporary folder.
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
	req.Dst = filepath.Join(dir, downloadName)
	if _, err := client.Get(ctx, req); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", Redact(src), &sourceError{msg: getterMessage(ctx, err, o.Timeout), err: err})
	}
	data, err := readInside(dir, name, o.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", Redact(src), err)
	}
	return data, nil
}

// cloningRE matches git's progress line, which names the temporary folder.
var cloningRE = regexp.MustCompile(`Cloning into '[^']*'\.\.\.`)

// getterMessage turns a go-getter error into one line: a timeout says so, and git's several
// lines of output are joined without its progress line.
func getterMessage(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s; check the source, or that it is reachable from here", timeout)
	}
	return strings.Join(strings.Fields(cloningRE.ReplaceAllString(err.Error(), "")), " ")
}

// readInside reads name (a slash path) below root. Every component on the way is checked with
// Lstat: a git checkout can hold links (git writes them whatever go-getter is told), and a link
// to a folder anywhere on the path would lead out of the download.
func readInside(root, name string, limit int64) ([]byte, error) {
	shown := strings.TrimPrefix(name, downloadName+"/")
	if shown == downloadName {
		shown = "the downloaded file"
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return nil, fmt.Errorf("%s leaves the downloaded folder", shown)
	}
	parts := strings.Split(filepath.ToSlash(filepath.Clean(filepath.FromSlash(name))), "/")
	p := root
	for i, part := range parts {
		p = filepath.Join(p, part)
		st, err := os.Lstat(p)
		last := i == len(parts)-1
		switch {
		case err != nil, !last && !st.IsDir() && st.Mode()&fs.ModeSymlink == 0:
			return nil, fmt.Errorf("%s: not in the download", shown)
		case st.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%s is a symbolic link; refusing to follow it", strings.TrimPrefix(strings.Join(parts[:i+1], "/"), downloadName+"/"))
		case last && !st.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file", shown)
		case last && st.Size() > limit:
			return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", shown, st.Size(), limit)
		}
	}
	return readLimited(p, limit)
}

// readLimited reads at most limit bytes of a file checked just before, failing if it grew.
func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open the downloaded file: %w", errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the downloaded file: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, errors.New("the downloaded file grew past the size limit while being read")
	}
	return data, nil
}
