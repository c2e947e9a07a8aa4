// Package e2e drives the real Argo CD: argocd-cmp-server running cmp-plugin with the fork's
// plugin.yaml, and argocd-repo-server in front of it, over their gRPC APIs with argo-cd's own
// clients. It is its own Go module because argo-cd v2 pins k8s.io 0.31, which the product
// (Helm v3.22) cannot link.
package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"sigs.k8s.io/yaml"
)

// tool returns the path the environment variable env gives (the Makefile sets them all), or
// skips the test without it, unless PATTERN_GEN_REQUIRE_TOOLS is set.
func tool(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		if os.Getenv("PATTERN_GEN_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s must be set; run `make test`", env)
		}
		t.Skipf("%s is not set: skipping the end-to-end test (make test builds and sets it)", env)
	}
	return p
}

// binaries are built by the Makefile (make test) and passed in through the environment.
type binaries struct {
	argocd, cmpPlugin, patternGen string
}

func needBinaries(t *testing.T) binaries {
	t.Helper()
	return binaries{argocd: tool(t, "PATTERN_GEN_ARGOCD"), cmpPlugin: tool(t, "PATTERN_GEN_CMP_PLUGIN"), patternGen: tool(t, "PATTERN_GEN_BIN")}
}

// argo is a running argocd-cmp-server plus argocd-repo-server.
type argo struct {
	work       string
	fork       string // the scaffolded fork, also a git repository
	cmpSocket  string
	repoServer string // host:port
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs a process in its own process group, logging to a file, and stops the whole group
// when the test ends.
func start(t *testing.T, logDir, name string, env []string, path string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			if len(data) > 4000 {
				data = data[len(data)-4000:]
			}
			t.Logf("--- %s log (tail) ---\n%s", name, data)
		}
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	waitWithin(t, what, 60*time.Second, ok)
}

// waitWithin polls ok until it holds, failing the test after d.
func waitWithin(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not happen within %v", what, d)
}

