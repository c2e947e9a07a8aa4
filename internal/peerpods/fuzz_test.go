package peerpods

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"regexp"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/peerpods/pemcert"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

// FuzzParseCloudConf: any cloud.conf is parsed or rejected without a panic, and an error never
// quotes the input (cloud.conf can hold a client secret).
func FuzzParseCloudConf(f *testing.F) {
	f.Add([]byte(cloudConf))
	f.Add([]byte(`{"aadClientSecret": "CANARY-SECRET",`))
	f.Add([]byte(`{"location": 7}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCloudConf(data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "cloud.conf is not valid JSON (at byte ") && msg != "cloud.conf does not have the expected fields" {
				t.Fatalf("unexpected error text %q", msg)
			}
			return
		}
		_ = c.SubnetID()
		_ = c.NSGID()
	})
}

// initdataErrors are the only errors the initdata builder gives: none quotes its input.
var initdataErrors = regexp.MustCompile(`^(KBS URL: not https://<DNS name> \(\d+ characters\); set the apps domain to a DNS name such as apps\.mycluster\.example\.com` +
	`|security policy resource: not <secret>/<key> \(\d+ characters\); use a flavour such as insecure, signed or reject` +
	`|agent policy \d+ is unknown; use Restrictive or AllowAll` +
	`|KBS certificate: (` + certErrors + `))$`)

// FuzzInitdataTOML: whatever the KBS URL, certificate, security policy resource and policy,
// the builder refuses them with an error that does not quote them, or the document decodes to
// exactly the expected keys, with the fixed agent policy, the URL as given and the certificate
// as pemcert re-encodes it.
func FuzzInitdataTOML(f *testing.F) {
	cert := testcert.SelfSigned("kbs-trustee-operator-system.apps.c1.example.com", 0)
	const key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
	f.Add(testKBSURL, cert, "security-policy/insecure", uint8(Restrictive))
	f.Add(testKBSURL, "", "security-policy/signed", uint8(AllowAll))
	f.Add(testKBSURL, cert+cert, "security-policy/reject", uint8(2))
	f.Add(testKBSURL, cert+breakout, "security-policy/insecure", uint8(Restrictive))
	f.Add(testKBSURL, cert+key, "security-policy/insecure", uint8(Restrictive))
	f.Add(testKBSURL+breakout, cert, "security-policy/insecure", uint8(Restrictive))
	f.Add(testKBSURL, cert, "security-policy/x"+breakout, uint8(Restrictive))
	f.Add("https://kbs.example.com\"\n[x]", "", "a/b", uint8(Restrictive))
	f.Fuzz(func(t *testing.T, url, cert, resource string, policy uint8) {
		p := Policy(policy)
		doc, err := Initdata{KBSURL: url, KBSCert: cert, SecurityPolicy: resource, Policy: p}.TOML()
		if err != nil {
			if !initdataErrors.MatchString(err.Error()) {
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		want := ""
		if cert != "" {
			if want, err = pemcert.Parse(cert); err != nil {
				t.Fatalf("the builder took a certificate pemcert refuses: %v", err)
			}
		}
		if err := checkInitdata(doc, url, want, resource, p); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
	})
}

// certErrors are the only errors pemcert.Parse gives: none quotes its input.
const certErrors = `holds a private key` +
	`|is not a PEM certificate \(-----BEGIN CERTIFICATE----- \.\.\.\)` +
	`|has text outside the PEM blocks \(before block \d+\); give only -----BEGIN CERTIFICATE----- blocks` +
	`|block \d+ is not a well-formed PEM block` +
	`|block \d+ is not a CERTIFICATE block; only certificates belong here` +
	`|certificate \d+ is not a valid X\.509 certificate`

// FuzzParseCertificate: pemcert.Parse never panics; it returns only CERTIFICATE blocks that
// parse, in canonical form, or an error that does not quote the input; a private key in the
// input is always an error, and no other block of the input is ever copied to the output.
func FuzzParseCertificate(f *testing.F) {
	cert := testcert.SelfSigned("kbs.apps.example.com", 0)
	const key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n"
	for _, seed := range []string{
		cert, cert + testcert.SelfSigned("other.example.com", 0), strings.ReplaceAll(cert, "\n", "\r\n"), key, cert + key, key + cert,
		cert + breakout, "x\n" + cert, "-----BEGIN CERTIFICATE-----\nMIIBHUBC\n-----END CERTIFICATE-----\n",
		cert + "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", "-----BEGIN CERTIFICATE-----\n", "", "\n\n",
	} {
		f.Add(seed)
	}
	errorText := regexp.MustCompile(`^(` + certErrors + `)$`)
	f.Fuzz(func(t *testing.T, in string) {
		out, err := pemcert.Parse(in)
		if err != nil {
			if out != "" || !errorText.MatchString(err.Error()) {
				t.Fatalf("unexpected error text %q (output %q)", err, out)
			}
			return
		}
		if strings.Contains(in, "PRIVATE KEY") {
			t.Fatal("a private key was accepted")
		}
		rest := []byte(out)
		for {
			b, tail := pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" || len(b.Headers) > 0 {
				t.Fatalf("output block of type %q with %d headers", b.Type, len(b.Headers))
			}
			if _, err := x509.ParseCertificate(b.Bytes); err != nil {
				t.Fatalf("output certificate does not parse: %v", err)
			}
			rest = tail
		}
		if len(rest) != 0 || out == "" {
			t.Fatalf("output is not PEM certificates only: %q", out)
		}
		if again, err := pemcert.Parse(out); err != nil || again != out {
			t.Fatalf("the output is not canonical: %v", err)
		}
		for rest := []byte(in); ; {
			b, tail := pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" && len(b.Bytes) > 0 && strings.Contains(out, base64.StdEncoding.EncodeToString(b.Bytes)[:min(48, base64.StdEncoding.EncodedLen(len(b.Bytes)))]) {
				t.Fatalf("a %q block of the input reached the output", b.Type)
			}
			rest = tail
		}
	})
}
