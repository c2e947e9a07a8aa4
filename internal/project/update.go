package project

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	patterngen "github.com/pattern-gen/pattern-gen"
	"github.com/pattern-gen/pattern-gen/internal/buildinfo"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/forklock"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/gitrev"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/textdiff"
	"github.com/pattern-gen/pattern-gen/internal/treewriter"
)

// Generator is how a fork's pattern-gen.lock names this pattern-gen.
func Generator() string { return "pattern-gen " + buildinfo.Version() }

// generatedFrom is what this pattern-gen generates for a fork's config (named file, holding
// data): every file but the config itself, which is the user's.
func generatedFrom(file string, data []byte) (render.Tree, error) {
	l, err := config.Load(file, data)
	if err != nil {
		return nil, err
	}
	t, err := render.Scaffold(l, data, patterngen.Assets())
	if err != nil {
		return nil, err
	}
	delete(t, render.ConfigFile)
	return t, nil
}

// lockFor is the pattern-gen.lock recording t (the generated files; a config in t is left
// out, it is recorded as the config).
func lockFor(t render.Tree, configData []byte) ([]byte, error) {
	files := maps.Clone(map[string][]byte(t))
	delete(files, render.ConfigFile)
	delete(files, forklock.File)
	return forklock.New(Generator(), configData, files).Encode()
}

