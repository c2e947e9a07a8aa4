package textdiff

import (
	"bytes"
	"slices"
	"strings"
)

// MergeLabels name the sides in conflict markers, as git's do.
type MergeLabels struct {
	Mine, Theirs string
}

// MergeResult is a merge's text and how many conflicts it holds.
type MergeResult struct {
	Text      []byte
	Conflicts int
}

// maxMergeCells bounds the LCS table of a merge (lines of one side times lines of the other):
// generated files have hundreds of lines, and a file past the bound is merged as one
// conflict rather than exhaust memory.
const maxMergeCells = 16 << 20

// MergeWithoutBase merges mine and theirs when their common ancestor is unknown: every region
// where they differ is a conflict, so nothing either side holds is dropped.
func MergeWithoutBase(mine, theirs []byte, labels MergeLabels) MergeResult {
	m, t := splitLines(mine), splitLines(theirs)
	if !fits(len(m), len(t)) {
		return conflictWhole(m, t, labels)
	}
	// Their common lines stand in for the ancestor, and every region where the two differ is
	// a conflict: without the ancestor, a line only one side has may be an addition or a
	// deletion.
	b := common(m, t)
	toMine, toTheirs := matches(b, m), matches(b, t)
	out := mergeWriter{labels: labels}
	i, x, y := 0, 0, 0 // next line of base, mine, theirs
	for i < len(b) || x < len(m) || y < len(t) {
		if i < len(b) && toMine[i] == x && toTheirs[i] == y {
			out.lines(b[i : i+1])
			i, x, y = i+1, x+1, y+1
			continue
		}
		// The unstable region runs to the next base line both sides kept.
		j := i
		for j < len(b) && (toMine[j] < 0 || toTheirs[j] < 0) {
			j++
		}
		xe, ye := len(m), len(t)
		if j < len(b) {
			xe, ye = toMine[j], toTheirs[j]
		}
		out.region(m[x:xe], t[y:ye])
		i, x, y = j, xe, ye
	}
	return MergeResult{Text: out.buf.Bytes(), Conflicts: out.conflicts}
}

// splitLines cuts text into lines that keep their newline; the last may have none.
func splitLines(text []byte) []string {
	var out []string
	for s := string(text); s != ""; {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return append(out, s)
		}
		out, s = append(out, s[:i+1]), s[i+1:]
	}
	return out
}

func fits(n, m int) bool { return int64(n+1)*int64(m+1) <= maxMergeCells }

// matches maps each line of a to the line of b it is paired with in a longest common
// subsequence, or -1.
func matches(a, b []string) []int {
	at := make([]int, len(a))
	i, j := 0, 0
	for _, e := range edits(a, b) {
		switch e.op {
		case keep:
			at[i] = j
			i, j = i+1, j+1
		case del:
			at[i] = -1
			i++
		case ins:
			j++
		}
	}
	return at
}

// common is a longest common subsequence of a and b.
func common(a, b []string) []string {
	var out []string
	for _, e := range edits(a, b) {
		if e.op == keep {
			out = append(out, e.line)
		}
	}
	return out
}

func conflictWhole(m, t []string, labels MergeLabels) MergeResult {
	out := mergeWriter{labels: labels}
	out.region(m, t)
	return MergeResult{Text: out.buf.Bytes(), Conflicts: out.conflicts}
}

type mergeWriter struct {
	buf       bytes.Buffer
	labels    MergeLabels
	conflicts int
}

func (w *mergeWriter) lines(ls []string) {
	for _, l := range ls {
		w.buf.WriteString(l)
	}
}

// region writes one region: the text when both sides agree, else a conflict.
func (w *mergeWriter) region(mine, theirs []string) {
	switch {
	case slices.Equal(mine, theirs):
		w.lines(mine)
	default:
		w.conflicts++
		w.marker("<<<<<<< " + w.labels.Mine)
		w.side(mine)
		w.marker("=======")
		w.side(theirs)
		w.marker(">>>>>>> " + w.labels.Theirs)
	}
}

// side writes one side of a conflict; a last line without a newline gets one, so the marker
// after it starts a line.
func (w *mergeWriter) side(ls []string) {
	w.lines(ls)
	if n := len(ls); n > 0 && !strings.HasSuffix(ls[n-1], "\n") {
		w.buf.WriteByte('\n')
	}
}

func (w *mergeWriter) marker(s string) {
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
}
