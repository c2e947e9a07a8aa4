// Package gitrev reads a fork's files at a git revision into memory exactly as git stores them:
// the tree from `git ls-tree` and the blobs from one `git cat-file --batch`, so no
// .gitattributes line (export-ignore, export-subst, filters, eol) can hide or rewrite a file, and
// nothing touches the working tree, the index or a temporary folder.
package gitrev

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// Repo is the git repository a fork lives in.
type Repo struct {
	Root   string // top-level directory of the work tree
	Prefix string // the fork's folder inside the repository, "" or ending in "/"
	// MaxFileSize bounds each file read from a revision (0: no bound), as the working-tree
	// reader bounds each file on disk.
	MaxFileSize int64
}

// Open finds the repository that holds dir.
func Open(dir string) (*Repo, error) {
	out, err := git(dir, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return nil, fmt.Errorf("%s is not in a git repository: %w", dir, err)
	}
	top, prefix, _ := strings.Cut(out, "\n") // the prefix line is empty at the top level
	return &Repo{Root: top, Prefix: prefix}, nil
}

// Resolve returns the commit a revision names.
func (r *Repo) Resolve(rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("unknown revision %q", rev)
	}
	sha, err := git(r.Root, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("unknown revision %q", rev)
	}
	return sha, nil
}

// RemoteURL returns the URL of a remote as git uses it (url.<base>.insteadOf applied).
func (r *Repo) RemoteURL(name string) (string, error) {
	return git(r.Root, "remote", "get-url", "--", name)
}

// DefaultBase is the merge base of HEAD with the remote's default branch, or HEAD when the
// repository has no remote default branch.
func (r *Repo) DefaultBase() (string, error) {
	if ref, err := git(r.Root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"); err == nil {
		if mb, err := git(r.Root, "merge-base", "HEAD", ref); err == nil {
			return mb, nil
		}
	}
	return r.Resolve("HEAD")
}

// Files returns every file of the fork at commit (hidden ones too), with paths relative to the
// fork. A symbolic link or a submodule in the fork's part of the tree is an error, as a link is
// for the working-tree reader: Argo CD and the review must see the same regular files.
func (r *Repo) Files(commit string) (map[string][]byte, error) {
	return r.FilesAmong(commit, nil)
}

// FilesAmong is Files for only the paths want accepts (every path when want is nil): the
// others are listed but their blobs are never read.
func (r *Repo) FilesAmong(commit string, want func(path string) bool) (map[string][]byte, error) {
	tree, err := r.forkTree(commit)
	if err != nil {
		return nil, err
	}
	entries, err := r.list(tree)
	if err != nil {
		return nil, err
	}
	if want != nil {
		entries = slices.DeleteFunc(entries, func(e entry) bool { return !want(e.path) })
	}
	return r.readBlobs(entries)
}

// forkTree returns the tree object of the fork's folder at commit.
func (r *Repo) forkTree(commit string) (string, error) {
	// "<commit>:<path>" takes the path literally (no pathspec magic), relative to the top
	// level; "<commit>:" is the commit's root tree.
	sha, err := git(r.Root, "--no-replace-objects", "rev-parse", "--verify", "--quiet", "--end-of-options", commit+":"+r.Prefix)
	switch {
	case err != nil && r.Prefix == "":
		return "", fmt.Errorf("read the tree of commit %s: %w", short(commit), err)
	case err != nil:
		return "", fmt.Errorf("the fork's folder %s is not in this revision; pick a revision that has it", strings.TrimSuffix(r.Prefix, "/"))
	}
	return sha, nil
}

// git runs one git command in dir and returns its trimmed stdout, or the first line of its
// stderr as the error.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New(firstLine(stderr.String(), err))
	}
	return strings.TrimSpace(string(out)), nil
}

func firstLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimPrefix(line, "fatal: ")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