// readLock reads dir's pattern-gen.lock, or nil when there is none.
func readLock(dir string) (*forklock.Lock, error) {
	data, err := readMine(dir, forklock.File)
	if err != nil || data == nil {
		return nil, err
	}
	l, err := forklock.Parse(data)
	if errors.As(err, new(forklock.BrokenError)) {
		return nil, fmt.Errorf("%s: %w; restore it from git (%s), or delete it and run %s, which then shows every file you edited as a conflict", dir, err, gitRestore(dir, forklock.File), UpdateCommand(dir))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return l, nil
}

// readMine reads a file of the fork as it is now: nil when it is missing. Every path on the way
// is checked with Lstat, so nothing is read through a link (the tree writer refuses to write
// through one with the same words); a folder or special file where pattern-gen writes a file
// is an error naming it.
func readMine(dir, name string) ([]byte, error) {
	parts := strings.Split(name, "/")
	for i := range parts {
		p := filepath.Join(dir, filepath.FromSlash(strings.Join(parts[:i+1], "/")))
		st, err := os.Lstat(p)
		last := i == len(parts)-1
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil
		case err != nil:
			return nil, err
		case st.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%s is a symbolic link; pattern-gen does not write through links, replace it with a folder or file of its own", p)
		case !last && !st.IsDir():
			return nil, fmt.Errorf("%s is a file where pattern-gen writes a folder; move it away", p)
		case last && st.IsDir():
			return nil, fmt.Errorf("%s is a folder where pattern-gen writes a file; move it away", p)
		case last && !st.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file; move it away", p)
		}
	}
	p := filepath.Join(dir, filepath.FromSlash(name))
	data, err := generate.ReadLimited(p, generate.MaxForkFileSize)
	if pe := new(fs.PathError); errors.As(err, &pe) {
		err = pe.Err // the path is named once, below
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return data, nil
}

// UpdateOptions names the fork to regenerate.
type UpdateOptions struct {
	Fork   string
	DryRun bool // decide and report, write nothing
}

// UpdateResult says what update did to each generated file.
type UpdateResult struct {
	From, To  string   // the generator the lock named ("" without a lock), and this one
	Written   []string // replaced (you had not edited them) or added
	Merged    []string // your edits kept, merged with the new output
	Conflicts []string // left with conflict markers: resolve them and commit
	Removed   []string // no longer generated, and you had not edited them
	Kept      []string // no longer generated, but you edited them (or pattern-gen cannot tell it made them): kept as they are
	Deleted   []string // you deleted them and what pattern-gen generates there is unchanged
	// NoBase are edited files whose last generated text is unknown (a fork without a lock, or
	// with one that does not hold the texts): every difference is a conflict.
	NoBase  []string
	Changed bool // whether anything was (or, with DryRun, would be) written
}

// UpdateCommand is the update command for a fork as the user named it ("" or "." for the
// current directory), quoted for a POSIX shell: advice printed as a command works as printed.
func UpdateCommand(fork string) string {
	if fork == "" || fork == "." {
		return "pattern-gen update"
	}
	return "pattern-gen update " + shellWord(fork)
}

// gitRestore is the command that restores files of the fork from git.
func gitRestore(fork string, names ...string) string {
	cmd := "git"
	if fork != "" && fork != "." {
		cmd += " -C " + shellWord(fork)
	}
	cmd += " checkout --"
	for _, n := range names {
		cmd += " " + shellWord(n)
	}
	return cmd
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Update regenerates the fork from its pattern-gen.yaml with a three-way merge per file: base is
// what pattern-gen last generated (pattern-gen.lock), mine the file now, theirs what it
// generates now. Files pattern-gen does not generate are never touched. It fails, writing
// nothing, on a lock that does not parse or comes from a newer pattern-gen, on a file that
// still holds the conflict markers of an earlier update, and on a file the user deleted whose
// generated content changed.
func Update(ctx context.Context, o UpdateOptions) (*UpdateResult, error) {
	if st, err := os.Stat(o.Fork); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("fork %s: not a directory; name the fork's folder", o.Fork)
	}
	if _, err := os.Lstat(filepath.Join(o.Fork, "values-global.yaml")); errors.Is(err, fs.ErrNotExist) {
		return nil, generate.NotAFork(o.Fork)
	}
	configPath := filepath.Join(o.Fork, render.ConfigFile)
	configData, err := readMine(o.Fork, render.ConfigFile)
	if err != nil {
		return nil, err
	}
	if configData == nil {
		return nil, fmt.Errorf("%s: missing; pattern-gen update regenerates a fork from the config pattern-gen init kept there (make a fork with pattern-gen init DIR)", configPath)
	}
	lock, err := readLock(o.Fork)
	if err != nil {
		return nil, err
	}
	theirs, err := generatedFrom(configPath, configData)
	if err != nil {
		return nil, err
	}
	p := plan{dir: o.Fork, lock: lock, theirs: theirs, base: baseOf(lock),
		labels: textdiff.MergeLabels{Mine: "yours", Theirs: Generator() + " (from " + render.ConfigFile + ")"}}
	res, err := p.run()
	if err != nil {
		return nil, err
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	res.To = Generator()
	if lock != nil {
		res.From = lock.Generator
	}
	// The lock records what was generated, not what was written: the base of the next update.
	lockData, err := lockFor(theirs, configData)
	if err != nil {
		return nil, err
	}
	if old, err := readMine(o.Fork, forklock.File); err != nil || !bytes.Equal(old, lockData) {
		p.writes[forklock.File] = lockData
	}
	res.Changed = len(p.writes) > 0 || len(res.Removed) > 0
	if o.DryRun || !res.Changed {
		return res, nil
	}
	return res, treewriter.Update(o.Fork, p.writes, res.Removed)
}

// baseOf is what this pattern-gen generates from the config the lock records: the exact base of
// every file whose digest matches the lock (for the others, pattern-gen changed them since),
// and the proof that a file the lock lists is pattern-gen's. Nil without a lock, or when that
// config no longer loads.
func baseOf(lock *forklock.Lock) render.Tree {
	if lock == nil {
		return nil
	}
	t, err := generatedFrom(render.ConfigFile+" in "+forklock.File, lock.Config)
	if err != nil {
		return nil
	}
	return t
}

// plan decides, file by file, what regenerating dir gives.
type plan struct {
	dir          string
	lock         *forklock.Lock // nil: the fork has none (made before locks)
	theirs, base render.Tree    // base nil: unknown
	labels       textdiff.MergeLabels
	writes       map[string][]byte
}

// names is every file update decides about: those generated now and those the lock lists
// (never the config, which is the user's).
func (p *plan) names() []string {
	names := slices.Collect(maps.Keys(p.theirs))
	if p.lock != nil {
		for n := range p.lock.Files {
			if _, ok := p.theirs[n]; !ok && n != render.ConfigFile {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}

// recorded is the lock's digest of name, or "".
func (p *plan) recorded(name string) string {
	if p.lock == nil {
		return ""
	}
	return p.lock.Files[name]
}

// generatedBy says whether the file the lock lists as name with digest recorded is one
// pattern-gen generated: base, what the lock's own config generates, holds it with that
// digest. A lock is a file anyone can edit; only this makes a file pattern-gen's to remove.
func generatedBy(base render.Tree, name, recorded string) bool {
	b, ok := base[name]
	return ok && recorded != "" && forklock.Digest(b) == recorded
}

func (p *plan) run() (*UpdateResult, error) {
	res := &UpdateResult{}
	p.writes = map[string][]byte{}
	names := p.names()
	mines := make(map[string][]byte, len(names))
	var unresolved, deleted []string
	for _, name := range names {
		mine, err := readMine(p.dir, name)
		if err != nil {
			return nil, err
		}
		mines[name] = mine
		if hasMarkers(mine) {
			unresolved = append(unresolved, name)
		}
	}
	if len(unresolved) > 0 {
		// Merging again would bury an earlier conflict, and the lock would move past it.
		return nil, fmt.Errorf("%s still has the conflict markers of an earlier update (%s): resolve them, then run %s again", p.dir, shortList(unresolved), UpdateCommand(p.dir))
	}
	for _, name := range names {
		mine, recorded := mines[name], p.recorded(name)
		theirs, generated := p.theirs[name]
		switch {
		case !generated: // generated before, not now
			switch {
			case mine == nil:
			case forklock.Digest(mine) == recorded && generatedBy(p.base, name, recorded):
				res.Removed = append(res.Removed, name)
			default:
				res.Kept = append(res.Kept, name)
			}
		case mine == nil && recorded == "":
			p.writes[name] = theirs
			res.Written = append(res.Written, name)
		case mine == nil && forklock.Digest(theirs) == recorded:
			res.Deleted = append(res.Deleted, name)
		case mine == nil:
			deleted = append(deleted, name)
		case bytes.Equal(mine, theirs):
		case forklock.Digest(mine) == recorded:
			p.writes[name] = theirs
			res.Written = append(res.Written, name)
		default:
			text, conflicts, err := p.merge(name, mine, theirs, recorded, res)
			if err != nil {
				return nil, err
			}
			if bytes.Equal(text, mine) {
				continue // the new output changes nothing the user's file holds
			}
			p.writes[name] = text
			if conflicts > 0 {
				res.Conflicts = append(res.Conflicts, name)
			} else {
				res.Merged = append(res.Merged, name)
			}
		}
	}
	if len(deleted) > 0 {
		return nil, fmt.Errorf("%s: you deleted %s, and what pattern-gen generates there changed; restore it (%s) and run %s again, then delete it if you still do not want it", p.dir, shortList(deleted), gitRestore(p.dir, deleted...), UpdateCommand(p.dir))
	}
	return res, nil
}

// merge merges the user's edited file with the new output with git's merge against what was
// last generated; when that is unknown, every difference is a conflict.
func (p *plan) merge(name string, mine, theirs []byte, recorded string, res *UpdateResult) ([]byte, int, error) {
	if base := p.lastGenerated(name, recorded); base != nil {
		text, n, err := gitrev.MergeFile(base, mine, theirs, p.labels.Mine, p.labels.Theirs)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", filepath.Join(p.dir, filepath.FromSlash(name)), err)
		}
		return text, n, nil
	}
	res.NoBase = append(res.NoBase, name)
	m := textdiff.MergeWithoutBase(mine, theirs, p.labels)
	return m.Text, m.Conflicts, nil
}

// lastGenerated is the text pattern-gen last generated for name (the lock's digest recorded):
// the lock keeps it; a lock without the texts gives it only when this pattern-gen generates the
// same from the lock's config. Nil when neither does.
func (p *plan) lastGenerated(name, recorded string) []byte {
	if recorded == "" {
		return nil
	}
	if b, ok := p.lock.Generated[name]; ok { // Parse checked it against the recorded digest
		return b
	}
	if b, ok := p.base[name]; ok && forklock.Digest(b) == recorded {
		return b
	}
	return nil
}

// hasMarkers says whether data holds a conflict update left: a line "<<<<<<< yours" and a
// later one starting ">>>>>>> pattern-gen " (git writes them with CRLF in a CRLF file). Only
// update's own labels count, so a README that shows git's markers is no conflict.
func hasMarkers(data []byte) bool {
	open := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case line == "<<<<<<< yours":
			open = true
		case open && strings.HasPrefix(line, ">>>>>>> pattern-gen "):
			return true
		}
	}
	return false
}

// plural is "1 file" or "n files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// shortList names up to five paths and how many more there are.
func shortList(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
}

// Drift is how a fork's generated files stand against its pattern-gen.yaml, from the two files
// that say it: pattern-gen.yaml and pattern-gen.lock.
type Drift struct {
	Stale  string // what no longer matches ("" when the generated files are what it gives)
	NoLock bool   // pattern-gen.yaml is there but pattern-gen.lock is not: nothing to compare
	Broken error  // pattern-gen.lock does not parse, or a newer pattern-gen wrote it
}

// Problem is what makes validate fail and render and diff warn, with the command that fixes
// it (update names the fork as the user did), or "".
func (d Drift) Problem(update string) string {
	switch {
	case errors.As(d.Broken, new(forklock.BrokenError)):
		return d.Broken.Error() + "; restore it from git, or delete it and run " + update + ", which then shows every file you edited as a conflict"
	case d.Broken != nil:
		return d.Broken.Error()
	case d.Stale != "":
		return d.Stale + ": run " + update + " (it keeps your edits) and commit the result"
	}
	return ""
}

// Warning is what only warns, or "".
func (d Drift) Warning(update string) string {
	if d.NoLock {
		return forklock.File + " is missing, so whether the generated files match " + render.ConfigFile + " is unknown: run " + update + " to record it (files that differ from what pattern-gen generates show as conflicts)"
	}
	return ""
}

// CheckDrift reads dir's pattern-gen.yaml and pattern-gen.lock and says whether the generated
// files still are what this pattern-gen generates from that config. A fork without
// pattern-gen.yaml (not made by init) has no drift.
func CheckDrift(dir string) Drift {
	configData, err := readMine(dir, render.ConfigFile)
	if err != nil || configData == nil {
		return Drift{}
	}
	lockData, err := readMine(dir, forklock.File)
	if err != nil {
		return Drift{Broken: err}
	}
	return driftOf(configData, lockData)
}

// driftOf compares the lock (nil: none) with what the config generates now.
func driftOf(configData, lockData []byte) Drift {
	if lockData == nil {
		return Drift{NoLock: true}
	}
	lock, err := forklock.Parse(lockData)
	if err != nil {
		return Drift{Broken: err}
	}
	if forklock.Digest(configData) != lock.ConfigDigest() {
		return Drift{Stale: render.ConfigFile + " changed since pattern-gen last generated the fork"}
	}
	now, err := generatedFrom(render.ConfigFile, configData)
	if err != nil {
		return Drift{} // the config's own problems are validate's to report, with their lines
	}
	var differ []string
	for name, data := range now {
		if lock.Files[name] != forklock.Digest(data) {
			differ = append(differ, name)
		}
	}
	for name := range lock.Files {
		if _, ok := now[name]; !ok {
			differ = append(differ, name)
		}
	}
	if len(differ) == 0 {
		return Drift{}
	}
	slices.Sort(differ)
	return Drift{Stale: fmt.Sprintf("%s generates %s differently from %s, which generated the fork (%s)", Generator(), plural(len(differ), "file"), lock.Generator, shortList(differ))}
}
