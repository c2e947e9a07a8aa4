// Package pull fetches the pod VM image's measurements from a container registry with
// go-containerregistry. Only pattern-gen links it: cmp-plugin renders from what the fork commits
// and never reaches a network.
package pull

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/pattern-gen/pattern-gen/internal/measurements"
)

// maxFile bounds measurements.json: the real one is a few hundred bytes.
const maxFile = 1 << 20

// Platform is the pod VM's: Azure confidential VMs are amd64.
var Platform = v1.Platform{OS: "linux", Architecture: "amd64"}

// Options say which image to read and with which credentials.
type Options struct {
	Image string // reference, by tag or digest
	// Version is the OSC version the measurements are for: a tagged Image must carry it.
	Version string
	// Auth is the pull secret's credentials (ReadAuthFile); nil pulls anonymously.
	Auth *AuthFile
	// Transport carries the requests; nil is Go's default (proxy settings from the environment).
	Transport http.RoundTripper
	// Logf reports progress; it is never given a credential.
	Logf func(format string, args ...any)
}

// Result is what the image holds and what the reference resolved to.
type Result struct {
	Image  string            // the reference as given
	Digest string            // sha256:<hex> of the manifest (or index) the reference resolved to
	SHA256 map[string]string // pcrNN -> hex, from measurements.Image
}

// Pull resolves o.Image, finds measurements.ImagePath in the linux/amd64 image's file system
// (upper layers first, whiteouts honoured), and reads it. The layer it comes from is read to
// its end so its digest is verified before a value is returned.
func Pull(ctx context.Context, o Options) (*Result, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ref, err := name.ParseReference(o.Image)
	if err != nil {
		return nil, fmt.Errorf("--image %q is not an image reference such as %s:1.13.0", o.Image, measurements.Repository)
	}
	if tag, ok := ref.(name.Tag); ok && o.Version != "" && tag.TagStr() != o.Version {
		return nil, fmt.Errorf("--image %s: tag %s is not the OSC version the fork pins, %s; the measurements of another version do not match its pod VMs", o.Image, tag.TagStr(), o.Version)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithPlatform(Platform)}
	if o.Auth != nil {
		opts = append(opts, remote.WithAuthFromKeychain(o.Auth))
	}
	if o.Transport != nil {
		opts = append(opts, remote.WithTransport(o.Transport))
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, explain(ref, o.Auth, err)
	}
	img, err := desc.Image() // an index resolves to its linux/amd64 image
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, explain(ref, o.Auth, err))
	}
	// An index resolved to Platform; a single image must be for it too.
	if cf, err := img.ConfigFile(); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, explain(ref, o.Auth, err))
	} else if cf.OS != Platform.OS || cf.Architecture != Platform.Architecture {
		return nil, fmt.Errorf("%s is an image for %s/%s; the pod VMs are %s/%s", ref, cf.OS, cf.Architecture, Platform.OS, Platform.Architecture)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, explain(ref, o.Auth, err))
	}
	for i := len(layers) - 1; i >= 0; i-- {
		size, _ := layers[i].Size()
		logf("reading layer %d of %d (%d bytes compressed)", len(layers)-i, len(layers), size)
		data, found, hidden, err := scanLayer(layers[i])
		if err != nil {
			return nil, fmt.Errorf("%s: layer %d of %d: %w", ref, i+1, len(layers), explain(ref, o.Auth, err))
		}
		if found {
			pcrs, err := measurements.Image(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ref, err)
			}
			return &Result{Image: o.Image, Digest: desc.Digest.String(), SHA256: pcrs}, nil
		}
		if hidden {
			break
		}
	}
	return nil, fmt.Errorf("%s has no /%s: is it the dm-verity pod VM image (%s)?", ref, measurements.ImagePath, measurements.Repository)
}

// scanLayer looks for the measurements file in one layer. hidden means the layer deletes it (or
// its folder) from the layers below. The layer is read to its end in every case.
func scanLayer(l v1.Layer) (data []byte, found, hidden bool, err error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, false, false, err
	}
	defer rc.Close()
	dir, base := path.Split(measurements.ImagePath)
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false, false, fmt.Errorf("not a tar archive of files: %w", err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		switch {
		case name == measurements.ImagePath:
			if h.Typeflag != tar.TypeReg {
				return nil, false, false, fmt.Errorf("/%s is not a regular file", measurements.ImagePath)
			}
			if h.Size > maxFile {
				return nil, false, false, fmt.Errorf("/%s is %d bytes, more than a measurements file holds", measurements.ImagePath, h.Size)
			}
			if data, err = io.ReadAll(tr); err != nil {
				return nil, false, false, err
			}
			found = true
		case name == dir+".wh."+base, name == dir+".wh..wh..opq", name == ".wh."+strings.TrimSuffix(dir, "/"), name == ".wh..wh..opq":
			hidden = true
		case name == strings.TrimSuffix(dir, "/") && h.Typeflag != tar.TypeDir:
			hidden = true // the folder replaced by a file or link
		}
	}
	// Reading to the end lets the registry client check the layer's digest.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, false, false, err
	}
	if err := rc.Close(); err != nil {
		return nil, false, false, err
	}
	return data, found, hidden && !found, nil
}

// explain turns the registry's refusals into what to do. Registry errors name the URL and the
// registry's code, never a credential.
func explain(ref name.Reference, auth *AuthFile, err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	switch te.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		if auth != nil && !auth.Has(ref.Context()) {
			return fmt.Errorf("%s: the registry refused access (HTTP %d); --authfile %s has no credentials for %s", ref, te.StatusCode, auth.File, ref.Context().RegistryStr())
		}
		if auth == nil {
			return fmt.Errorf("%s: the registry refused access (HTTP %d); pass --authfile with a pull secret for %s (the cluster's: oc get secret pull-secret -n openshift-config -o jsonpath='{.data.\\.dockerconfigjson}' | base64 -d > pull-secret.json)", ref, te.StatusCode, ref.Context().RegistryStr())
		}
		return fmt.Errorf("%s: the registry refused the credentials for %s in %s (HTTP %d); check the pull secret", ref, ref.Context().RegistryStr(), auth.File, te.StatusCode)
	case http.StatusNotFound:
		return fmt.Errorf("%s: no such image in the registry (HTTP 404); check the tag (the OSC version, x.y.z) or pass --image", ref)
	}
	// Only the status and the registry's error codes: a body can echo the request's headers.
	var codes []string
	for _, d := range te.Errors {
		codes = append(codes, string(d.Code))
	}
	if len(codes) == 0 {
		return fmt.Errorf("%s: the registry answered HTTP %d", ref, te.StatusCode)
	}
	return fmt.Errorf("%s: the registry answered HTTP %d (%s)", ref, te.StatusCode, strings.Join(codes, ", "))
}
