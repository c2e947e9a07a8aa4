package pemcert_test

import (
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pattern-gen/pattern-gen/internal/peerpods/pemcert"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

func TestParse(t *testing.T) {
	a, b := testcert.SelfSigned("kbs.apps.a.example.com", 0), testcert.SelfSigned("kbs.apps.b.example.com", 0)
	// The same certificate with CRLF, a PEM header, short lines and surrounding blank lines.
	block, _ := pem.Decode([]byte(a))
	body := strings.Join(chunks(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}), 20), "")
	messy := "\r\n\n" + strings.ReplaceAll(strings.Replace(body, "-----\n", "-----\nComment: x\n\n", 1), "\n", "\r\n") + "\n\n"
	const keyBlock = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n"
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{name: "one", in: a, want: a},
		{name: "chain keeps its order", in: b + a, want: b + a},
		{name: "canonical output", in: messy, want: a},
		{name: "no newline at the end", in: strings.TrimSuffix(a, "\n"), want: a},
		{name: "empty", in: "", err: "is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)"},
		{name: "not PEM", in: "hello", err: "is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)"},
		{name: "private key after the certificate", in: a + keyBlock, err: "holds a private key"},
		{name: "private key without an END line", in: "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n", err: "holds a private key"},
		{name: "other block type", in: a + "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", err: "block 2 is not a CERTIFICATE block; only certificates belong here"},
		{name: "text before", in: "x = 1\n" + a, err: "has text outside the PEM blocks (before block 1); give only -----BEGIN CERTIFICATE----- blocks"},
		{name: "text between", in: a + "'''\n[data]\n" + b, err: "block 1 is not a well-formed PEM block"},
		{name: "text after", in: a + "'''\n", err: "block 1 is not a well-formed PEM block"},
		{name: "no END line", in: strings.TrimSuffix(a, "-----END CERTIFICATE-----\n"), err: "block 1 is not a well-formed PEM block"},
		{name: "not X.509", in: "-----BEGIN CERTIFICATE-----\nMIIBHUBC\n-----END CERTIFICATE-----\n", err: "certificate 1 is not a valid X.509 certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pemcert.Parse(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %q, %v; want error %q", got, err, tc.err)
				}
				if got != "" {
					t.Errorf("output with an error: %q", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v\nwant %q", got, err, tc.want)
			}
		})
	}
	if _, err := pemcert.Parse(a + keyBlock); !errors.Is(err, pemcert.ErrPrivateKey) {
		t.Errorf("a private key is not ErrPrivateKey: %v", err)
	}
}

// chunks splits the base64 lines of a PEM block into lines of n characters.
func chunks(p []byte, n int) []string {
	var out []string
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if strings.HasPrefix(line, "-----") || len(line) <= n+1 {
			out = append(out, line)
			continue
		}
		s := strings.TrimSuffix(line, "\n")
		for len(s) > n {
			out = append(out, s[:n]+"\n")
			s = s[n:]
		}
		out = append(out, s+"\n")
	}
	return out
}

func TestCheck(t *testing.T) {
	const host = "kbs-trustee-operator-system.apps.c1.example.com"
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	leaf, ca, other := testcert.IssuedBy(host, 20, 21), testcert.CA(21), testcert.CA(22)
	for _, tc := range []struct {
		name, in, host string
		now            time.Time
		err            string
	}{
		{name: "self-signed", in: testcert.SelfSigned(host, 1), host: host, now: now},
		{name: "leaf and its CA", in: leaf + ca, host: host, now: now},
		{name: "host not pinned", in: leaf, now: now},
		{name: "expired", in: leaf + ca, now: time.Date(2035, 1, 2, 0, 0, 0, 0, time.UTC), err: "certificate 1 expired on 2035-01-01; give the KBS's current certificate"},
		{name: "not yet valid", in: leaf, now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), err: "certificate 1 is not valid before 2026-01-01T00:00:00Z"},
		{name: "another CA", in: leaf + other, now: now, err: "certificate 1 is not signed by certificate 2"},
		{name: "CA first", in: ca + leaf, now: now, err: "certificate 2 is not a CA certificate, so it cannot vouch for certificate 1"},
		{name: "two leaves", in: leaf + testcert.SelfSigned(host, 3), now: now, err: "certificate 2 is not a CA certificate"},
		{name: "other host", in: leaf, host: "kbs-trustee-operator-system.apps.c2.example.com", now: now,
			err: "certificate 1 is not for kbs-trustee-operator-system.apps.c2.example.com, the KBS host (it names " + host + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			canonical, err := pemcert.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			err = pemcert.Check(canonical, pemcert.CheckOptions{Now: tc.now, Host: tc.host})
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
