// Package ociimage builds the cmp-plugin sidecar image without a container engine: the static
// cmp-plugin and pattern-gen binaries on an empty base, one image per platform under one OCI
// index, written as an OCI layout that any registry client can push. Everything in it is a
// function of its inputs (file times, owners and the image's creation time are fixed), so the same
// source gives the same digest.
//
// The sidecar needs nothing else: Argo CD mounts argocd-cmp-server (the command the clustergroup
// chart gives the container), plugin.yaml, the plugins socket folder and an emptyDir at /tmp; the
// fork mounts the plugin's service-account token. pattern-gen, which the egress Job runs from the
// same image, carries its own TLS roots (golang.org/x/crypto/x509roots/fallback) for an image
// without a CA bundle.
package ociimage

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image layout facts the sidecar and the egress Job rely on.
const (
	BinDir = "usr/local/bin"
	// User is numeric and not root (a kubelet checks runAsNonRoot without a passwd file), and the
	// one Argo CD documents for plugin sidecars: the repo server (999) must be able to connect to
	// the socket the sidecar creates, which a sidecar of another UID leaves it no write access
	// to (argo-cd cmpserver/server.go). OpenShift's restricted SCC gives both containers its own.
	User = "999:999"
	Home = "/tmp" // Argo CD mounts an emptyDir there; nothing else in the image is writable
	// Entrypoint is where Argo CD's repo server puts argocd-cmp-server for its sidecars.
	Entrypoint = "/var/run/argocd/argocd-cmp-server"
)

// Platform is one os/arch the image is built for.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// Platforms are the platforms a release builds.
var Platforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}}

// File is one binary of an image, put at BinDir/Name.
type File struct {
	Name string
	Data []byte
}

// Options are the inputs of an image index: each platform's binaries, and what the image says
// about itself.
type Options struct {
	Files   map[Platform][]File
	Created time.Time         // the commit's time, so a rebuild of the same commit matches
	Labels  map[string]string // org.opencontainers.image.* labels, also the index's annotations
}

// Build assembles the index of one image per platform of o.Files, in Platforms order first.
func Build(o Options) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range sortedPlatforms(o.Files) {
		img, err := image(p, o.Files[p], o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch}}})
	}
	if len(o.Labels) > 0 {
		idx = mutate.Annotations(idx, o.Labels).(v1.ImageIndex)
	}
	return idx, nil
}

// sortedPlatforms orders the platforms as Platforms does, any other after them by name.
func sortedPlatforms(files map[Platform][]File) []Platform {
	rank := func(p Platform) int {
		if i := slices.Index(Platforms, p); i >= 0 {
			return i
		}
		return len(Platforms)
	}
	out := slices.Collect(maps.Keys(files))
	slices.SortFunc(out, func(a, b Platform) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.String(), b.String()))
	})
	return out
}

func image(p Platform, files []File, o Options) (v1.Image, error) {
	layer, err := binariesLayer(files, o.Created)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: o.Created.UTC()}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		History: v1.History{Created: created, CreatedBy: "pattern-gen make image", Comment: "the static cmp-plugin and pattern-gen binaries"}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = p.OS, p.Arch, created
	cf.Config = v1.Config{
		User:       User,
		Env:        []string{"PATH=/" + BinDir, "HOME=" + Home},
		Entrypoint: []string{Entrypoint},
		WorkingDir: Home,
		Labels:     o.Labels,
	}
	return mutate.ConfigFile(img, cf)
}

// binariesLayer is one gzip-compressed tar of the folders down to BinDir and the binaries, owned
// by root, read-only for everyone else, all with the time created.
func binariesLayer(files []File, created time.Time) (v1.Layer, error) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	mtime := created.UTC().Truncate(time.Second)
	dir := ""
	for _, part := range []string{"usr", "local", "bin"} {
		dir = path.Join(dir, part)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	// /tmp for running the image outside Argo CD, where nothing mounts it.
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	sorted := slices.SortedFunc(slices.Values(files), func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	for i, f := range sorted {
		if f.Name == "" || path.Base(f.Name) != f.Name || (i > 0 && sorted[i-1].Name == f.Name) {
			return nil, fmt.Errorf("binary name %q: want one plain, unique file name", f.Name)
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(BinDir, f.Name), Mode: 0o755, Size: int64(len(f.Data)), ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression) // no name, no time in the header
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	data := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}
