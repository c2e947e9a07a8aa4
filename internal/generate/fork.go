package generate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/render"
)

// MaxForkFileSize bounds each file read from a fork, so a stray large file cannot exhaust memory.
const MaxForkFileSize = 16 << 20

// Fork is a fork on disk, listed once and read on demand. cmp-plugin reads only what its
// application can reach (the clusterGroup's values, the chart, its value files, the overlay's
// kustomizations), so unrelated files in the repository cost it neither time nor memory. Every
// read goes through an os.Root, so nothing is opened outside the fork.
type Fork struct {
	dir   string
	root  *os.Root
	files map[string]fileKind // slash paths below the fork
	dirs  map[string]bool
}

type fileKind int

const (
	regular fileKind = iota
	link
	special // a FIFO, socket or device: never opened
)

// OpenFork lists the fork in dir: every file but version control's (.git, at any depth, as a
// folder or a worktree's file). Hidden folders are listed: Argo CD's Helm applies a value file
// in one, so render must see it too.
func OpenFork(dir string) (*Fork, error) { return openFork(dir, true) }

// OpenForkTop lists only the files at the fork's root, where its values files and config are:
// completion and the cluster commands must stay fast in a fork full of other files.
func OpenForkTop(dir string) (*Fork, error) { return openFork(dir, false) }

func openFork(dir string, walk bool) (*Fork, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("fork %s: not a directory", dir)
	}
	// Before anything is walked: a command run outside a fork (in a home folder, say) must not
	// read a whole tree to find out.
	if _, err := os.Lstat(filepath.Join(dir, "values-global.yaml")); errors.Is(err, fs.ErrNotExist) {
		return nil, NotAFork(dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", dir, err)
	}
	f := &Fork{dir: dir, root: root, files: map[string]fileKind{}, dirs: map[string]bool{".": true}}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir() && !walk && p != ".":
			return fs.SkipDir
		case d.IsDir():
			f.dirs[p] = true
		case d.Type()&fs.ModeSymlink != 0:
			f.files[p] = link
		case d.Type().IsRegular():
			f.files[p] = regular
		default:
			f.files[p] = special
		}
		return nil
	})
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("read fork %s: %w", dir, err)
	}
	return f, nil
}

// Close releases the fork's directory handle.
func (f *Fork) Close() error { return f.root.Close() }

// Has reports whether the fork has a file (of any kind) at p.
func (f *Fork) Has(p string) bool {
	_, ok := f.files[p]
	return ok
}

// IsDir reports whether p is a folder of the fork ("." or "" is its root).
func (f *Fork) IsDir(p string) bool {
	if p == "" {
		p = "."
	}
	return f.dirs[p]
}

// ReadFile reads one regular file of the fork, at most MaxForkFileSize bytes. A symbolic link
// is an error: Argo CD and this renderer must see the same files, and a link could reach
// outside the repository.
func (f *Fork) ReadFile(p string) ([]byte, error) {
	switch kind, ok := f.files[p]; {
	case !ok:
		return nil, fmt.Errorf("%s: not in the fork", p)
	case kind == link:
		return nil, fmt.Errorf("%s is a symbolic link; pattern-gen does not follow links in a fork, replace it with the file", p)
	case kind == special:
		return nil, fmt.Errorf("%s: it is not a regular file", p)
	}
	file, err := f.root.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, errors.Unwrap(err))
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if !st.Mode().IsRegular() { // replaced since the listing
		return nil, fmt.Errorf("%s: it is not a regular file", p)
	}
	data, err := io.ReadAll(io.LimitReader(file, MaxForkFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(data) > MaxForkFileSize {
		return nil, fmt.Errorf("%s: it is more than the %d bytes allowed", p, MaxForkFileSize)
	}
	return data, nil
}

// FilesUnder lists the files below dir ("." for all), sorted.
func (f *Fork) FilesUnder(dir string) []string {
	var out []string
	prefix := strings.TrimSuffix(path.Clean(dir), "/") + "/"
	for p := range f.files {
		if prefix == "./" || strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Load reads files into t, skipping those t already holds.
func (f *Fork) Load(t render.Tree, paths ...string) error {
	for _, p := range paths {
		if t.Has(p) {
			continue
		}
		data, err := f.ReadFile(p)
		if err != nil {
			return err
		}
		t[p] = data
	}
	return nil
}

// ReadFork reads a whole fork from disk (offline render, validate, diff of the working tree).
// A symbolic link anywhere in it is an error, as Argo CD refuses a repository with links that
// leave it.
func ReadFork(dir string) (render.Tree, error) {
	f, err := OpenFork(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := render.Tree{}
	var paths []string
	for _, p := range f.FilesUnder(".") {
		if f.files[p] != special { // a socket or FIFO left in a working tree is not the fork's
			paths = append(paths, p)
		}
	}
	if err := f.Load(t, paths...); err != nil {
		return nil, fmt.Errorf("read fork %s: %w", dir, err)
	}
	return t, nil
}

// NotAFork is the error for a folder without values-global.yaml, saying how to make a fork.
func NotAFork(dir string) error {
	return fmt.Errorf("%s is not a pattern fork (no values-global.yaml): make one with pattern-gen init DIR, then run the command in DIR or name it", dir)
}

// ReadLimited reads a regular file of at most limit bytes.
func ReadLimited(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("it is a directory")
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("it is not a regular file")
	case st.Size() > limit:
		return nil, fmt.Errorf("it is %d bytes, more than the %d allowed", st.Size(), limit)
	}
	return os.ReadFile(path)
}
