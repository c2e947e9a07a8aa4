package project_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

// vpSecrets is the Validated Patterns secrets parser that `load-secrets` runs
// (rhvp.cluster_utils parse_secrets_v2.py), copied unmodified in the shared reference folder.
const vpSecrets = "../../../shared/reference/vp-secrets"

// parseScript calls the real parser the way load-secrets does, with Vault as the backing store,
// and prints the parsed secrets' names and Vault prefixes as JSON; a failure exits 1 with its
// message.
const parseScript = `
import json, sys, yaml
sys.path.insert(0, sys.argv[1])
from ansible_collections.rhvp.cluster_utils.plugins.module_utils.parse_secrets_v2 import ParseSecretsV2
class Module:
    def fail_json(self, msg, **kw):
        print(msg, file=sys.stderr); sys.exit(1)
    def warn(self, msg):
        print("warning: " + msg, file=sys.stderr)
with open(sys.argv[2]) as f:
    doc = yaml.safe_load(f)
p = ParseSecretsV2(Module(), doc, "vault")
p.parse()
print(json.dumps({n: s["vault_prefixes"] for n, s in p.parsed_secrets.items()}))
`

// vpParse runs the Validated Patterns parser on a secrets file, with home as HOME, and returns
// the parsed secrets' Vault prefixes by name; a refusal fails the test with the parser's message.
func vpParse(t *testing.T, secretsFile, home string) map[string][]string {
	t.Helper()
	if _, err := os.Stat(vpSecrets); err != nil {
		t.Skipf("%s is absent: skipping the check with the Validated Patterns secrets parser", vpSecrets)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("PATTERN_GEN_REQUIRE_TOOLS") != "" {
			t.Fatal("python3 is missing; make test installs it with PyYAML")
		}
		t.Skip("python3 is missing")
	}
	lib := filepath.Join(t.TempDir(), "lib")
	mod := filepath.Join(lib, "ansible_collections", "rhvp", "cluster_utils", "plugins", "module_utils")
	for dir := mod; dir != lib; dir = filepath.Dir(dir) {
		writeTestFile(t, filepath.Join(dir, "__init__.py"), "")
	}
	for _, f := range []string{"parse_secrets_v2.py", "load_secrets_common.py"} {
		data, err := os.ReadFile(filepath.Join(vpSecrets, f))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(mod, f), string(data))
	}
	cmd := exec.Command(python, "-c", parseScript, lib, secretsFile)
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("the Validated Patterns parser refuses %s: %v\n%s", filepath.Base(secretsFile), err, stderr)
	}
	var parsed map[string][]string
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return parsed
}

// The fork's secrets template is what load-secrets accepts: the real parser reads it once its
// path: files exist, and loads nothing under the global Vault path (readable by every cluster).
func TestSecretsTemplatePassesTheRealParser(t *testing.T) {
	_, tree, err := project.Scaffold(context.Background(), project.ScaffoldOptions{RepoURL: forkrepo.URL})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	// The parser fails on a path that does not exist: make every file the template names, in
	// a home folder of the test's own.
	home := filepath.Join(work, "home")
	template := tree["values-secret.yaml.template"]
	var doc struct {
		Secrets []struct {
			Fields []struct{ Path string }
		}
	}
	if err := yaml.Unmarshal(template, &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Secrets {
		for _, f := range s.Fields {
			if f.Path != "" {
				writeTestFile(t, filepath.Join(home, strings.TrimPrefix(f.Path, "~/")), "stand-in file content\n")
			}
		}
	}
	secrets := filepath.Join(work, "values-secret.yaml")
	writeTestFile(t, secrets, string(template))
	parsed := vpParse(t, secrets, home)
	for _, want := range []string{"kbsPublicKey", "attestationToken", "kbsres1", "passphrase"} {
		if _, ok := parsed[want]; !ok {
			t.Errorf("secret %s not parsed; got %v", want, parsed)
		}
	}
	for name, prefixes := range parsed {
		if slices.Contains(prefixes, "secret/global") || slices.Contains(prefixes, "global") {
			t.Errorf("secret %s is loaded under the global Vault path %v, readable by every cluster", name, prefixes)
		}
	}
	if _, ok := parsed["kbsPrivateKey"]; ok {
		t.Error("the KBS admin private key is loaded into Vault; nothing on a cluster uses it")
	}
}

// What secrets generate writes is what load-secrets loads: the real parser accepts the secrets
// file with the generated files in place, and reads the KBS certificate made for the domain.
func TestGeneratedSecretsPassTheRealParser(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	rep, err := project.GenerateSecrets(project.SecretsOptions{Fork: fork, Domain: "apps.c1.example.com", Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Written) != 6 || rep.OutKept || len(rep.Skipped) != 0 {
		t.Errorf("report %+v", rep)
	}
	parsed := vpParse(t, rep.Out, home)
	for _, want := range []string{"kbsPublicKey", "attestationToken", "kbsTLS"} {
		if _, ok := parsed[want]; !ok {
			t.Errorf("secret %s not parsed; got %v", want, parsed)
		}
	}
	crt, err := os.ReadFile(filepath.Join(home, ".coco-pattern", "kbs-tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(crt)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil || !slices.Equal(cert.DNSNames, []string{"kbs-trustee-operator-system.apps.c1.example.com"}) {
		t.Errorf("KBS certificate for %v (%v)", cert.DNSNames, err)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
