package gitrev

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// MergeFile merges the changes from base to mine and from base to theirs as `git merge-file -p`
// does, with git's own algorithm (so update merges exactly as the user's git would) and git's
// conflict markers, labelled mineLabel and theirsLabel. It returns the merged text and the
// number of conflicts. The three texts go through files in a private temporary folder; git
// reads nothing else (the conflict style is fixed, so the user's merge.conflictStyle does not
// change the result).
func MergeFile(base, mine, theirs []byte, mineLabel, theirsLabel string) ([]byte, int, error) {
	dir, err := os.MkdirTemp("", "pattern-gen-merge-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	paths := make([]string, 3)
	for i, data := range [][]byte{mine, base, theirs} {
		paths[i] = filepath.Join(dir, []string{"mine", "base", "theirs"}[i])
		if err := os.WriteFile(paths[i], data, 0o600); err != nil {
			return nil, 0, err
		}
	}
	cmd := exec.Command("git", "-c", "merge.conflictStyle=merge", "merge-file", "-p",
		"-L", mineLabel, "-L", "base", "-L", theirsLabel, "--", paths[0], paths[1], paths[2])
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0, nil
	case errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode() < 128:
		return out, exit.ExitCode(), nil // git's exit code is the number of conflicts
	}
	return nil, 0, fmt.Errorf("git merge-file: %s", firstLine(stderr.String(), err))
}
