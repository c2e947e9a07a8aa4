// Package treewriter writes an in-memory file tree to disk so that a failure never leaves a
// half-written directory: files are written to a temporary sibling directory first and moved
// into place only when all of them were written.
package treewriter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
	empty, err := isEmptyDir(dir)
	if err != nil {
		return err
	}
	switch {
	case empty:
	case mode == RefuseNonEmpty:
		return fmt.Errorf("%s: directory is not empty; choose an empty directory or pass --force to overwrite the generated files", dir)
	case mode == Replace:
		if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
			return fmt.Errorf("%s: directory is not empty and was not written by pattern-gen render (no %s); choose an empty or new directory", dir, Marker)
		}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("create temporary directory beside %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	switch {
	case empty:
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("replace %s: %w", dir, err)
		}
		return rename(tmp, dir)
	case mode == Replace:
		old := tmp + ".old"
		if err := rename(dir, old); err != nil {
			return err
		}
		if err := rename(tmp, dir); err != nil {
			_ = rename(old, dir) // put the previous output back
			return err
		}
		return os.RemoveAll(old)
	default: // Overlay: each file is moved into place by an atomic rename
		for _, name := range names {
			dst := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return fmt.Errorf("write %s: %w", dst, err)
			}
			if err := rename(filepath.Join(tmp, filepath.FromSlash(name)), dst); err != nil {
				return err
			}
		}
		return nil
	}
}

func rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("move into place: %w", err)
	}
	return nil
}

func isEmptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", dir, err)
	}
	return len(entries) == 0, nil
}
