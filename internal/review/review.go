// Package review compares two renders of a fork object by object and formats the result for a
// terminal, a pull-request comment (Markdown) or a program (JSON). It is pure: objects in,
// text out. Secret values never reach any format.
package review

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/textdiff"
)

// Object is one rendered object of one application.
type Object struct {
	Group   string         // the clusterGroup the application belongs to
	App, ID string         // ID is group/kind/namespace/name
	Kind    string         // for Secret redaction and headings
	Name    string         // namespace/name or name, for headings
	Data    map[string]any // the decoded object
}

// Status of an object between base and head.
type Status string

const (
	Added   Status = "added"
	Changed Status = "changed"
	Removed Status = "removed"
	// Moved: the object left one clusterGroup's application for the same application in
	// another group (a converged fork turned split); the diff shows what else changed.
	Moved Status = "moved"
)

// Change is one object that differs.
type Change struct {
	App    string `json:"application"`    // clusterGroup/application
	From   string `json:"from,omitempty"` // where a moved object was
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	Diff   string `json:"diff"` // unified diff of the YAML, secret values redacted
}

// AppSummary counts the changes of one application.
type AppSummary struct {
	App     string `json:"application"`
	Added   int    `json:"added"`
	Changed int    `json:"changed"`
	Removed int    `json:"removed"`
	Moved   int    `json:"moved,omitempty"` // moved here from another clusterGroup
}

// Result is the comparison of two renders.
type Result struct {
	Base  string      `json:"base"`
	Head  string      `json:"head"`
	Chart *ChartSides `json:"clusterGroupChart,omitempty"` // nil: no chart was rendered
	// Notes say what the comparison could not show, or showed differently than the fork asks
	// (the clustergroup chart unavailable, from elsewhere, lacking a dependency).
	Notes   []string     `json:"notes,omitempty"`
	Apps    []AppSummary `json:"applications"`
	Changes []Change     `json:"changes"`
}

// ChartRef is the clustergroup chart one side was rendered with.
type ChartRef struct {
	Pin     string `json:"pin"`              // the version or range the fork pins
	Version string `json:"version"`          // the release it resolved to
	Digest  string `json:"digest,omitempty"` // sha256:<hex> of the archive; none for a folder
	Source  string `json:"source"`           // the archive's URL or the folder
}

// ChartSides are the charts of base and head.
type ChartSides struct {
	Base    ChartRef `json:"base"`
	Head    ChartRef `json:"head"`
	Differs bool     `json:"differs"` // base and head were rendered with different charts
}

// NewChartSides compares the charts of base and head.
func NewChartSides(base, head ChartRef) *ChartSides {
	return &ChartSides{Base: base, Head: head, Differs: base.Version != head.Version || base.Digest != head.Digest || base.Source != head.Source}
}

// describe is the chart in one phrase, each value through code (a Markdown code span, or
// nothing for text): the pin and the source come from the fork and the user.
func (r ChartRef) describe(code func(string) string) string {
	s := code(r.Version)
	if r.Digest != "" {
		s += " " + code(r.Digest)
	}
	return s + " from " + code(r.Source) + ", pinned " + code(r.Pin)
}

// chartLines are the header lines about the chart: a first line when the sides' charts
// differ, since every clustergroup change may then come from the chart; then the chart(s).
func (r *Result) chartLines(code func(string) string) (first, header []string) {
	c := r.Chart
	if c == nil {
		return nil, nil
	}
	if c.Differs {
		first = []string{fmt.Sprintf("The clustergroup chart differs: base %s, head %s; changes under %s may come from the chart as well as the values.",
			code(c.Base.Version), code(c.Head.Version), Lead)}
		return first, []string{"clustergroup chart, base: " + c.Base.describe(code), "clustergroup chart, head: " + c.Head.describe(code)}
	}
	return nil, []string{"clustergroup chart " + c.Head.describe(code)}
}

