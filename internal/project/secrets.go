package project

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/pattern-gen/pattern-gen/internal/atomicfile"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/secrets"
)

// SecretsOptions say for which fork to make secrets, and where.
type SecretsOptions struct {
	Fork   string
	Out    string   // the secrets file; "" for ~/values-secret-<pattern>.yaml
	Domain string   // the apps domain for the KBS certificate; "" for the fork's appsDomain
	Rotate []string // secrets whose existing files may be replaced
	Home   string   // the user's home folder (~ in the template's paths)
}

// SecretsReport says what was written, by path and secret name only.
type SecretsReport struct {
	Written []secrets.File // Data is not kept
	Kept    []string       // secrets whose files exist and were not rotated
	Skipped []string       // template fields pattern-gen makes nothing for
	Out     string
	OutKept bool // the secrets file existed and was left as it is
}

// GenerateSecrets makes the key material the fork's secrets template names and the secrets file
// that load-secrets reads, every file mode 0600. A secret whose files exist is kept unless it is
// named in Rotate; nothing is written when any check fails.
func GenerateSecrets(o SecretsOptions) (*SecretsReport, error) {
	t, err := generate.ReadFork(o.Fork)
	if err != nil {
		return nil, err
	}
	template, ok := t["values-secret.yaml.template"]
	if !ok {
		return nil, fmt.Errorf("fork %s has no values-secret.yaml.template; run pattern-gen init", o.Fork)
	}
	g, err := render.ReadPattern(t)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", o.Fork, err)
	}
	domain := cmp.Or(o.Domain, g.Coco().AppsDomain)
	host := ""
	if domain != "" {
		host = generate.KBSHostPrefix + domain
		if len(validation.IsDNS1123Subdomain(host)) > 0 {
			return nil, fmt.Errorf("--domain: not a DNS name (%d characters); use the cluster's apps domain, such as apps.mycluster.example.com", len(domain))
		}
	}
	plan, err := secrets.Generate(secrets.Options{Template: template, KBSHost: host, Home: o.Home, Now: time.Now(), Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	rep := &SecretsReport{Skipped: plan.Skipped, Out: o.Out}
	if rep.Out == "" {
		rep.Out = filepath.Join(o.Home, "values-secret-"+g.Name+".yaml")
	}
	write, kept, err := pickSecretFiles(plan.Files, o.Rotate, rep.Out)
	if err != nil {
		return nil, err
	}
	rep.Kept = kept
	_, err = os.Lstat(rep.Out)
	rep.OutKept = err == nil
	for _, f := range write {
		if err := writePrivate(f.Path, f.Data); err != nil {
			return rep, err
		}
		rep.Written = append(rep.Written, secrets.File{Path: f.Path, Secret: f.Secret, Field: f.Field})
	}
	if !rep.OutKept {
		if err := writePrivate(rep.Out, template); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// pickSecretFiles returns the files to write: every file of a secret none of whose files exists,
// and every file of a rotated secret. A secret with only some of its files (a key without its
// certificate) is an error, as are links and rotating a secret the template does not name.
func pickSecretFiles(files []secrets.File, rotate []string, out string) (write []secrets.File, kept []string, err error) {
	bySecret := map[string][]secrets.File{}
	for _, f := range files {
		bySecret[f.Secret] = append(bySecret[f.Secret], f)
	}
	names := slices.Sorted(maps.Keys(bySecret))
	for _, r := range rotate {
		if bySecret[r] == nil {
			return nil, nil, fmt.Errorf("--rotate %s: not a secret pattern-gen generates; choose from %s", r, strings.Join(names, ", "))
		}
	}
	for _, p := range append([]string{out}, pathsOf(files)...) {
		if st, err := os.Lstat(p); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, nil, fmt.Errorf("%s is a symbolic link; pattern-gen does not write key material through links", p)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
	}
	for _, name := range names {
		var present, missing []string
		for _, f := range bySecret[name] {
			if _, err := os.Lstat(f.Path); err == nil {
				present = append(present, f.Path)
			} else {
				missing = append(missing, f.Path)
			}
		}
		switch {
		case slices.Contains(rotate, name) || len(present) == 0:
			write = append(write, bySecret[name]...)
		case len(missing) > 0:
			return nil, nil, fmt.Errorf("secret %s is incomplete: %s exist but %s do not; pass --rotate %s to make all of them again", name, strings.Join(present, ", "), strings.Join(missing, ", "), name)
		default:
			kept = append(kept, name)
		}
	}
	return write, kept, nil
}

func pathsOf(files []secrets.File) []string {
	var ps []string
	for _, f := range files {
		ps = append(ps, f.Path)
	}
	return ps
}

// writePrivate writes data to path, mode 0600 (a new folder 0700), so a reader never sees half
// a key.
func writePrivate(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o600, 0o700)
}
