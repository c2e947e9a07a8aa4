package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// apiServer is etcd + kube-apiserver on loopback. The product module has the same harness
// (internal/testutil/kubeapi); this module cannot import it, because linking the product here
// would pull its k8s.io 0.37 graph into argo-cd's 0.31 one.
type apiServer struct {
	url, caFile string
	tokens      map[string]string
	dir         string
}

func startAPIServer(t *testing.T, users ...string) *apiServer {
	t.Helper()
	etcd, apiserver := tool(t, "PATTERN_GEN_ETCD"), tool(t, "PATTERN_GEN_KUBE_APISERVER")
	dir := t.TempDir()
	s := &apiServer{dir: dir, tokens: map[string]string{}}
	client, peer, secure := freePort(t), freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	start(t, dir, "etcd", nil, etcd, "--data-dir", filepath.Join(dir, "etcd"), "--listen-client-urls", etcdURL,
		"--advertise-client-urls", etcdURL, "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL)
	lines := ""
	for i, u := range append([]string{"admin"}, users...) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		s.tokens[u] = fmt.Sprintf("%x", b)
		groups := ""
		if u == "admin" {
			groups = "system:masters"
		}
		lines += fmt.Sprintf("%s,%s,uid-%d,\"%s\"\n", s.tokens[u], u, i, groups)
	}
	must(t, os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(lines), 0o600))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	must(t, os.WriteFile(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600))
	certs := filepath.Join(dir, "certs")
	start(t, dir, "kube-apiserver", nil, apiserver, "--etcd-servers", etcdURL, "--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(secure), "--cert-dir", certs, "--token-auth-file", filepath.Join(dir, "tokens.csv"),
		"--authorization-mode", "RBAC", "--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(dir, "sa.pub"), "--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16", "--advertise-address", "127.0.0.1")
	s.url, s.caFile = fmt.Sprintf("https://127.0.0.1:%d", secure), filepath.Join(certs, "apiserver.crt")
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	waitFor(t, "kube-apiserver", func() bool {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens["admin"])
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// kubeconfig writes a kubeconfig for user whose context defaults to namespace ns.
func (s *apiServer) kubeconfig(t *testing.T, user, ns string) string {
	t.Helper()
	p := filepath.Join(s.dir, "kubeconfig-"+filepath.Base(user)+"-"+ns)
	must(t, os.WriteFile(p, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: u
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: u, namespace: %q}
current-context: test
`, s.url, s.caFile, s.tokens[user], ns)), 0o600))
	return p
}
