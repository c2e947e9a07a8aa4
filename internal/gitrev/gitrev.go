// Package gitrev reads a fork's files at a git revision into memory with `git archive`, without
// touching the working tree, the index or any temporary folder.
package gitrev

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strings"
)

// Repo is the git repository a fork lives in.
type Repo struct {
	Root   string // top-level directory of the work tree
	Prefix string // the fork's folder inside the repository, "" or ending in "/"
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

// Files returns the fork's files at commit, with paths relative to the fork.
func (r *Repo) Files(commit string) (map[string][]byte, error) {
	args := []string{"archive", "--format=tar", commit}
	if r.Prefix != "" {
		args = append(args, "--", strings.TrimSuffix(r.Prefix, "/"))
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git archive %s: %s", short(commit), firstLine(stderr.String(), err))
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read git archive of %s: %w", short(commit), err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(path.Clean(h.Name), r.Prefix)
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files[name] = data
	}
	return files, nil
}

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