// selfSignedCert is a real certificate for host: cmp-plugin parses the KBS certificate and
// refuses anything else. (The product's testcert package is out of this module's reach.)
func selfSignedCert(t *testing.T, host string) string {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	must(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// moduleDir is the folder of a Go module version (path@version) in the module cache, fetched
// through the module proxy from the module in folder dir.
func moduleDir(t *testing.T, dir, module string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", module, err)
	}
	var mod struct{ Dir string }
	must(t, json.Unmarshal(out, &mod))
	return mod.Dir
}

// pinsTable is the product's table of pinned components (../values/pins.yaml): the tests
// install what it names, so a pin cannot move without them.
const pinsTable = "../values/pins.yaml"

// esoCRDFiles are the CustomResourceDefinitions of the External Secrets version the pinned
// golang-external-secrets chart bundles, from that version's Go module.
func esoCRDFiles(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(pinsTable)
	must(t, err)
	var table struct {
		Components []struct {
			Name    string
			Bundles *struct{ Module, CRDs string }
		}
	}
	must(t, yaml.Unmarshal(data, &table))
	for _, c := range table.Components {
		if c.Name != "golang-external-secrets" || c.Bundles == nil {
			continue
		}
		// The folder also holds the kustomization.yaml that lists them.
		files, err := filepath.Glob(filepath.Join(moduleDir(t, ".", c.Bundles.Module), filepath.FromSlash(c.Bundles.CRDs), "*_*.yaml"))
		must(t, err)
		if len(files) == 0 {
			t.Fatalf("no CRDs in %s of %s", c.Bundles.CRDs, c.Bundles.Module)
		}
		return files
	}
	t.Fatalf("%s names no golang-external-secrets bundle", pinsTable)
	return nil
}

// startArgo scaffolds a fork from config, commits it to a local git repository and starts the
// CMP server (with the fork's own cmp-plugin/plugin.yaml) and the repo server. A sidecar has no
// cluster credentials here, so discovery is tested apart from Argo CD.
func startArgo(t *testing.T, b binaries, config string) *argo {
	t.Helper()
	a := newWorkspace(t, b, config)
	p := startArgoProcs(t, b, a.fork, a.work, "", nil, nil)
	a.cmpSocket, a.repoServer = p.cmpSocket, p.repoServer
	return a
}

// argoProcs are a running CMP server and repo server, with what else a cluster's Argo CD
// processes need to share.
type argoProcs struct {
	bin, logs         string
	env               []string // every process's base environment
	cmpSocket         string
	repoServer, redis string // host:port
}

// startArgoProcs starts, in folder work, argocd-cmp-server with the fork's plugin.yaml and
// cmp-plugin, and argocd-repo-server in front of it. helm, when set, is put on the processes'
// PATH for Helm applications; env is added to every process, cmpEnv to the CMP server only.
func startArgoProcs(t *testing.T, b binaries, fork, work, helm string, env, cmpEnv []string) *argoProcs {
	t.Helper()
	for _, d := range []string{"bin", "plugins", "config", "cmp-work", "logs", "tmp"} {
		must(t, os.MkdirAll(filepath.Join(work, d), 0o755))
	}
	p := &argoProcs{bin: filepath.Join(work, "bin"), logs: filepath.Join(work, "logs")}
	for _, role := range []string{"argocd-cmp-server", "argocd-repo-server", "argocd-application-controller"} {
		must(t, os.Symlink(b.argocd, filepath.Join(p.bin, role)))
	}
	// The fork's plugin.yaml calls `cmp-plugin` through PATH, as in the sidecar image.
	must(t, os.Symlink(b.cmpPlugin, filepath.Join(p.bin, "cmp-plugin")))
	if helm != "" {
		must(t, os.Symlink(helm, filepath.Join(p.bin, "helm")))
	}
	pluginYAML, err := os.ReadFile(filepath.Join(fork, "cmp-plugin", "plugin.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(work, "config", "plugin.yaml"), pluginYAML, 0o644))

	p.env = append([]string{"PATH=" + p.bin + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + work, "TMPDIR=" + filepath.Join(work, "tmp"),
		"ARGOCD_PLUGINSOCKFILEPATH=" + filepath.Join(work, "plugins")}, env...)
	cmpEnv = append(cmpEnv, imageEnv(t, filepath.Join(work, "tmp"))...)
	start(t, p.logs, "cmp-server", append(append(append([]string{}, p.env...), "ARGOCD_CMP_WORKDIR="+filepath.Join(work, "cmp-work")), cmpEnv...),
		filepath.Join(p.bin, "argocd-cmp-server"), "--config-dir-path", filepath.Join(work, "config"), "--loglevel", "info")
	p.cmpSocket = filepath.Join(work, "plugins", "cmp-plugin-v1.0.sock")
	waitFor(t, "argocd-cmp-server", func() bool { _, err := os.Stat(p.cmpSocket); return err == nil })

	p.redis = miniredis.RunT(t).Addr()
	port := freePort(t)
	p.repoServer = fmt.Sprintf("127.0.0.1:%d", port)
	start(t, p.logs, "repo-server", append(append([]string{}, p.env...), "ARGOCD_GPG_ENABLED=false", "REDIS_SERVER="+p.redis,
		"ARGOCD_REPO_SERVER_PLUGIN_TAR_EXCLUSIONS=.git/*"),
		filepath.Join(p.bin, "argocd-repo-server"), "--disable-tls", "--address", "127.0.0.1", "--port", fmt.Sprint(port),
		"--metrics-address", "127.0.0.1", "--metrics-port", fmt.Sprint(freePort(t)), "--loglevel", "warn")
	waitFor(t, "argocd-repo-server", func() bool {
		c, err := net.DialTimeout("tcp", p.repoServer, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// newWorkspace scaffolds a fork from config in a short temporary directory (unix socket paths
// are limited to 108 bytes) and commits it to a git repository the repo server can clone.
func newWorkspace(t *testing.T, b binaries, config string) *argo {
	t.Helper()
	work, err := os.MkdirTemp("", "pg-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	a := &argo{work: work, fork: filepath.Join(work, "fork")}
	cfg := filepath.Join(work, "pattern-gen.yaml")
	must(t, os.WriteFile(cfg, []byte(config), 0o644))
	run(t, work, nil, b.patternGen, "init", "--config", cfg, a.fork)
	writeMeasurements(t, a.fork)
	gitEnv := []string{"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.com", "GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.com", "GIT_CONFIG_GLOBAL=/dev/null"}
	run(t, a.fork, gitEnv, "git", "init", "-q", "-b", "main")
	run(t, a.fork, gitEnv, "git", "add", "-A")
	run(t, a.fork, gitEnv, "git", "commit", "-q", "-m", "fork")
	return a
}

// measuredPCR is the value every pod VM measurement gets in the e2e forks.
var measuredPCR = strings.Repeat("3c", 32)

// writeMeasurements commits what a user commits after `pattern-gen measurements pull`: the file
// as that command writes it, for the fork's pinned OSC version. It stands in for the pull from
// registry.redhat.io (a pull secret and the network); the pull itself runs against an
// in-process registry in cmd/pattern-gen's measurements_pull script.
func writeMeasurements(t *testing.T, fork string) {
	t.Helper()
	global, err := os.ReadFile(filepath.Join(fork, "values-global.yaml"))
	must(t, err)
	m := regexp.MustCompile(`(?m)^\s+sandboxedContainers: "([0-9.]+)"$`).FindSubmatch(global)
	if m == nil {
		t.Fatal("values-global.yaml pins no global.coco.versions.sandboxedContainers")
	}
	doc := fmt.Sprintf(`global:
  coco:
    trustee:
      measurements:
        osc: "%s"
        image: "registry.redhat.io/openshift-sandboxed-containers/osc-dm-verity-image:%[1]s"
        digest: "sha256:%s"
        expires: "2030-01-01T00:00:00Z"
        sha256:
          pcr03: "%[3]s"
          pcr09: "%[3]s"
          pcr11: "%[3]s"
          pcr12: "%[3]s"
`, m[1], strings.Repeat("0", 64), measuredPCR)
	must(t, os.WriteFile(filepath.Join(fork, "values-measurements.yaml"), []byte(doc), 0o644))
}

func contains(haystack string, needles ...string) error {
	var missing []string
	for _, n := range needles {
		if !strings.Contains(haystack, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %q in:\n%s", missing, haystack)
	}
	return nil
}

// imageEnv is the environment the sidecar image gives argocd-cmp-server, when the tests run the
// image's own cmp-plugin (PATTERN_GEN_IMAGE_CONFIG names the image config make image-e2e unpacked
// beside its files): its PATH, mapped onto the unpacked folder, so the plugin is found where the
// image puts it, and its HOME, mapped onto tmp, the emptyDir Argo CD mounts at /tmp. It checks
// what the clustergroup chart and OpenShift rely on: the entrypoint Argo CD provides, a numeric
// non-root user. Nothing without the variable (a run against bin/).
func imageEnv(t *testing.T, tmp string) []string {
	t.Helper()
	path := os.Getenv("PATTERN_GEN_IMAGE_CONFIG")
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	must(t, err)
	var cfg struct {
		User       string   `json:"User"`
		Env        []string `json:"Env"`
		Entrypoint []string `json:"Entrypoint"`
	}
	must(t, json.Unmarshal(data, &cfg))
	uid, _, _ := strings.Cut(cfg.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Fatalf("the image's user %q is not a numeric non-root user", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/var/run/argocd/argocd-cmp-server"}) {
		t.Fatalf("the image's entrypoint %v is not where Argo CD puts argocd-cmp-server", cfg.Entrypoint)
	}
	root := filepath.Dir(path)
	var env []string
	for _, e := range cfg.Env {
		k, v, _ := strings.Cut(e, "=")
		switch k {
		case "PATH":
			var dirs []string
			for _, d := range filepath.SplitList(v) {
				dirs = append(dirs, filepath.Join(root, d))
			}
			env = append(env, "PATH="+strings.Join(dirs, string(filepath.ListSeparator)))
		case "HOME":
			if v != "/tmp" {
				t.Fatalf("the image's HOME %q is not /tmp, the one writable folder of the sidecar", v)
			}
			env = append(env, "HOME="+tmp)
		default:
			env = append(env, e)
		}
	}
	return env
}
