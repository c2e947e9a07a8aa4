package generate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/render"
)

// MaxForkFileSize bounds each file read from a fork, so a stray large file cannot exhaust memory.
const MaxForkFileSize = 16 << 20

// ReadFork reads a fork from disk, leaving out version-control and hidden directories.
func ReadFork(dir string) (render.Tree, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("fork %s: not a directory", dir)
	}
	t := render.Tree{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Argo CD and this renderer must see the same files; a link could also reach
			// outside the repository.
			return fmt.Errorf("%s is a symbolic link; pattern-gen does not follow links in a fork, replace it with the file", rel)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := ReadLimited(p, MaxForkFileSize)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		t[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read fork %s: %w", dir, err)
	}
	return t, nil
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
