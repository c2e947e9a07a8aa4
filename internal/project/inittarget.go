package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

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

// checkInitTarget lets init write into dir without --force when nothing would be lost: dir is
// missing or empty, or it is a clone and every file init would replace is committed unchanged
// at HEAD (a README or .gitignore the hosting service made, or an earlier init). Files init
// does not generate are always kept.
func checkInitTarget(dir string, repo *gitrev.Repo, t render.Tree) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return nil // not a folder, or unreadable: the tree writer names the problem
	}
	if repo == nil {
		return fmt.Errorf("%s: directory is not empty and is not a git clone; choose an empty directory, run init in a clone of your fork, or pass --force to overwrite the generated files", dir)
	}
	var committed map[string][]byte
	if head, err := repo.Resolve("HEAD"); err == nil { // a clone of an empty repository has no HEAD
		// Only the blobs init would replace: a big repository costs a listing, not its contents.
		committed, _ = repo.FilesAmong(head, func(p string) bool { _, ok := t[p]; return ok }) // unreadable: treat every existing file as uncommitted
	}
	var clash []string
	for _, name := range slices.Sorted(maps.Keys(t)) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue // missing, or a link or folder the tree writer refuses with its own message
		}
		data, err := generate.ReadLimited(p, generate.MaxForkFileSize)
		if c, ok := committed[name]; err == nil && ok && bytes.Equal(c, data) {
			continue // git has it: overwriting loses nothing
		}
		clash = append(clash, name)
	}
	if len(clash) == 0 {
		return nil
	}
	shown := clash
	if len(shown) > 5 {
		shown = append(slices.Clone(shown[:5]), fmt.Sprintf("and %d more", len(clash)-5))
	}
	return fmt.Errorf("%s: %d files pattern-gen writes are there already and not committed unchanged in git (%s); commit them or move them away, or pass --force to overwrite them", dir, len(clash), strings.Join(shown, ", "))
}
