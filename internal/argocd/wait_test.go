package argocd

import (
	"testing"
	"time"
)

// A rollout passes through Degraded; only an application that stays Degraded for the grace
// ends the wait, and recovering resets its clock.
func TestStuckDegraded(t *testing.T) {
	since := map[string]time.Time{}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	degraded := []App{{Name: "trustee", Health: "Degraded", Message: "Deployment trustee-deployment: 0/1 available"}, {Name: "vault", Health: "Healthy"}}
	if err := stuckDegraded(degraded, since, 5*time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if err := stuckDegraded(degraded, since, 5*time.Minute, t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := stuckDegraded([]App{{Name: "trustee", Health: "Progressing"}}, since, 5*time.Minute, t0.Add(4*time.Minute+30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := stuckDegraded(degraded, since, 5*time.Minute, t0.Add(6*time.Minute)); err != nil {
		t.Fatalf("the clock did not restart after the recovery: %v", err)
	}
	err := stuckDegraded(degraded, since, 5*time.Minute, t0.Add(11*time.Minute))
	if err == nil || err.Error() != "degraded for 5m0s or more: trustee (Deployment trustee-deployment: 0/1 available)" {
		t.Fatalf("got %v", err)
	}
	if err := stuckDegraded(degraded, map[string]time.Time{"trustee": t0}, 0, t0.Add(time.Hour)); err != nil {
		t.Fatalf("a zero grace never fails: %v", err)
	}
}

// Text from the cluster reaches a terminal: escape sequences are shown, never sent.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Deployment trustee: 0/1 available": "Deployment trustee: 0/1 available",
		"ok\x1b]0;pwned\x07\x1b[2J\rFAKE":   `ok\x1b]0;pwned\a\x1b[2J\rFAKE`,
		"two\nlines":                        "two; lines",
		"crlf\r\nline":                      "crlf; line",
		"safe\u202egnp.exe":                 `safe\u202egnp.exe`,
		"bad \xff byte\u009b":               "bad \ufffd byte" + `\u009b`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
