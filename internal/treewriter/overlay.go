package treewriter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// step is one file an overlay moves into place, or removes.
type step struct {
	name    string // slash path below the target
	replace bool   // a regular file is there now and is backed up first
	remove  bool   // the file is only backed up (removed), nothing is placed
}

// plan checks, before anything is written, every existing path on the way to every
// destination: a link anywhere, a file where a folder is needed, a folder or special file where
// a file goes, or a folder pattern-gen may not write in is an error naming it.
func plan(dir string, names, remove []string) ([]step, error) {
	if err := writable(dir); err != nil {
		return nil, fmt.Errorf("%s: %w; pattern-gen cannot write there", dir, err)
	}
	folders := map[string]bool{} // folders already checked
	steps := make([]step, 0, len(names)+len(remove))
	for _, name := range names {
		s, err := checkDestination(dir, name, folders)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	for _, name := range remove {
		s, err := checkDestination(dir, name, folders)
		if err != nil {
			return nil, err
		}
		if s.replace { // a missing file is already gone
			steps = append(steps, step{name: name, replace: true, remove: true})
		}
	}
	return steps, nil
}

func checkDestination(dir, name string, folders map[string]bool) (step, error) {
	parts := strings.Split(name, "/")
	for i := range parts {
		rel := strings.Join(parts[:i+1], "/")
		last := i == len(parts)-1
		if !last && folders[rel] {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return step{name: name}, nil // the rest is created inside a checked folder
		case err != nil:
			return step{}, fmt.Errorf("%s: %w", p, cause(err))
		case st.Mode()&fs.ModeSymlink != 0:
			return step{}, fmt.Errorf("%s is a symbolic link; pattern-gen does not write through links, replace it with a folder or file of its own", p)
		case !last && !st.IsDir():
			return step{}, fmt.Errorf("%s is a file where pattern-gen writes a folder; move it away", p)
		case !last:
			if err := writable(p); err != nil {
				return step{}, fmt.Errorf("%s: %w; pattern-gen cannot write there", p, err)
			}
			folders[rel] = true
		case st.IsDir():
			return step{}, fmt.Errorf("%s is a folder where pattern-gen writes a file; move it away", p)
		case !st.Mode().IsRegular():
			return step{}, fmt.Errorf("%s is not a regular file; move it away", p)
		}
	}
	return step{name: name, replace: true}, nil
}

// undo is one action to reverse when a later move fails.
type undo struct {
	created string // a folder the overlay created
	placed  string // a file moved into place
	backup  string // where the file at restore was moved aside
	restore string
}

// overlay moves the files staged in tmp over dir. Each replaced file is first moved aside into
// a backup folder beside dir (a rename keeps its bytes, mode and times), so a failure can put
// everything back; the backup folder is kept, and named, only if that fails too.
func (w writer) overlay(dir, tmp string, steps []step) error {
	defer os.RemoveAll(tmp)
	backups, err := os.MkdirTemp(filepath.Dir(tmp), "."+strings.TrimPrefix(filepath.Base(tmp), ".")+".backup-")
	if err != nil {
		return fmt.Errorf("create a backup directory beside %s: %w", dir, cause(err))
	}
	var done []undo
	err = w.moveAll(dir, tmp, backups, steps, &done)
	if err == nil {
		pruneEmpty(dir, steps)
		return os.RemoveAll(backups)
	}
	if rerr := w.rollback(done); rerr != nil {
		return fmt.Errorf("%w; putting back the previous files failed too (%w): they are in %s", err, rerr, backups)
	}
	_ = os.RemoveAll(backups)
	return fmt.Errorf("%w; nothing was changed", err)
}

func (w writer) moveAll(dir, staged, backups string, steps []step, done *[]undo) error {
	for _, s := range steps {
		created, err := mkdirs(dir, s.name)
		for _, c := range created {
			*done = append(*done, undo{created: c})
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(s.name))
		if s.replace {
			bak := filepath.Join(backups, filepath.FromSlash(s.name))
			if err := os.MkdirAll(filepath.Dir(bak), 0o700); err != nil {
				return fmt.Errorf("back up %s: %w", dst, cause(err))
			}
			if err := w.rename(dst, bak); err != nil {
				return fmt.Errorf("back up %s: %w", dst, cause(err))
			}
			*done = append(*done, undo{backup: bak, restore: dst})
		}
		if s.remove {
			continue
		}
		if err := w.rename(filepath.Join(staged, filepath.FromSlash(s.name)), dst); err != nil {
			return fmt.Errorf("write %s: %w", dst, cause(err))
		}
		*done = append(*done, undo{placed: dst})
	}
	return nil
}

// pruneEmpty removes the folders that removals left empty, deepest first, never dir itself;
// a folder that is not empty stays.
func pruneEmpty(dir string, steps []step) {
	for _, s := range steps {
		if !s.remove {
			continue
		}
		for p := path.Dir(s.name); p != "."; p = path.Dir(p) {
			if os.Remove(filepath.Join(dir, filepath.FromSlash(p))) != nil {
				break
			}
		}
	}
}

// mkdirs creates the missing folders on the way to name, one at a time, and returns those it
// created (outermost first), so a rollback removes exactly them.
func mkdirs(dir, name string) ([]string, error) {
	var created []string
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := filepath.Join(dir, filepath.FromSlash(strings.Join(parts[:i], "/")))
		err := os.Mkdir(p, 0o755)
		switch {
		case err == nil:
			created = append(created, p)
		case !errors.Is(err, fs.ErrExist):
			return created, fmt.Errorf("create %s: %w", p, cause(err))
		}
	}
	return created, nil
}

// rollback reverses done, last first: placed files are removed, backups renamed back,
// created folders removed.
func (w writer) rollback(done []undo) error {
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		u := done[i]
		var err error
		switch {
		case u.placed != "":
			err = os.Remove(u.placed)
		case u.backup != "":
			err = w.rename(u.backup, u.restore)
		case u.created != "":
			err = os.Remove(u.created)
		}
		if err != nil {
			errs = append(errs, cause(err))
		}
	}
	return errors.Join(errs...)
}
