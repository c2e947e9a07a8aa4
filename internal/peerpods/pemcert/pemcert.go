// Package pemcert parses the PEM certificates that end up in the initdata (the KBS
// certificate): every block is checked and re-encoded, so nothing but certificates (a private
// key pasted by mistake, TOML or policy text hidden between blocks) can travel with them. It
// imports nothing of pattern-gen, so config validation and the initdata builder share it.
package pemcert

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrPrivateKey means the input holds a private key. Callers say where it is and how to remove
// it; no error of this package quotes or copies its input.
var ErrPrivateKey = errors.New("holds a private key")

var (
	beginMarker = []byte("-----BEGIN ")
	blockType   = "CERTIFICATE"
)

// Parse accepts one or more PEM CERTIFICATE blocks, with nothing but whitespace around and
// between them, each an X.509 certificate, and returns them re-encoded in canonical PEM
// (64-column base64, no headers, LF), in the order given. Errors name the block by its
// position, never by its content: x509 and PEM messages can quote the input, so they are
// dropped.
func Parse(pemText string) (string, error) {
	if strings.Contains(pemText, "PRIVATE KEY") {
		return "", ErrPrivateKey
	}
	rest := []byte(pemText)
	var out bytes.Buffer
	for n := 1; ; n++ {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			if n == 1 {
				return "", notPEM
			}
			return out.String(), nil
		}
		if !bytes.HasPrefix(rest, beginMarker) {
			if n == 1 && !bytes.Contains(rest, beginMarker) {
				return "", notPEM
			}
			return "", fmt.Errorf("has text outside the PEM blocks (before block %d); give only -----BEGIN CERTIFICATE----- blocks", n)
		}
		// pem.Decode skips text it cannot read up to the next BEGIN line, so each block is
		// decoded on its own, from its BEGIN line to the next one.
		end := len(rest)
		if i := bytes.Index(rest[len(beginMarker):], beginMarker); i >= 0 {
			end = len(beginMarker) + i
		}
		b, tail := pem.Decode(rest[:end])
		if b == nil || len(bytes.TrimSpace(tail)) != 0 {
			return "", fmt.Errorf("block %d is not a well-formed PEM block", n)
		}
		if b.Type != blockType {
			return "", fmt.Errorf("block %d is not a CERTIFICATE block; only certificates belong here", n)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return "", fmt.Errorf("certificate %d is not a valid X.509 certificate", n)
		}
		if err := pem.Encode(&out, &pem.Block{Type: blockType, Bytes: cert.Raw}); err != nil {
			return "", fmt.Errorf("certificate %d: %w", n, err)
		}
		rest = rest[end:]
	}
}

var notPEM = errors.New("is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)")

// Expiry is when the first of the certificates of a Parse result expires.
func Expiry(canonical string) (time.Time, error) {
	var first time.Time
	rest := []byte(canonical)
	for {
		b, tail := pem.Decode(rest)
		if b == nil {
			break
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return time.Time{}, errors.New("not a certificate Parse returned")
		}
		if first.IsZero() || cert.NotAfter.Before(first) {
			first = cert.NotAfter
		}
		rest = tail
	}
	if first.IsZero() {
		return first, notPEM
	}
	return first.UTC(), nil
}

// CheckOptions say what a certificate the user supplies must be good for.
type CheckOptions struct {
	Now  time.Time
	Host string // the KBS host the first certificate must name; "" skips the check
}

// Check holds a Parse result to what the pod VMs will require of the KBS's certificate: each
// certificate valid at o.Now, each one after the first the issuer that signed the one before it
// (the KBS certificate first, then its CA chain), and the first naming o.Host. Errors name
// certificates by position and dates and hosts, which are public; never key material.
func Check(canonical string, o CheckOptions) error {
	var certs []*x509.Certificate
	for rest := []byte(canonical); ; {
		b, tail := pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return errors.New("not a certificate Parse returned")
		}
		certs, rest = append(certs, c), tail
	}
	if len(certs) == 0 {
		return notPEM
	}
	for i, c := range certs {
		switch {
		case o.Now.After(c.NotAfter):
			return fmt.Errorf("certificate %d expired on %s; give the KBS's current certificate", i+1, c.NotAfter.UTC().Format(time.DateOnly))
		case o.Now.Before(c.NotBefore):
			return fmt.Errorf("certificate %d is not valid before %s", i+1, c.NotBefore.UTC().Format(time.RFC3339))
		}
		if i > 0 {
			if !c.IsCA {
				return fmt.Errorf("certificate %d is not a CA certificate, so it cannot vouch for certificate %d; give the KBS certificate first, then the CA certificates that issued it, in order", i+1, i)
			}
			if err := certs[i-1].CheckSignatureFrom(c); err != nil {
				return fmt.Errorf("certificate %d is not signed by certificate %d; give the KBS certificate first, then the CA certificates that issued it, in order", i, i+1)
			}
		}
	}
	if o.Host != "" {
		if err := certs[0].VerifyHostname(o.Host); err != nil {
			return fmt.Errorf("certificate 1 is not for %s, the KBS host (it names %s); issue it for that host, or correct appsDomain", o.Host, namesOf(certs[0]))
		}
	}
	return nil
}

// namesOf lists the DNS names a certificate is for.
func namesOf(c *x509.Certificate) string {
	if len(c.DNSNames) == 0 {
		return "no DNS name"
	}
	return strings.Join(c.DNSNames, ", ")
}
