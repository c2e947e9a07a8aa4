package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/argocd"
)

var apps = []argocd.App{
	{Name: "sandboxed-containers", Wave: 10, Sync: "OutOfSync", Health: "Degraded", Revision: "0123456789abcdef",
		Message: "ComparisonError: rpc error: code = Unknown desc = plugin cmp-plugin-v1.0 failed: peer-pods-cm: AZURE_REGION: cloud-conf has no location — pin azure.region"},
	{Name: "trustee", Wave: 20, Sync: "Synced", Health: "Healthy", Revision: "0123456789abcdef"},
}

// At 80 columns no line of the live table is wider than the terminal (a wrapped line makes
// the redraw repeat the header), and a cut line says so.
func TestFitWidth(t *testing.T) {
	var b strings.Builder
	writeTable(&b, apps, false)
	got := fitWidth(b.String(), 80)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), got)
	}
	for _, l := range lines {
		if columns(l) > 79 {
			t.Errorf("%d columns: %q", columns(l), l)
		}
	}
	if !strings.HasSuffix(lines[1], "...") || !strings.HasPrefix(lines[0], "APPLICATION") {
		t.Errorf("got:\n%s", got)
	}
}

// Wide characters take two columns: a line of them is cut to fit too.
func TestFitWidthWideRunes(t *testing.T) {
	got := fitWidth(strings.Repeat("漢", 50)+"\n", 60)
	if c := columns(strings.TrimSuffix(got, "\n")); c > 59 || !strings.HasSuffix(got, "...\n") {
		t.Fatalf("%d columns: %q", c, got)
	}
}

// Piped (a CI log), each change is one line carrying the application's message.
func TestProgressPiped(t *testing.T) {
	var b bytes.Buffer
	show := progressPrinter(&b)
	show(apps)
	show(apps) // nothing changed: nothing printed
	if n := strings.Count(b.String(), "\n"); n != 2 {
		t.Fatalf("%d lines:\n%s", n, b.String())
	}
	if !strings.Contains(b.String(), "sandboxed-containers: OutOfSync, Degraded: ComparisonError: rpc error") {
		t.Errorf("the message is missing:\n%s", b.String())
	}
}
