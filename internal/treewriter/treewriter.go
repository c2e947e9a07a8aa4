// Package treewriter writes an in-memory file tree to disk all or nothing, and only inside its
// target: files are written to a temporary sibling directory first; every existing path on the
// way to every destination is checked with Lstat (a symbolic link anywhere is refused, so
// nothing is written outside the target); only then are files moved into place, and a failure
// while moving puts back every file as it was.
package treewriter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Marker is the file `pattern-gen render --out` leaves in its output directory, so a later run
// knows the directory is its own to replace.
const Marker = ".pattern-gen-rendered"

// Mode picks what happens to files already in the target directory.
type Mode int

const (
	// RefuseNonEmpty fails when the directory exists and is not empty.
	RefuseNonEmpty Mode = iota
	// Overlay writes every file of the tree over the directory, keeping files the tree does
	// not name (a fork's .git, for example).
	Overlay
	// Replace swaps the whole directory for the tree; allowed only for an empty directory or
	// one that carries Marker.
	Replace
)

// Write writes files (slash paths to contents) into dir. Files get mode 0644, directories 0755.
func Write(dir string, files map[string][]byte, mode Mode) error {
	return writer{rename: os.Rename}.write(dir, files, nil, mode)
}

// Update overlays files on dir and removes the files named in remove (slash paths; a missing
// one is skipped), all or nothing: a failure puts back every file as it was. Folders left
// empty by a removal are removed too.
func Update(dir string, files map[string][]byte, remove []string) error {
	return writer{rename: os.Rename}.write(dir, files, remove, Overlay)
}

// writer carries the one operation tests replace to fail part-way through moving files into
// place; everything else runs on the real filesystem.
type writer struct {
	rename func(from, to string) error
}

func (w writer) write(dir string, files map[string][]byte, remove []string, mode Mode) error {
	names, err := sortedNames(files)
	if err != nil {
		return err
	}
	removals := make(map[string][]byte, len(remove))
	for _, r := range remove {
		if _, both := files[r]; both {
			return fmt.Errorf("%s is both written and removed; this is a bug in pattern-gen", r)
		}
		removals[r] = nil
	}
	gone, err := sortedNames(removals)
	if err != nil {
		return err
	}
	empty, err := checkTarget(dir)
	if err != nil {
		return err
	}
	var steps []step
	switch {
	case empty:
		gone = nil // nothing there to remove
	case mode == RefuseNonEmpty:
		return fmt.Errorf("%s: directory is not empty; choose an empty directory or pass --force to overwrite the generated files", dir)
	case mode == Replace:
		if st, err := os.Lstat(filepath.Join(dir, Marker)); err != nil || !st.Mode().IsRegular() {
			return fmt.Errorf("%s: directory is not empty and was not written by pattern-gen render (no %s); choose an empty or new directory", dir, Marker)
		}
	default:
		// Check every destination before anything is staged or moved.
		if steps, err = plan(dir, names, gone); err != nil {
			return err
		}
	}
	tmp, err := stage(dir, files, names)
	if err != nil {
		return err
	}
	switch {
	case empty:
		defer os.RemoveAll(tmp)
		return w.swapEmpty(dir, tmp)
	case mode == Replace:
		defer os.RemoveAll(tmp)
		return w.swapMarked(dir, tmp)
	default:
		return w.overlay(dir, tmp, steps)
	}
}

// sortedNames checks that every name stays inside the target and returns them sorted.
func sortedNames(files map[string][]byte) ([]string, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		if !filepath.IsLocal(filepath.FromSlash(name)) || strings.Contains(name, `\`) || name != filepath.ToSlash(filepath.Clean(name)) {
			return nil, fmt.Errorf("tree path %q is not a clean relative path; this is a bug in pattern-gen", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// checkTarget refuses a target that is a link or not a directory, and says whether it is
// missing or empty.
func checkTarget(dir string) (bool, error) {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", dir, cause(err))
	case st.Mode()&fs.ModeSymlink != 0:
		return false, fmt.Errorf("%s is a symbolic link; pattern-gen does not write through links, name the real directory", dir)
	case !st.IsDir():
		return false, fmt.Errorf("%s: exists and is not a directory; choose a new or empty directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("%s: %w", dir, cause(err))
	}
	return len(entries) == 0, nil
}

// stage writes every file into a new temporary directory beside dir (same filesystem, so
// moving into place is a rename) and returns it.
func stage(dir string, files map[string][]byte, names []string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(dir), cause(err))
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("create a temporary directory beside %s: %w", dir, cause(err))
	}
	if err := writeAll(tmp, files, names); err != nil {
		_ = os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

func writeAll(tmp string, files map[string][]byte, names []string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, name := range names {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", name, cause(err))
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, cause(err))
		}
	}
	return nil
}

// swapEmpty puts tmp where a missing or empty dir is.
func (w writer) swapEmpty(dir, tmp string) error {
	existed := os.Remove(dir) == nil
	if err := w.rename(tmp, dir); err != nil {
		if existed {
			_ = os.Mkdir(dir, 0o755)
		}
		return fmt.Errorf("move %s into place: %w", dir, cause(err))
	}
	return nil
}

// swapMarked replaces an earlier render in dir by tmp, putting it back on failure.
func (w writer) swapMarked(dir, tmp string) error {
	old := tmp + ".old"
	if err := w.rename(dir, old); err != nil {
		return fmt.Errorf("move the previous %s aside: %w", dir, cause(err))
	}
	if err := w.rename(tmp, dir); err != nil {
		if rerr := w.rename(old, dir); rerr != nil {
			return fmt.Errorf("move %s into place: %w; the previous output is in %s", dir, cause(err), old)
		}
		return fmt.Errorf("move %s into place: %w", dir, cause(err))
	}
	return os.RemoveAll(old)
}

// cause drops the path from a filesystem error: messages name the target as the user wrote
// it, never the temporary directory's absolute path.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
