package ociimage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RefName is the layout annotation that names an image in it (OCI image-spec annotations), so
// tools that copy one image out of a layout (skopeo, podman: oci:DIR:NAME) find it.
const RefName = "org.opencontainers.image.ref.name"

// WriteLayout writes the OCI layout dir, replacing what was there: its index.json names idx (as
// ref, such as the version) and idx's blobs follow. It returns idx's digest: the digest a
// registry gives the pushed image.
func WriteLayout(dir, ref string, idx v1.ImageIndex) (v1.Hash, error) {
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{RefName: ref})); err != nil {
		return v1.Hash{}, fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	return idx.Digest()
}

// ReadLayout reads the image index an OCI layout written by WriteLayout names.
func ReadLayout(dir string) (v1.ImageIndex, error) {
	outer, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	m, err := outer.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	if len(m.Manifests) != 1 || !m.Manifests[0].MediaType.IsIndex() {
		return nil, fmt.Errorf("OCI layout %s: want one image index in index.json (make image writes it), found %d entries", dir, len(m.Manifests))
	}
	return outer.ImageIndex(m.Manifests[0].Digest)
}

// Push copies the index to ref (registry/repository:tag) with the credentials of the user's
// docker or podman config, and returns the reference by digest.
func Push(ctx context.Context, idx v1.ImageIndex, ref string) (string, error) {
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("push target %q: %w; give registry/repository:tag", ref, err)
	}
	if err := remote.WriteIndex(tag, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return "", fmt.Errorf("push %s: %w", tag, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return tag.String() + "@" + d.String(), nil
}

// PlatformImage is the image of one platform in idx.
func PlatformImage(idx v1.ImageIndex, p Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == p.OS && d.Platform.Architecture == p.Arch {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("the image has no %s variant", p)
}

// ExtractFile returns the content of the regular file at name (a path in the image, such as
// usr/local/bin/cmp-plugin) from the image's layers, the last layer that has it winning.
func ExtractFile(img v1.Image, name string) ([]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var found []byte
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		data, ok, err := fileIn(rc, name)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if ok {
			found = data
		}
	}
	if found == nil {
		return nil, fmt.Errorf("the image has no file %s", name)
	}
	return found, nil
}

func fileIn(r io.Reader, name string) ([]byte, bool, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if path.Clean(h.Name) == path.Clean(name) && h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			return data, true, err
		}
	}
}

// WriteBinaries writes the binaries of BinDir in img into dir, executable, for a test harness that
// runs them as the image would.
func WriteBinaries(img v1.Image, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, c := range Commands {
		data, err := ExtractFile(img, path.Join(BinDir, c.Name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, c.Name), data, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// NotesOptions are what the release notes say.
type NotesOptions struct {
	Repo, Version, Digest string
	Sums                  string // the SHA256SUMS file's content
}

// Notes are the release notes: the image by digest first, since a fork should pin exactly that.
func Notes(o NotesOptions) (string, error) {
	if !strings.HasPrefix(o.Digest, "sha256:") || len(o.Digest) != len("sha256:")+64 {
		return "", fmt.Errorf("digest %q is not sha256:<64 hex>", o.Digest)
	}
	ref := o.Repo + ":" + o.Version + "@" + o.Digest
	var b strings.Builder
	fmt.Fprintf(&b, "# pattern-gen %s\n\n## cmp-plugin image\n\n    %s\n\n", o.Version, ref)
	fmt.Fprintf(&b, "Platforms: %s. `pattern-gen init` of this release writes it into new forks; in a fork, set\n", platformList())
	fmt.Fprintf(&b, "`plugin.image: %s` in pattern-gen.yaml and run `pattern-gen update`.\n\n", ref)
	b.WriteString("Verify its keyless signature (made by this release's workflow):\n\n")
	fmt.Fprintf(&b, "    cosign verify --certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n        --certificate-identity-regexp '^https://github.com/.+/\\.github/workflows/release\\.yaml@refs/tags/%s$' %s\n\n", o.Version, ref)
	b.WriteString("For a disconnected cluster, copy every platform to your mirror by digest, then point\n`plugin.image` at the mirror with the same digest:\n\n")
	fmt.Fprintf(&b, "    oc image mirror --keep-manifest-list %s <mirror>/cmp-plugin:%s\n\n", ref, o.Version)
	b.WriteString("## Binaries (SHA-256)\n\n```\n" + strings.TrimRight(o.Sums, "\n") + "\n```\n")
	return b.String(), nil
}

func platformList() string {
	var out []string
	for _, p := range Platforms {
		out = append(out, p.String())
	}
	return strings.Join(out, ", ")
}
