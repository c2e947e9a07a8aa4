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
	"time"
)

// SelfSigned is a self-signed certificate for host in canonical PEM. Ed25519 signs
// deterministically and the key comes from seed, so the bytes never change; different seeds
// give different certificates for the same host.
func SelfSigned(host string, seed byte) string {
	key := Key(seed)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(seed) + 1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err) // a fixed template and key: cannot fail
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
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
