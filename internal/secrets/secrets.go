// Package secrets makes the key material a fork's secrets template (values-secret.yaml.template,
// Validated Patterns format 2.0) points at with path: fields: the KBS admin key pair, the
// attestation-token signer and the KBS HTTPS certificate. It is pure: it returns the files to
// write, and never prints key material; the caller writes them.
package secrets

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Options say what to generate for.
type Options struct {
	Template []byte    // values-secret.yaml.template of the fork
	KBSHost  string    // the KBS Route's host, for its certificate; "" when the apps domain is unknown
	Home     string    // what ~ stands for in path: fields
	Now      time.Time // certificates start now
	Rand     io.Reader // crypto/rand.Reader outside tests
}

// File is one file to write (mode 0600), for one secret of the template.
type File struct {
	Path, Secret, Field string
	Data                []byte
}

// Plan is what Generate makes: the files, and the template's path: fields it has no generator
// for (the user provides those).
type Plan struct {
	Files   []File
	Skipped []string // "secret.field"
}

type template struct {
	Version string
	Secrets []struct {
		Name   string
		Fields []struct {
			Name, Path string
		}
	}
}

// Generate makes fresh material for every path: field of the template it knows.
func Generate(o Options) (*Plan, error) {
	var t template
	if err := yaml.Unmarshal(o.Template, &t); err != nil {
		return nil, fmt.Errorf("values-secret.yaml.template: %w", err)
	}
	if t.Version != "2.0" {
		return nil, fmt.Errorf("values-secret.yaml.template: version %q is not the Validated Patterns format 2.0 that load-secrets reads; restore the fork's template (pattern-gen init writes it)", t.Version)
	}
	p := &Plan{}
	for _, s := range t.Secrets {
		paths := map[string]string{}
		for _, f := range s.Fields {
			if f.Path == "" {
				continue
			}
			p, err := keyPath(f.Path, o.Home)
			if err != nil {
				return nil, fmt.Errorf("values-secret.yaml.template: secret %s field %s: %w", s.Name, f.Name, err)
			}
			paths[f.Name] = p
		}
		if len(paths) == 0 {
			continue
		}
		made, err := generate(s.Name, paths, o)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", s.Name, err)
		}
		if made == nil {
			for f := range paths {
				p.Skipped = append(p.Skipped, s.Name+"."+f)
			}
			continue
		}
		p.Files = append(p.Files, made...)
	}
	slices.Sort(p.Skipped)
	return p, nil
}

// KeyDir is the one folder, below the home folder, pattern-gen writes key material into: the
// template comes with the fork, which anyone who can push to it controls, so its paths must not
// choose where files appear (a shell profile, an autostart entry, ~/.ssh).
const KeyDir = ".coco-pattern"

// keyPath is the file a path: field names, which must be ~/.coco-pattern/<file>.
func keyPath(path, home string) (string, error) {
	rest, ok := strings.CutPrefix(path, "~/"+KeyDir+"/")
	if !ok || !filepath.IsLocal(rest) || strings.ContainsAny(rest, "/\\") {
		return "", fmt.Errorf("path %q is not a file in ~/%s, the only folder pattern-gen writes key material into", path, KeyDir)
	}
	return filepath.Join(home, KeyDir, rest), nil
}

// generate makes the files of one secret, or nil when pattern-gen has no generator for it.
func generate(secret string, paths map[string]string, o Options) ([]File, error) {
	file := func(field string, data []byte) File {
		return File{Path: paths[field], Secret: secret, Field: field, Data: data}
	}
	switch {
	case secret == "kbsPublicKey" && paths["publicKey"] != "":
		// The KBS admin key pair: the public key goes to Vault, the private key stays beside it
		// for the admin client and is never loaded.
		pub, key, err := ed25519.GenerateKey(o.Rand)
		if err != nil {
			return nil, err
		}
		pubDER, _ := x509.MarshalPKIXPublicKey(pub)
		private := File{Path: filepath.Join(filepath.Dir(paths["publicKey"]), "kbsPrivateKey"), Secret: secret, Field: "private key (kept here, never loaded)", Data: pkcs8(key)}
		return []File{file("publicKey", pemOf("PUBLIC KEY", pubDER)), private}, nil
	case secret == "attestationToken" && paths["token.key"] != "" && paths["token.crt"] != "":
		key, cert, err := selfSigned(o, pkix.Name{CommonName: "kbs-attestation-token"}, nil, 2*365*24*time.Hour)
		if err != nil {
			return nil, err
		}
		return []File{file("token.key", key), file("token.crt", cert)}, nil
	case secret == "kbsTLS" && paths["tls.key"] != "" && paths["tls.crt"] != "":
		if o.KBSHost == "" {
			return nil, fmt.Errorf("the KBS certificate needs the cluster's apps domain: pass --domain apps.CLUSTER.example.com, or set appsDomain in pattern-gen.yaml")
		}
		key, cert, err := selfSigned(o, pkix.Name{CommonName: o.KBSHost}, []string{o.KBSHost}, 365*24*time.Hour)
		if err != nil {
			return nil, err
		}
		return []File{file("tls.key", key), file("tls.crt", cert)}, nil
	}
	return nil, nil
}

// selfSigned makes an EC P-256 key (PKCS #8) and a self-signed certificate for it.
func selfSigned(o Options, subject pkix.Name, hosts []string, valid time.Duration) (keyPEM, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), o.Rand)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randSerial(o.Rand)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject, DNSNames: hosts,
		NotBefore: o.Now.Add(-5 * time.Minute), NotAfter: o.Now.Add(valid),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(o.Rand, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	return pkcs8(key), pemOf("CERTIFICATE", der), nil
}

func randSerial(r io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}

func pkcs8(key crypto.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err) // ed25519 and ECDSA keys always marshal
	}
	return pemOf("PRIVATE KEY", der)
}

func pemOf(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
