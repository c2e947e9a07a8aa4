// Package kubeapi starts a real Kubernetes API server for tests: etcd (Debian's etcd-server)
// and kube-apiserver built from k8s.io/kubernetes, on loopback, with static tokens and RBAC.
// The binaries come from PATTERN_GEN_ETCD and PATTERN_GEN_KUBE_APISERVER (make test sets them).
package kubeapi

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Server is a running API server.
type Server struct {
	URL    string
	dir    string
	tokens map[string]string // user -> token
	caFile string
}

// User is one identity of the static token file.
type User struct {
	Name   string
	Groups []string
}

// Admin is in system:masters.
var Admin = User{Name: "admin", Groups: []string{"system:masters"}}

// Start starts etcd and kube-apiserver for the test and stops both when it ends. users get a
// bearer token each; Admin is always there. It skips the test when the binaries are not
// configured, unless PATTERN_GEN_REQUIRE_TOOLS is set.
func Start(t *testing.T, users ...User) *Server {
	t.Helper()
	etcd, apiserver := os.Getenv("PATTERN_GEN_ETCD"), os.Getenv("PATTERN_GEN_KUBE_APISERVER")
	if etcd == "" || apiserver == "" {
		if os.Getenv("PATTERN_GEN_REQUIRE_TOOLS") != "" {
			t.Fatal("PATTERN_GEN_ETCD and PATTERN_GEN_KUBE_APISERVER must be set; run `make test`")
		}
		t.Skip("PATTERN_GEN_ETCD or PATTERN_GEN_KUBE_APISERVER is not set: skipping the test against a real API server (make test builds it)")
	}
	dir := t.TempDir()
	s := &Server{dir: dir, tokens: map[string]string{}}

	clientPort, peerPort, securePort := freePort(t), freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	start(t, dir, "etcd", etcd, "--data-dir", filepath.Join(dir, "etcd"), "--listen-client-urls", etcdURL,
		"--advertise-client-urls", etcdURL, "--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", peerPort))

	var lines []string
	for i, u := range append([]User{Admin}, users...) {
		tok := fmt.Sprintf("token-%d-%s", i, randHex(t))
		s.tokens[u.Name] = tok
		lines = append(lines, fmt.Sprintf("%s,%s,uid-%d,\"%s\"", tok, u.Name, i, strings.Join(u.Groups, ",")))
	}
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, strings.Join(lines, "\n")+"\n")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	writeFile(t, filepath.Join(dir, "sa.key"), string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	writeFile(t, filepath.Join(dir, "sa.pub"), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))

	certDir := filepath.Join(dir, "certs")
	start(t, dir, "kube-apiserver", apiserver, "--etcd-servers", etcdURL, "--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(securePort), "--cert-dir", certDir, "--token-auth-file", tokens,
		"--authorization-mode", "RBAC", "--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(dir, "sa.pub"), "--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16", "--advertise-address", "127.0.0.1")
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", securePort)
	s.caFile = filepath.Join(certDir, "apiserver.crt")

	// The serving certificate is self-signed for this run; readiness is polled over TLS that
	// trusts it once written.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[Admin.Name])
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-apiserver not ready within 90 s (last error %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s
}

// Config is a client config for user.
func (s *Server) Config(user string) *rest.Config {
	return &rest.Config{Host: s.URL, BearerToken: s.tokens[user], TLSClientConfig: rest.TLSClientConfig{CAFile: s.caFile}}
}

// Kubeconfig writes a kubeconfig file for user and returns its path.
func (s *Server) Kubeconfig(t *testing.T, user string) string {
	t.Helper()
	p := filepath.Join(s.dir, "kubeconfig-"+user)
	writeFile(t, p, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: %s
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: %s}
current-context: test
`, s.URL, s.caFile, user, s.tokens[user], user))
	return p
}

func start(t *testing.T, dir, name, bin string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			if len(data) > 3000 {
				data = data[len(data)-3000:]
			}
			t.Logf("--- %s log (tail) ---\n%s", name, data)
		}
	})
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

func randHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
