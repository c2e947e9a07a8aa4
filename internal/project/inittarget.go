package project

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/pattern-gen/pattern-gen/internal/forklock"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/gitrev"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// cloneOf returns the repository dir is the top of (a clone of the fork), or nil. A folder
// inside another repository is not a clone of the fork: the pattern's files live at the top
// of its repository.
func cloneOf(dir string) *gitrev.Repo {
	if st, err := os.Lstat(filepath.Join(dir, ".git")); err != nil || st.Mode()&fs.ModeSymlink != 0 {
		return nil
	}
	repo, err := gitrev.Open(dir)
	if err != nil || repo.Prefix != "" {
		return nil
	}
	repo.MaxFileSize = generate.MaxForkFileSize
	return repo
}

// initTarget is what init is about to write where.
type initTarget struct {
	dir   string
	repo  *gitrev.Repo   // dir is a clone of the fork; nil when not
	tree  render.Tree    // the files init writes
	lock  *forklock.Lock // dir's pattern-gen.lock; nil when none
	force bool
}

// check lets init write into the target when nothing would be lost, and returns the files of
// the previous generation init no longer writes and the user did not edit (to remove). With a
// lock, a generated file (or pattern-gen.yaml) edited since is never overwritten, even with
// --force: that is update's job, which merges. Other files init would replace must not exist,
// or be committed unchanged at HEAD of a clone (a README the hosting service made), or --force
// must be given. Files init does not generate are always kept.
func (t initTarget) check() ([]string, error) {
	if st, err := os.Lstat(t.dir); err != nil || !st.IsDir() {
		return nil, nil // missing, or a link or file the tree writer names
	}
	if entries, err := os.ReadDir(t.dir); err != nil || len(entries) == 0 {
		return nil, nil // empty, or unreadable: the tree writer names the problem
	}
	var edited, clash, remove []string
	for _, name := range slices.Sorted(maps.Keys(t.tree)) {
		mine, err := readMine(t.dir, name)
		if err != nil {
			return nil, err
		}
		if mine == nil || bytes.Equal(mine, t.tree[name]) {
			continue
		}
		switch recorded := t.recorded(name); {
		case recorded == "":
			clash = append(clash, name)
		case forklock.Digest(mine) != recorded:
			edited = append(edited, name)
		}
	}
	if t.lock != nil {
		for _, name := range slices.Sorted(maps.Keys(t.lock.Files)) {
			if _, ok := t.tree[name]; ok {
				continue
			}
			if mine, err := readMine(t.dir, name); err == nil && mine != nil && forklock.Digest(mine) == t.lock.Files[name] {
				remove = append(remove, name)
			}
		}
	}
	if len(edited) > 0 {
		return nil, fmt.Errorf("%s: %d files were edited since pattern-gen generated them (%s) and init would overwrite them: edit %s and run pattern-gen update %s instead, which keeps your edits", t.dir, len(edited), shortList(edited), filepath.Join(t.dir, render.ConfigFile), t.dir)
	}
	switch {
	case t.force:
		return remove, nil
	case t.repo == nil && t.lock == nil:
		return nil, fmt.Errorf("%s: directory is not empty and is not a git clone; choose an empty directory, run init in a clone of your fork, or pass --force to overwrite the generated files", t.dir)
	case len(clash) == 0:
		return remove, nil
	case t.repo == nil:
		return nil, fmt.Errorf("%s: %d files pattern-gen writes are there already and it did not generate them (%s); move them away, or pass --force to overwrite them", t.dir, len(clash), shortList(clash))
	}
	if clash = t.uncommitted(clash); len(clash) > 0 {
		return nil, fmt.Errorf("%s: %d files pattern-gen writes are there already and not committed unchanged in git (%s); commit them or move them away, or pass --force to overwrite them", t.dir, len(clash), shortList(clash))
	}
	return remove, nil
}

// recorded is the digest the lock holds for name, or "".
func (t initTarget) recorded(name string) string {
	switch {
	case t.lock == nil:
		return ""
	case name == render.ConfigFile:
		return t.lock.ConfigDigest()
	}
	return t.lock.Files[name]
}

// uncommitted is the files among names that HEAD of the clone does not hold as they are now.
func (t initTarget) uncommitted(names []string) []string {
	var committed map[string][]byte
	if head, err := t.repo.Resolve("HEAD"); err == nil { // a clone of an empty repository has no HEAD
		// Only the blobs init would replace: a big repository costs a listing, not its contents.
		committed, _ = t.repo.FilesAmong(head, func(p string) bool { return slices.Contains(names, p) }) // unreadable: treat every file as uncommitted
	}
	var out []string
	for _, name := range names {
		mine, err := readMine(t.dir, name)
		if c, ok := committed[name]; err != nil || !ok || !bytes.Equal(c, mine) {
			out = append(out, name)
		}
	}
	return out
}
