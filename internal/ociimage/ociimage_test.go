package ociimage_test

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pattern-gen/pattern-gen/internal/ociimage"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testregistry"
)

// Same source, same digest: cmp-plugin compiled twice into different folders (pattern-gen is built
// the same way, and only slower), and the image assembled twice, give one index digest; a changed
// byte of a binary gives another.
func TestSameSourceSameDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the binaries")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	p := ociimage.Platform{OS: "linux", Arch: runtime.GOARCH}
	build := func() (string, map[ociimage.Platform][]ociimage.File) {
		files, err := ociimage.Compile(context.Background(), ociimage.CompileOptions{Dir: root, Platform: p, Out: t.TempDir(), Only: []string{"cmp-plugin"}})
		if err != nil {
			t.Fatal(err)
		}
		all := map[ociimage.Platform][]ociimage.File{p: files}
		idx, err := ociimage.Build(ociimage.Options{Files: all, Created: time.Unix(1764547200, 0), Labels: map[string]string{"org.opencontainers.image.version": "v0.0.0-test"}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := ociimage.WriteLayout(filepath.Join(t.TempDir(), "oci"), "test", idx)
		if err != nil {
			t.Fatal(err)
		}
		return d.String(), all
	}
	first, files := build()
	second, _ := build()
	// The image has no libc: every binary must be static (no ELF interpreter).
	for _, f := range files[p] {
		e, err := elf.NewFile(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, prog := range e.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked", f.Name)
			}
		}
	}
	if first != second {
		t.Fatalf("two builds of the same source: %s and %s", first, second)
	}
	changed := slices.Clone(files[p])
	changed[0].Data = append(slices.Clone(changed[0].Data), 0)
	idx, err := ociimage.Build(ociimage.Options{Files: map[ociimage.Platform][]ociimage.File{p: changed}, Created: time.Unix(1764547200, 0), Labels: map[string]string{"org.opencontainers.image.version": "v0.0.0-test"}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := idx.Digest(); d.String() == first {
		t.Error("a changed binary gave the same digest")
	}
}

// The image is what the sidecar needs and nothing else: one layer with the binaries, root-owned
// and read-only to the user, a numeric non-root user, HOME on /tmp, binaries on PATH; one
// manifest per platform in the index, in the release's order.
func TestImageLayout(t *testing.T) {
	files := []ociimage.File{{Name: "pattern-gen", Data: []byte("pg")}, {Name: "cmp-plugin", Data: []byte("cp")}}
	idx, err := ociimage.Build(ociimage.Options{
		Files:   map[ociimage.Platform][]ociimage.File{{OS: "linux", Arch: "arm64"}: files, {OS: "linux", Arch: "amd64"}: files},
		Created: time.Unix(1764547200, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	if _, err := ociimage.WriteLayout(dir, "v0.2.0", idx); err != nil {
		t.Fatal(err)
	}
	// One named entry in index.json, as skopeo and podman want from a layout (oci:DIR:NAME).
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var top v1.IndexManifest
	if err := json.Unmarshal(raw, &top); err != nil || len(top.Manifests) != 1 || top.Manifests[0].Annotations[ociimage.RefName] != "v0.2.0" {
		t.Errorf("index.json %s (%v)", raw, err)
	}
	idx, err = ociimage.ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, d := range m.Manifests {
		order = append(order, d.Platform.OS+"/"+d.Platform.Architecture)
	}
	if !slices.Equal(order, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %v", order)
	}
	img, err := ociimage.PlatformImage(idx, ociimage.Platform{OS: "linux", Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != "arm64" || cf.Config.User != ociimage.User || !slices.Contains(cf.Config.Env, "HOME=/tmp") ||
		!slices.Contains(cf.Config.Env, "PATH=/usr/local/bin") || !slices.Equal(cf.Config.Entrypoint, []string{ociimage.Entrypoint}) {
		t.Errorf("config %+v", cf)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(time.Unix(1764547200, 0)) {
			t.Errorf("%s: owner %d:%d, time %s", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		if h.Typeflag == tar.TypeReg && h.Mode != 0o755 {
			t.Errorf("%s: mode %o", h.Name, h.Mode)
		}
	}
	if want := []string{"usr/", "usr/local/", "usr/local/bin/", "tmp/", "usr/local/bin/cmp-plugin", "usr/local/bin/pattern-gen"}; !slices.Equal(names, want) {
		t.Errorf("layer %v, want %v", names, want)
	}
	if data, err := ociimage.ExtractFile(img, "usr/local/bin/cmp-plugin"); err != nil || !bytes.Equal(data, []byte("cp")) {
		t.Errorf("extract: %q %v", data, err)
	}
	if _, err := ociimage.Build(ociimage.Options{Files: map[ociimage.Platform][]ociimage.File{{OS: "linux", Arch: "amd64"}: {{Name: "../x"}}}}); err == nil {
		t.Error("a binary name with a path was accepted")
	}
}

// The layout is loadable into a registry as written: pushed from disk, the registry serves the
// index under the tag with the digest make image printed, with both platforms.
func TestPushFromLayout(t *testing.T) {
	files := []ociimage.File{{Name: "cmp-plugin", Data: []byte("cp")}, {Name: "pattern-gen", Data: []byte("pg")}}
	idx, err := ociimage.Build(ociimage.Options{Files: map[ociimage.Platform][]ociimage.File{ociimage.Platforms[0]: files, ociimage.Platforms[1]: files}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	want, err := ociimage.WriteLayout(dir, "v0.2.0", idx)
	if err != nil {
		t.Fatal(err)
	}
	reg := testregistry.Start(t, "", "")
	fromDisk, err := ociimage.ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ociimage.Push(context.Background(), fromDisk, reg.Host+"/team/cmp-plugin:v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if ref != reg.Host+"/team/cmp-plugin:v0.2.0@"+want.String() {
		t.Errorf("pushed %s, want the tag at %s", ref, want)
	}
	tag, err := name.NewTag(reg.Host + "/team/cmp-plugin:v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Index(tag)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("the registry serves %s, want %s", d, want)
	}
	if _, err := ociimage.Push(context.Background(), fromDisk, reg.Host+"/team/cmp-plugin"); err == nil {
		t.Error("a push target without a tag was accepted")
	}
}
