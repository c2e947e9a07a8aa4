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
