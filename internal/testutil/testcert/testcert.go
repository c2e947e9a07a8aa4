// Package testcert makes the X.509 certificates tests need: real ones, since the KBS
// certificate is parsed wherever it enters, and the same bytes on every run, since initdata and
// its PCR8 are compared byte for byte.
package testcert

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"
)

// SelfSigned is a self-signed certificate for host in canonical PEM, valid from 2026 to 2036.
// Ed25519 signs deterministically and the key comes from seed, so the bytes never change;
// different seeds give different certificates for the same host.
func SelfSigned(host string, seed byte) string {
	return SelfSignedUntil(host, seed, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC))
}

// SelfSignedUntil is SelfSigned expiring at notAfter (valid from 2026, or from a year before
// an earlier notAfter).
func SelfSignedUntil(host string, seed byte, notAfter time.Time) string {
	notBefore := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if notAfter.Before(notBefore) {
		notBefore = notAfter.AddDate(-1, 0, 0)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(seed) + 1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notBefore, NotAfter: notAfter,
	}
	return sign(tmpl, tmpl, seed, seed)
}

// Key is the Ed25519 key SelfSigned uses for seed.
func Key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// KeyPEM is Key(seed) as a PKCS #8 "PRIVATE KEY" block, for tests that a key is refused.
func KeyPEM(seed byte) string {
	der, err := x509.MarshalPKCS8PrivateKey(Key(seed))
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// PinnedConfig is a pattern-gen config for the embedded default's pattern with the KBS
// certificate SelfSigned(host, seed) pinned (trustee.kbsCertificate), for tests of a plugin
// that reads no cluster: with trustee.https, a certificate is required at sync time.
func PinnedConfig(repoURL, host string, seed byte) []byte {
	data, err := yaml.Marshal(map[string]any{
		"apiVersion": "pattern-gen.io/v1alpha1", "kind": "Pattern",
		"git":     map[string]any{"repoURL": repoURL},
		"trustee": map[string]any{"kbsCertificate": SelfSigned(host, seed)},
	})
	if err != nil {
		panic(err)
	}
	return data
}

// WritePinnedConfig writes PinnedConfig for the test fork's repository and a KBS on
// apps.c1.example.com to dir/pinned-cert.yaml and returns the path, for testscript set-ups
// ($PINNED_CERT_CONFIG).
func WritePinnedConfig(dir, repoURL string) (string, error) {
	p := filepath.Join(dir, "pinned-cert.yaml")
	return p, os.WriteFile(p, PinnedConfig(repoURL, "kbs-trustee-operator-system.apps.c1.example.com", 1), 0o644)
}

// CA is a CA certificate for seed and IssuedBy a certificate for host that it signed, both in
// canonical PEM and deterministic like SelfSigned.
func CA(seed byte) string {
	return sign(caTemplate(seed), caTemplate(seed), seed, seed)
}

// IssuedBy is a certificate for host with key seed, signed by CA(caSeed).
func IssuedBy(host string, seed, caSeed byte) string {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(seed) + 1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	return sign(tmpl, caTemplate(caSeed), seed, caSeed)
}

func caTemplate(seed byte) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(int64(seed) + 1000), Subject: pkix.Name{CommonName: "test CA " + string(rune('A'+seed%26))},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func sign(tmpl, parent *x509.Certificate, seed, parentSeed byte) string {
	der, err := x509.CreateCertificate(nil, tmpl, parent, Key(seed).Public(), Key(parentSeed))
	if err != nil {
		panic(err) // fixed templates and keys: cannot fail
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
