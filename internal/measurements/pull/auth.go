package pull

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// AuthFile is a pull secret: the {"auths": {...}} JSON of podman's --authfile, docker's
// config.json and OpenShift's pull-secret. Only the file is read; no credential helper runs.
type AuthFile struct {
	File  string
	auths map[string]authn.AuthConfig // by key as written, scheme and trailing slash removed
}

// maxAuthFile bounds a pull secret; the cluster's is a few kilobytes.
const maxAuthFile = 1 << 20

// ReadAuthFile reads a pull secret. Errors name the file and the key, never a value.
func ReadAuthFile(file string) (*AuthFile, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("--authfile: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() > maxAuthFile {
		return nil, fmt.Errorf("--authfile %s: not a pull-secret file (a regular file of at most 1 MiB)", file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--authfile: %w", err)
	}
	var doc struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
	}
	if json.Unmarshal(data, &doc) != nil || doc.Auths == nil {
		return nil, fmt.Errorf("--authfile %s: not a pull secret, the JSON object {\"auths\": {\"<registry>\": {\"auth\": \"<base64 user:password>\"}}}", file)
	}
	a := &AuthFile{File: file, auths: map[string]authn.AuthConfig{}}
	// Keys in order, the ones written as registry[/path] last, so they win over a legacy
	// https:// key for the same place whatever order the map gives.
	plain := func(k string) int {
		if normalize(k) == k {
			return 1
		}
		return 0
	}
	keys := slices.SortedFunc(maps.Keys(doc.Auths), func(x, y string) int {
		return cmp.Or(cmp.Compare(plain(x), plain(y)), strings.Compare(x, y))
	})
	for _, key := range keys {
		e := doc.Auths[key]
		if e.Auth == "" && e.Username == "" && e.IdentityToken == "" {
			continue // docker writes {} for registries whose credentials a helper keeps
		}
		c := authn.AuthConfig{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			user, pass, ok := strings.Cut(string(raw), ":")
			if err != nil || !ok {
				return nil, fmt.Errorf("--authfile %s: auths[%q].auth is not base64 of user:password", file, key)
			}
			c.Username, c.Password = user, pass
		}
		a.auths[normalize(key)] = c
	}
	return a, nil
}

// normalize turns an auths key into registry[/repository] as go-containerregistry names them:
// docker writes https://index.docker.io/v1/, podman docker.io, quay.io or quay.io/org.
func normalize(key string) string {
	key = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://"), "/")
	host, rest, _ := strings.Cut(key, "/")
	host = strings.ToLower(host)
	if rest == "v1" || rest == "v2" { // docker's legacy https://<registry>/v1/ form
		rest = ""
	}
	switch host {
	case "docker.io", "registry-1.docker.io":
		host = name.DefaultRegistry
	}
	return strings.TrimSuffix(host+"/"+rest, "/")
}

// Has says whether the file has an entry for the repository.
func (a *AuthFile) Has(r authn.Resource) bool {
	auth, err := a.Resolve(r)
	return err == nil && auth != authn.Anonymous
}

// Resolve picks the most specific entry for the repository, as podman does: the repository,
// then each parent namespace, then the registry. Anonymous when none matches.
func (a *AuthFile) Resolve(r authn.Resource) (authn.Authenticator, error) {
	scope := r.String()
	for {
		if c, ok := a.auths[scope]; ok {
			return authn.FromConfig(c), nil
		}
		i := strings.LastIndex(scope, "/")
		if i < 0 {
			break
		}
		scope = scope[:i]
	}
	if c, ok := a.auths[r.RegistryStr()]; ok {
		return authn.FromConfig(c), nil
	}
	return authn.Anonymous, nil
}
