package forklock

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxGenerated bounds the unpacked text of a lock's generated files: a fork is a few hundred
// KiB, and a lock is input anyone who can push writes (a small gzip can unpack to gigabytes).
const maxGenerated = 64 << 20

// pack encodes the generated files compactly and deterministically: JSON (keys sorted),
// gzip without a name or time, base64 in lines of 76 characters. The lock stays a few tens
// of KiB; the files themselves are what a review reads.
func pack(files map[string][]byte) (string, error) {
	text := make(map[string]string, len(files))
	for p, data := range files {
		if utf8.Valid(data) { // JSON would change other bytes; such a file merges without a base
			text[p] = string(data)
		}
	}
	raw, err := json.Marshal(text)
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	w, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(raw); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString(z.Bytes())
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n")
	return b.String(), nil
}

// unpack decodes what pack encoded: every path must be one files lists, with its digest.
func unpack(text string, files map[string]string) (map[string][]byte, error) {
	z, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(text, "\n", ""))
	if err != nil {
		return nil, fmt.Errorf("not base64")
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("not gzip")
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxGenerated+1))
	if err != nil {
		return nil, fmt.Errorf("not gzip")
	}
	if len(raw) > maxGenerated {
		return nil, fmt.Errorf("unpacks to more than %d bytes", maxGenerated)
	}
	var text2 map[string]string
	if err := json.Unmarshal(raw, &text2); err != nil {
		return nil, fmt.Errorf("not the JSON object of generated files")
	}
	out := make(map[string][]byte, len(text2))
	for p, t := range text2 {
		if d, ok := files[p]; !ok || d != Digest([]byte(t)) {
			return nil, fmt.Errorf("holds %q, which files does not list with that digest", p)
		}
		out[p] = []byte(t)
	}
	return out, nil
}
