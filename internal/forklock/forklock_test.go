package forklock

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	config := []byte("# my config\nmetadata:\n  name: coco  \nazure:\n  region: eastus\n")
	files := map[string][]byte{"values-hub.yaml": []byte("a: 1\n"), "charts/all/x/Chart.yaml": []byte("name: x\n"), ".gitignore": nil}
	l := New("pattern-gen v1.2.3", config, files)
	data, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := New("pattern-gen v1.2.3", config, files).Encode()
	if string(again) != string(data) {
		t.Fatal("the same lock encodes to different bytes")
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if string(got.Config) != string(config) || got.Generator != l.Generator || len(got.Files) != 3 || got.Files["values-hub.yaml"] != Digest([]byte("a: 1\n")) {
		t.Fatalf("round trip changed the lock: %+v", got)
	}
	if len(got.Generated) != 3 || string(got.Generated["charts/all/x/Chart.yaml"]) != "name: x\n" {
		t.Fatalf("generated texts: %q", got.Generated)
	}
}

// The generated texts must be the files the lock lists, with their digests, and unpack to a
// bounded size: a small gzip can unpack to gigabytes.
func TestGeneratedRefuses(t *testing.T) {
	files := map[string]string{"Makefile": Digest([]byte("all:\n"))}
	packed, _ := pack(map[string][]byte{"Makefile": []byte("all:\n")})
	if got, err := unpack(packed, files); err != nil || string(got["Makefile"]) != "all:\n" {
		t.Fatalf("%q, %v", got, err)
	}
	other, _ := pack(map[string][]byte{"Makefile": []byte("evil:\n")})
	if _, err := unpack(other, files); err == nil || !strings.Contains(err.Error(), `holds "Makefile", which files does not list with that digest`) {
		t.Fatalf("a text that is not the digest's: %v", err)
	}
	bomb, _ := pack(map[string][]byte{"Makefile": bytes.Repeat([]byte("a"), maxGenerated+10)})
	if _, err := unpack(bomb, files); err == nil || !strings.Contains(err.Error(), "unpacks to more than") {
		t.Fatalf("a bomb: %v (packed to %d bytes)", err, len(bomb))
	}
}

func TestParseRefuses(t *testing.T) {
	good, _ := New("pattern-gen v1", []byte("a: b\n"), map[string][]byte{"Makefile": []byte("x")}).Encode()
	edit := func(old, new string) string { return strings.Replace(string(good), old, new, 1) }
	d := Digest([]byte("x"))
	for _, c := range []struct {
		name, data, want string
		newer            bool
	}{
		{"not YAML", "files: [", "pattern-gen.lock:1: did not find expected node content", false},
		{"a list", "- a\n", "pattern-gen.lock:1: not a mapping", false},
		{"newer format", edit("lockVersion: 1", "lockVersion: 2"), "written by a newer pattern-gen (pattern-gen v1): lockVersion 2, this pattern-gen reads 1", true},
		{"newer digest", edit(d, "blake3:abc"), `digest algorithm "blake3" in files.Makefile`, true},
		{"newer field", edit("files:", "signature: x\nfiles:"), `a field this pattern-gen does not know: "signature"`, true},
		{"config edited", edit("content: |\n    a: b", "content: |\n    a: c"), "config.digest: does not match config.content", false},
		{"short digest", edit(d, "sha256:abc"), "files.Makefile: not a sha256:<64 hex digits> digest", false},
		{"path outside", edit("Makefile:", "../../home/u/.bashrc:"), `files: "../../home/u/.bashrc" is not a clean relative path inside the fork`, false},
		{"control characters", edit("Makefile:", "\"a\\e[31mb\":"), `files: "a\x1b[31mb" is not a clean relative path`, false},
		{".git in another case", edit("Makefile:", ".GIT/HEAD:"), "not a clean relative path", false},
		{"an alias key", strings.Replace(edit("Makefile: ", "*x : "), "generator: ", "generator: &x ", 1), "holds a YAML alias", false},
		{"generator on two lines", edit("generator: pattern-gen v1", "generator: \"v1\\nERROR: run this\""), "generator: not one line of printable text", false},
		{"absolute path", edit("Makefile:", "/etc/passwd:"), "not a clean relative path", false},
		{"into .git", edit("Makefile:", ".git/config:"), "not a clean relative path", false},
		{"no files", edit("files:", "filez:"), `does not know: "filez"`, true},
		{"zero version", edit("lockVersion: 1", "lockVersion: 0"), "lockVersion: not a positive integer", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q\n%s", err, c.want, c.data)
			}
			if errors.As(err, new(ErrNewer)) != c.newer {
				t.Fatalf("ErrNewer: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("not one line: %q", err)
			}
		})
	}
}
