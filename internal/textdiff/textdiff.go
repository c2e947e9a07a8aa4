// Package textdiff computes line diffs and prints them as unified diffs, the format reviewers
// read in pull requests and `git diff`.
package textdiff

import (
	"fmt"
	"strings"
)

type op int

const (
	keep op = iota
	del
	ins
)

type edit struct {
	op   op
	line string
}

// lines splits text into lines without their newlines; a final newline adds no empty line.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// edits is a shortest edit script from a to b (longest common subsequence). Objects under
// review are small, so the quadratic table is cheap and the result is the minimal one.
func edits(a, b []string) []edit {
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []edit
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, edit{keep, a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, edit{del, a[i]})
			i++
		default:
			out = append(out, edit{ins, b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, edit{del, a[i]})
	}
	for ; j < m; j++ {
		out = append(out, edit{ins, b[j]})
	}
	return out
}

// Unified returns the unified diff of a and b with context lines around each change, headed
// by the two names, or "" when they are equal.
func Unified(nameA, nameB, a, b string, context int) string {
	if a == b {
		return ""
	}
	es := edits(lines(a), lines(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	// Walk the script, cutting it into hunks of changes with their context.
	for start := 0; start < len(es); {
		first := start
		for first < len(es) && es[first].op == keep {
			first++
		}
		if first == len(es) {
			break
		}
		from := max(first-context, start)
		// Extend the hunk while the next change is within 2*context unchanged lines.
		end := first
		for k := first; k < len(es); k++ {
			if es[k].op != keep {
				end = k + 1
				continue
			}
			if k-end >= 2*context {
				break
			}
		}
		to := min(end+context, len(es))
		aLine, bLine := 1, 1
		for _, e := range es[:from] {
			if e.op != ins {
				aLine++
			}
			if e.op != del {
				bLine++
			}
		}
		aCount, bCount := 0, 0
		for _, e := range es[from:to] {
			if e.op != ins {
				aCount++
			}
			if e.op != del {
				bCount++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", rangeOf(aLine, aCount), rangeOf(bLine, bCount))
		for _, e := range es[from:to] {
			out.WriteString([]string{" ", "-", "+"}[e.op])
			out.WriteString(e.line)
			out.WriteByte('\n')
		}
		start = to
	}
	return out.String()
}

// rangeOf prints a hunk range as unified diffs do: an empty range names the line before it.
func rangeOf(line, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", line-1)
	case 1:
		return fmt.Sprint(line)
	}
	return fmt.Sprintf("%d,%d", line, count)
}
