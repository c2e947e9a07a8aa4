package reach

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Git is a program named git, put first on PATH, that appends each call's arguments (one line,
// space-separated) to a log and then runs the real git, or, with none given, exits 1 as a
// failing fetch would.
type Git struct {
	Dir, Log string
}

// NewGit writes the git wrapper into dir (an existing folder) with its log beside it. realGit
// is the absolute path of the git to run after logging; "" makes every call fail.
func NewGit(dir, realGit string) (*Git, error) {
	g := &Git{Dir: dir, Log: filepath.Join(dir, "git-calls")}
	then := "exit 1"
	if realGit != "" {
		then = "exec " + shellQuote(realGit) + ` "$@"`
	}
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + shellQuote(g.Log) + "\n" + then + "\n"
	if err := os.WriteFile(filepath.Join(dir, "git"), []byte(script), 0o755); err != nil {
		return nil, fmt.Errorf("write the git wrapper: %w", err)
	}
	return g, nil
}

// shellQuote quotes s for sh, so that a path with spaces, quotes or $ stays one word.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Calls lists the logged calls, oldest first, since the start or the last Reset.
func (g *Git) Calls() ([]string, error) {
	data, err := os.ReadFile(g.Log)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the git log: %w", err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"), nil
}

// Reset forgets the calls so far.
func (g *Git) Reset() error {
	if err := os.Remove(g.Log); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reset the git log: %w", err)
	}
	return nil
}

// Leftovers lists, sorted by name, what dir (a TMPDIR that started empty) holds now.
func Leftovers(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read TMPDIR %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}
