// Package testregistry runs go-containerregistry's in-process OCI registry for tests, optionally
// behind HTTP basic auth as registry.redhat.io asks for a pull secret, and builds and pushes the
// images the tests read. It stands in for a remote registry only: the client under test is the
// real one.
package testregistry

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// T is what the helpers need of a test: testing.TB, or a testscript command's adaptor.
type T interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// Registry is a running test registry.
type Registry struct {
	Host       string // 127.0.0.1:port; go-containerregistry speaks plain HTTP to loopback
	user, pass string
}

// Start runs a registry until the test ends. With a user, every request needs basic auth with
// user and pass, and the registry answers 401 with a Basic challenge otherwise.
func Start(t T, user, pass string) *Registry {
	t.Helper()
	return StartWrapped(t, user, pass, nil)
}

// StartWrapped is Start with wrap (when not nil) in front of the registry, to answer some
// requests as a misbehaving registry would.
func StartWrapped(t T, user, pass string, wrap func(http.Handler) http.Handler) *Registry {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	if user != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return &Registry{Host: strings.TrimPrefix(s.URL, "http://"), user: user, pass: pass}
}

// Layer builds a gzip layer holding files (path -> content) in the order given by names; a path
// ending in "/" is a folder, "link -> target" a symbolic link. Whiteouts are files named
// .wh.<name>, as in any OCI layer.
func Layer(t T, names []string, files map[string]string) v1.Layer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, n := range names {
		h := &tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(files[n]))}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if link, target, ok := strings.Cut(n, " -> "); ok {
			h.Name, h.Typeflag, h.Linkname, h.Size = link, tar.TypeSymlink, target, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return RawLayer(t, b.Bytes())
}

// RawLayer is a layer whose uncompressed content is data, tar or not.
func RawLayer(t T, data []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Image is an image of layers, lowest first, for platform os/arch.
func Image(t T, arch string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// Index is a multi-platform index of images, each with the platform its config names.
func Index(t T, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture}}})
	}
	return idx
}

// Push writes an image or index to repo:tag in r and returns its digest.
func (r *Registry) Push(t T, repoTag string, obj any) string {
	t.Helper()
	ref, err := name.ParseReference(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{}
	if r.user != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: r.user, Password: r.pass}))
	}
	var d v1.Hash
	switch o := obj.(type) {
	case v1.Image:
		err = remote.Write(ref, o, opts...)
		if err == nil {
			d, err = o.Digest()
		}
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, o, opts...)
		if err == nil {
			d, err = o.Digest()
		}
	default:
		t.Fatal(fmt.Sprintf("Push: %T is neither an image nor an index", obj))
	}
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