// mdCode is s as a Markdown code span: fenced by one more backtick than the longest run in s,
// so nothing in s is read as Markdown (CommonMark 6.1). Line breaks become spaces.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || s == "" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdEscape is prose for Markdown, inside a line: the characters that start emphasis, code,
// links, images, HTML, tables, strikethrough or headings are backslash-escaped (CommonMark 2.4),
// line breaks become spaces: a note quoting the fork cannot add markup to a pull-request comment.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if strings.ContainsRune("\\`*_[]<>!&|~#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// plainText is s for a terminal: quoted with escapes when it holds a character that is not
// printable (a fork could put terminal escapes in its pin).
func plainText(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// Empty reports whether nothing differs.
func (r *Result) Empty() bool { return len(r.Changes) == 0 }

// Totals adds up the application summaries.
func (r *Result) Totals() AppSummary {
	var t AppSummary
	for _, a := range r.Apps {
		t.Added += a.Added
		t.Changed += a.Changed
		t.Removed += a.Removed
		t.Moved += a.Moved
	}
	return t
}

// Label names an object's application as clusterGroup/application.
func (o Object) Label() string {
	if o.Group == "" {
		return o.App
	}
	return o.Group + "/" + o.App
}

// Lead is the application listed first in each clusterGroup: what the clustergroup chart
// makes of the values (namespaces, operator subscriptions, the Argo CD applications), which
// frames every other change.
const Lead = "clustergroup"

// order is the sort key of a clusterGroup/application label (or a key starting with one): the
// Lead application of a group sorts before the group's others.
func order(label string) string {
	group, rest, ok := strings.Cut(label, "/")
	if ok && (rest == Lead || strings.HasPrefix(rest, Lead+"\x00")) {
		return group + "/\x00" + rest
	}
	return label
}

// Compare compares base and head objects keyed by clusterGroup, application and ID.
func Compare(baseLabel, headLabel string, base, head []Object) (*Result, error) {
	key := func(o Object) string { return o.Label() + "\x00" + o.ID }
	bm, hm := map[string]Object{}, map[string]Object{}
	var keys []string
	for _, o := range base {
		bm[key(o)] = o
		keys = append(keys, key(o))
	}
	for _, o := range head {
		hm[key(o)] = o
		if _, ok := bm[key(o)]; !ok {
			keys = append(keys, key(o))
		}
	}
	// An object that leaves an application of one clusterGroup and appears in the same
	// application of another is one change, not a removal and an addition.
	gone := map[string][]string{} // application and ID -> base keys missing from head
	for _, o := range base {
		if _, ok := hm[key(o)]; !ok {
			gone[o.App+"\x00"+o.ID] = append(gone[o.App+"\x00"+o.ID], key(o))
		}
	}
	movedFrom, wasMoved := map[string]string{}, map[string]bool{}
	for _, o := range head {
		if _, ok := bm[key(o)]; ok {
			continue
		}
		if c := gone[o.App+"\x00"+o.ID]; len(c) > 0 {
			movedFrom[key(o)], wasMoved[c[0]] = c[0], true
			gone[o.App+"\x00"+o.ID] = c[1:]
		}
	}
	sort.Slice(keys, func(i, j int) bool { return order(keys[i]) < order(keys[j]) })
	res := &Result{Base: baseLabel, Head: headLabel}
	apps := map[string]*AppSummary{}
	for _, k := range keys {
		if wasMoved[k] {
			continue // reported with where it went
		}
		b, inBase := bm[k]
		h, inHead := hm[k]
		from, moved := movedFrom[k]
		if moved {
			b, inBase = bm[from], true
		}
		var bData, hData map[string]any
		if inBase {
			bData = b.Data
		}
		if inHead {
			hData = h.Data
		}
		bData, hData = redactSecrets(bData, hData)
		bText, err := stableYAML(bData)
		if err != nil {
			return nil, err
		}
		hText, err := stableYAML(hData)
		if err != nil {
			return nil, err
		}
		if bText == hText && !moved {
			continue
		}
		o, status := h, Changed
		switch {
		case moved:
			status = Moved
		case !inBase:
			status = Added
		case !inHead:
			o, status = b, Removed
		}
		a := apps[o.Label()]
		if a == nil {
			a = &AppSummary{App: o.Label()}
			apps[o.Label()] = a
		}
		switch status {
		case Added:
			a.Added++
		case Changed:
			a.Changed++
		case Removed:
			a.Removed++
		case Moved:
			a.Moved++
		}
		c := Change{App: o.Label(), ID: o.ID, Kind: o.Kind, Name: o.Name, Status: status}
		bName, hName := o.Label()+"/"+o.Kind+"/"+o.Name, o.Label()+"/"+o.Kind+"/"+o.Name
		if moved {
			c.From = b.Label()
			bName = b.Label() + "/" + b.Kind + "/" + b.Name
			if bText == hText {
				c.Diff = fmt.Sprintf("(moved from %s unchanged)\n", c.From)
			}
		}
		if c.Diff == "" {
			c.Diff = textdiff.Unified(baseLabel+":"+bName, headLabel+":"+hName, bText, hText, 3)
		}
		res.Changes = append(res.Changes, c)
	}
	for _, a := range apps {
		res.Apps = append(res.Apps, *a)
	}
	sort.Slice(res.Apps, func(i, j int) bool { return order(res.Apps[i].App) < order(res.Apps[j].App) })
	return res, nil
}

// stableYAML encodes an object with keys sorted at every level, so a reordered template does
// not show as a change.
func stableYAML(m map[string]any) (string, error) {
	if m == nil {
		return "", nil
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return "", err
	}
	return b.String(), enc.Close()
}

// redactSecrets replaces the values of Secret data and stringData. A value that differs
// between base and head shows as "<redacted: changed>" on the head side, so a reviewer sees
// that it changed without seeing it.
func redactSecrets(base, head map[string]any) (map[string]any, map[string]any) {
	if !isSecret(base) && !isSecret(head) {
		return base, head
	}
	base, head = clone(base), clone(head)
	for _, field := range []string{"data", "stringData"} {
		bv, _ := base[field].(map[string]any)
		hv, _ := head[field].(map[string]any)
		for k, v := range bv {
			bv[k] = "<redacted>"
			if hv != nil {
				if h, ok := hv[k]; ok && fmt.Sprint(h) != fmt.Sprint(v) {
					hv[k] = "<redacted: changed>"
				}
			}
		}
		for k, v := range hv {
			if v != "<redacted: changed>" {
				hv[k] = "<redacted>"
			}
		}
	}
	return base, head
}

func isSecret(m map[string]any) bool {
	return m != nil && m["kind"] == "Secret" && m["apiVersion"] == "v1"
}

// clone copies the top level and the data maps that redaction rewrites.
func clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if inner, ok := v.(map[string]any); ok && (k == "data" || k == "stringData") {
			c := make(map[string]any, len(inner))
			for ik, iv := range inner {
				c[ik] = iv
			}
			v = c
		}
		out[k] = v
	}
	return out
}

