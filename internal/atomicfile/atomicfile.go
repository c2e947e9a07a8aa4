// Package atomicfile writes a file so that a reader sees the old content or the new, never part
// of it: through a temporary file in the same folder, then a rename.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to path with mode perm. A missing folder is created with dirPerm. The
// temporary file has perm from the start, so a private file is never readable by others.
func Write(path string, data []byte, perm, dirPerm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
