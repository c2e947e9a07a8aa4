package base

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds of a printed error. Errors can quote what a fork renders (a self-including template's
// error repeats itself for 90 KB on one line) or list thousands of problems, and Argo CD shows
// cmp-plugin's stderr in the application's status: a few hundred KiB at most reach a reader.
const (
	MaxLineBytes = 4096 // per line, after repeats are folded
	MaxLines     = 100  // lines of one message
)

// CapMessage folds runs of a repeated chain of ": "-separated parts (nested template errors),
// cuts every line to MaxLineBytes and keeps at most MaxLines lines, saying where it cut.
func CapMessage(msg string) string {
	lines := strings.Split(msg, "\n")
	cut := 0
	if len(lines) > MaxLines {
		cut = len(lines) - MaxLines
		lines = lines[:MaxLines]
	}
	for i, l := range lines {
		lines[i] = capLine(foldRepeats(l))
	}
	if cut > 0 {
		lines = append(lines, fmt.Sprintf("... (message cut at %d lines; %d more not shown)", MaxLines, cut))
	}
	return strings.Join(lines, "\n")
}

func capLine(l string) string {
	if len(l) <= MaxLineBytes {
		return l
	}
	end := MaxLineBytes
	for end > 0 && !utf8.RuneStart(l[end]) {
		end--
	}
	return l[:end] + fmt.Sprintf(" ... (line cut at %d bytes)", MaxLineBytes)
}

// maxPeriod is the longest chain of parts foldRepeats looks for; a nested Helm template error
// repeats a chain of 4 ("template: F:L:C: executing N at <...>: error calling include: ").
const maxPeriod = 8

// foldRepeats writes a chain of parts that repeats 3 or more times in a row once, with a count.
func foldRepeats(l string) string {
	parts := strings.Split(l, ": ")
	if len(parts) < 3 {
		return l
	}
	var out []string
	for i := 0; i < len(parts); {
		period, times := repeatAt(parts, i)
		if times < 3 {
			out = append(out, parts[i])
			i++
			continue
		}
		out = append(out, parts[i:i+period]...)
		out = append(out, fmt.Sprintf("(the %d parts before repeat %d more times)", period, times-1))
		i += period * times
	}
	return strings.Join(out, ": ")
}

// repeatAt finds the shortest chain starting at parts[i] that repeats at least 3 times in a row
// and returns its length and how many times it occurs.
func repeatAt(parts []string, i int) (period, times int) {
	for p := 1; p <= maxPeriod && i+3*p <= len(parts); p++ {
		n := 1
		for i+(n+1)*p <= len(parts) && equalChains(parts, i, i+n*p, p) {
			n++
		}
		if n >= 3 {
			return p, n
		}
	}
	return 0, 1
}

func equalChains(parts []string, a, b, p int) bool {
	for k := range p {
		if parts[a+k] != parts[b+k] {
			return false
		}
	}
	return true
}