// Summary is the one-line count: "2 changed, 1 added, 0 removed in 2 applications".
func (r *Result) Summary() string {
	if r.Empty() {
		return "no differences"
	}
	t := r.Totals()
	moved := ""
	if t.Moved > 0 {
		moved = fmt.Sprintf(", %d moved", t.Moved)
	}
	return fmt.Sprintf("%d added, %d changed, %d removed%s in %d application%s", t.Added, t.Changed, t.Removed, moved, len(r.Apps), plural(len(r.Apps)))
}

// counts is one application's line: "1 added, 2 changed, 0 removed" (and moved, if any).
func (a AppSummary) counts() string {
	s := fmt.Sprintf("%d added, %d changed, %d removed", a.Added, a.Changed, a.Removed)
	if a.Moved > 0 {
		s += fmt.Sprintf(", %d moved here", a.Moved)
	}
	return s
}

// where says which application a change is in, and for a moved object where it came from.
func (c Change) where() string {
	if c.Status == Moved {
		return c.From + " -> " + c.App
	}
	return c.App
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Text formats the result for a terminal.
func (r *Result) Text() string {
	var b strings.Builder
	first, header := r.chartLines(plainText)
	for _, l := range first {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "pattern-gen diff %s..%s: %s\n", r.Base, r.Head, r.Summary())
	for _, l := range header {
		b.WriteString(l + "\n")
	}
	for _, n := range r.Notes {
		b.WriteString("note: " + plainText(n) + "\n")
	}
	for _, a := range r.Apps {
		fmt.Fprintf(&b, "  %s: %s\n", a.App, a.counts())
	}
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "\n%s %s %s (%s)\n%s", sign(c.Status), c.Kind, c.Name, c.where(), c.Diff)
	}
	return b.String()
}

