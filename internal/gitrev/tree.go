package gitrev

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// Tree entry modes git writes for a symbolic link and for a submodule (a gitlink).
const (
	modeLink      = "120000"
	modeSubmodule = "160000"
)

// entry is one regular file of the fork's tree.
type entry struct {
	path string // relative to the fork, slash-separated
	oid  string
	size int64
}

// list returns every file below tree, recursively, in git's order. Links and submodules are
// refused rather than skipped, so a revision never renders where its checkout would not.
func (r *Repo) list(tree string) ([]entry, error) {
	cmd := exec.Command("git", "--no-replace-objects", "ls-tree", "-r", "-z", "-l", "--full-tree", tree)
	cmd.Dir = r.Root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-tree %s: %s", short(tree), firstLine(stderr.String(), err))
	}
	var entries []entry
	for rec := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		e, err := r.parseEntry(rec)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// parseEntry reads one `ls-tree -l -z` record: "<mode> <type> <oid> <size>\t<path>".
func (r *Repo) parseEntry(rec string) (entry, error) {
	meta, p, ok := strings.Cut(rec, "\t")
	f := strings.Fields(meta)
	if !ok || len(f) != 4 {
		return entry{}, fmt.Errorf("unexpected git ls-tree output %q; check the git installation", meta)
	}
	if err := checkPath(p); err != nil {
		return entry{}, err
	}
	switch {
	case f[0] == modeSubmodule || f[1] == "commit":
		return entry{}, fmt.Errorf("%s is a git submodule; pattern-gen does not read submodules, put the files in the fork", p)
	case f[0] == modeLink:
		return entry{}, fmt.Errorf("%s is a symbolic link; pattern-gen does not follow links in a fork, replace it with the file", p)
	case f[1] != "blob":
		return entry{}, fmt.Errorf("%s is a git %s, not a file; pattern-gen reads only files", p, f[1])
	}
	size, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return entry{}, fmt.Errorf("%s: unexpected size %q from git ls-tree; check the git installation", p, f[3])
	}
	if r.MaxFileSize > 0 && size > r.MaxFileSize {
		return entry{}, fmt.Errorf("%s: it is %d bytes, more than the %d allowed", p, size, r.MaxFileSize)
	}
	return entry{path: p, oid: f[2], size: size}, nil
}

// checkPath refuses tree entries git itself would never check out (a crafted tree can hold
// them): empty, ".", ".." or ".git" components.
func checkPath(p string) error {
	for c := range strings.SplitSeq(p, "/") {
		if c == "" || c == "." || c == ".." || strings.EqualFold(c, ".git") {
			return fmt.Errorf("%q is not a path git would check out; remove it from the repository", p)
		}
	}
	return nil
}

// readBlobs reads the blobs of entries with one `git cat-file --batch`, which prints objects as
// stored: no filters, textconv or attributes apply.
func (r *Repo) readBlobs(entries []entry) (map[string][]byte, error) {
	var oids []string
	sizes := map[string]int64{}
	for _, e := range entries {
		if _, seen := sizes[e.oid]; !seen {
			oids = append(oids, e.oid)
			sizes[e.oid] = e.size
		}
	}
	blobs, err := r.catFile(oids, sizes)
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(entries))
	used := map[string]bool{}
	for _, e := range entries {
		data := blobs[e.oid]
		if used[e.oid] {
			data = slices.Clone(data) // each path owns its bytes, as when read from disk
		}
		used[e.oid] = true
		files[e.path] = data
	}
	return files, nil
}

// catFile streams oids into one cat-file process while reading its answers; writing from a
// goroutine keeps both pipes moving, whatever the number of objects.
func (r *Repo) catFile(oids []string, sizes map[string]int64) (map[string][]byte, error) {
	cmd := exec.Command("git", "--no-replace-objects", "cat-file", "--batch")
	cmd.Dir = r.Root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for _, oid := range oids {
			if _, err := w.WriteString(oid + "\n"); err != nil {
				break // git has exited; its error is reported below
			}
		}
		_ = w.Flush()
		_ = stdin.Close()
	}()
	br := bufio.NewReader(stdout)
	blobs := make(map[string][]byte, len(oids))
	for _, oid := range oids {
		data, err := readObject(br, oid, sizes[oid])
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		blobs[oid] = data
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git cat-file: %s", firstLine(stderr.String(), err))
	}
	return blobs, nil
}

// readObject reads one "<oid> blob <size>\n<content>\n" answer and checks it is the blob asked
// for, with the size the tree listed.
func readObject(br *bufio.Reader, oid string, size int64) ([]byte, error) {
	header, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", short(oid), err)
	}
	f := strings.Fields(header)
	if len(f) != 3 || f[0] != oid || f[1] != "blob" || f[2] != strconv.FormatInt(size, 10) {
		return nil, fmt.Errorf("object %s: unexpected answer %q", short(oid), strings.TrimSpace(header))
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(br, data); err != nil {
		return nil, fmt.Errorf("object %s: %w", short(oid), err)
	}
	if b, err := br.ReadByte(); err != nil || b != '\n' {
		return nil, fmt.Errorf("object %s: unexpected end of its content", short(oid))
	}
	return data, nil
}