func sign(s Status) string {
	return map[Status]string{Added: "+", Changed: "~", Removed: "-", Moved: ">"}[s]
}

// JSON formats the result for programs.
func (r *Result) JSON() (string, error) {
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	if r.Apps == nil {
		r.Apps = []AppSummary{}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "<redacted>" readable
	enc.SetIndent("", "  ")
	err := enc.Encode(r)
	return b.String(), err
}

// Markdown formats the result as a pull-request comment: a summary table, then one
// collapsible section per application. Object diffs stop once the text reaches maxBytes, and
// the comment says how many were left out.
func (r *Result) Markdown(maxBytes int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### pattern-gen diff `%s`..`%s`\n\n", r.Base, r.Head)
	first, header := r.chartLines(mdCode)
	for _, l := range first {
		fmt.Fprintf(&b, "> [!IMPORTANT]\n> %s\n\n", l)
	}
	for _, l := range header {
		fmt.Fprintf(&b, "%s  \n", l)
	}
	if len(header) > 0 {
		b.WriteString("\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "> [!NOTE]\n> %s\n\n", mdEscape(n))
	}
	if r.Empty() {
		b.WriteString("No differences in the rendered manifests.\n")
		return b.String()
	}
	if t := r.Totals(); t.Moved > 0 {
		fmt.Fprintf(&b, "**%s**\n\n| Application | Added | Changed | Removed | Moved here |\n|---|---:|---:|---:|---:|\n", r.Summary())
		for _, a := range r.Apps {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", a.App, a.Added, a.Changed, a.Removed, a.Moved)
		}
	} else {
		fmt.Fprintf(&b, "**%s**\n\n| Application | Added | Changed | Removed |\n|---|---:|---:|---:|\n", r.Summary())
		for _, a := range r.Apps {
			fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", a.App, a.Added, a.Changed, a.Removed)
		}
	}
	left := 0
	for _, a := range r.Apps {
		var sec strings.Builder
		fmt.Fprintf(&sec, "\n<details><summary><b>%s</b>: %s</summary>\n", a.App, a.counts())
		for _, c := range r.Changes {
			if c.App != a.App {
				continue
			}
			part := fmt.Sprintf("\n%s **%s** `%s`\n\n```diff\n%s```\n", sign(c.Status), c.Kind, c.Name, c.Diff)
			if c.Status == Moved {
				part = fmt.Sprintf("\n%s **%s** `%s` moved from `%s`\n\n```diff\n%s```\n", sign(c.Status), c.Kind, c.Name, c.From, c.Diff)
			}
			if b.Len()+sec.Len()+len(part)+200 > maxBytes {
				left++
				continue
			}
			sec.WriteString(part)
		}
		sec.WriteString("\n</details>\n")
		b.WriteString(sec.String())
	}
	if left > 0 {
		fmt.Fprintf(&b, "\n_%d object diff%s left out to stay under %d bytes; all of them: `pattern-gen diff` locally, or the pull-request run's artifact pattern-diff._\n", left, plural(left), maxBytes)
	}
	return b.String()
}

// ANSI colours of Colorize, as git diff uses them.
const (
	colorAdd    = "\033[32m"
	colorRemove = "\033[31m"
	colorHunk   = "\033[36m"
	colorHeader = "\033[1m"
	colorReset  = "\033[0m"
)

// objectHeader is the line Text starts each object's change with: its sign, kind, name and
// where it is; a diff line under it has the sign then the object's own text, indented.
var objectHeader = regexp.MustCompile(`^[-+~>] [^ ].* \([^()]*\)$`)

// Colorize colours a Text result for a terminal: added lines green, removed lines red, hunk
// headers cyan, object headers bold.
func Colorize(text string) string {
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	for _, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		color := ""
		switch {
		case body == "":
		case strings.HasPrefix(body, "@@"):
			color = colorHunk
		case objectHeader.MatchString(body), strings.HasPrefix(body, "pattern-gen diff "):
			color = colorHeader
		case body[0] == '+':
			color = colorAdd
		case body[0] == '-':
			color = colorRemove
		}
		if color == "" {
			b.WriteString(l)
			continue
		}
		b.WriteString(color + body + colorReset + l[len(body):])
	}
	return b.String()
}
