package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	repoapi "github.com/argoproj/argo-cd/v2/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v2/util/cmp"
	"github.com/argoproj/argo-cd/v2/util/tgzstream"
)

const (
	sandboxPath = "charts/all/sandboxed-containers"
	subnetID    = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/e2e-vnet-rg/providers/Microsoft.Network/virtualNetworks/e2e-vnet/subnets/e2e-worker-subnet"
	nsgID       = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/e2e-rg/providers/Microsoft.Network/networkSecurityGroups/e2e-nsg"
	domain      = "apps.e2e.example.com"
)

// forkConfig pins the NSG in git, so that key comes from the repository's values, and the KBS
// certificate, which the plugin (with no cluster credentials here) needs with trustee.https.
func forkConfig(t *testing.T) string {
	return `apiVersion: pattern-gen.io/v1alpha1
kind: Pattern
git: {repoURL: https://example.com/org/coco.git}
azure:
  nsgID: ` + nsgID + `
trustee:
  kbsCertificate: |
` + indent(selfSignedCert(t, "kbs-trustee-operator-system."+domain), 4)
}

func str(s string) *string { return &s }

// request is the ManifestRequest the application controller would send for the
// sandboxed-containers application of the fork.
func request(a *argo, env v1alpha1.Env, params v1alpha1.ApplicationSourcePluginParameters) *repoapi.ManifestRequest {
	src := &v1alpha1.ApplicationSource{
		RepoURL: "file://" + a.fork, Path: sandboxPath, TargetRevision: "HEAD",
		Plugin: &v1alpha1.ApplicationSourcePlugin{Name: "cmp-plugin-v1.0", Env: env, Parameters: params},
	}
	return &repoapi.ManifestRequest{
		Repo: &v1alpha1.Repository{Repo: src.RepoURL}, Revision: "HEAD", NoCache: true,
		AppName: "sandboxed-containers", Namespace: "openshift-sandboxed-containers-operator",
		ApplicationSource: src, KubeVersion: "1.30.4", ApiVersions: []string{"v1", "apps/v1"},
		ProjectName: "sandbox", ProjectSourceRepos: []string{"*"},
	}
}

// The settings every successful request gives; a parameter wins over env for the region.
func goodInputs() (v1alpha1.Env, v1alpha1.ApplicationSourcePluginParameters) {
	env := v1alpha1.Env{
		{Name: "AZURE_REGION", Value: "westeurope"},
		{Name: "AZURE_RESOURCE_GROUP", Value: "e2e-rg"},
		{Name: "AZURE_SUBNET_ID", Value: subnetID},
	}
	params := v1alpha1.ApplicationSourcePluginParameters{
		{Name: "overlay", String_: str("overlays/azure")},
		{Name: "azure-region", String_: str("eastus")},
		{Name: "cluster-domain", String_: str(domain)},
		{Name: "cluster-discovery", String_: str("disabled")},
	}
	return env, params
}

// decodeInitdata reverses the gzip+base64 encoding of an INITDATA value or pod annotation.
func decodeInitdata(t *testing.T, enc string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("initdata is not base64: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("initdata is not gzip: %v", err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("initdata: %v", err)
	}
	return doc
}

func repoClient(t *testing.T, a *argo) repoapi.RepoServerServiceClient {
	t.Helper()
	closer, client, err := repoapi.NewRepoServerClientset(a.repoServer, 60, repoapi.TLSConfiguration{DisableTLS: true}).NewRepoServerClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	return client
}

// checkPeerPodsCM asserts the injected values, their provenance and the initdata.
func checkPeerPodsCM(t *testing.T, manifests []string) {
	t.Helper()
	var cm struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	kinds := map[string]bool{}
	for _, m := range manifests {
		var obj struct {
			Kind     string                `json:"kind"`
			Metadata struct{ Name string } `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(m), &obj); err != nil {
			t.Fatal(err)
		}
		kinds[obj.Kind+"/"+obj.Metadata.Name] = true
		if obj.Metadata.Name == "peer-pods-cm" {
			if err := json.Unmarshal([]byte(m), &cm); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, want := range []string{"ConfigMap/peer-pods-cm", "ConfigMap/osc-feature-gates", "KataConfig/default-kata-config"} {
		if !kinds[want] {
			t.Errorf("no %s among %v", want, kinds)
		}
	}
	want := map[string]string{
		"AZURE_REGION": "eastus", "AZURE_RESOURCE_GROUP": "e2e-rg", "AZURE_SUBNET_ID": subnetID, "AZURE_NSG_ID": nsgID,
		"AZURE_INSTANCE_SIZE": "Standard_DC2as_v5", "CLOUD_PROVIDER": "azure", "DISABLECVM": "false",
	}
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("peer-pods-cm %s = %q, want %q", k, cm.Data[k], v)
		}
	}
	if _, ok := cm.Data["AZURE_IMAGE_ID"]; ok {
		t.Error("peer-pods-cm carries AZURE_IMAGE_ID without a live value to keep")
	}
	var sources map[string]string
	if err := json.Unmarshal([]byte(cm.Metadata.Annotations["pattern-gen.io/peer-pods-sources"]), &sources); err != nil {
		t.Fatalf("sources annotation: %v", err)
	}
	wantSources := map[string]string{
		"AZURE_REGION": "parameter azure-region", "AZURE_RESOURCE_GROUP": "env AZURE_RESOURCE_GROUP",
		"AZURE_SUBNET_ID": "env AZURE_SUBNET_ID", "AZURE_NSG_ID": "values global.coco.azure.nsgID",
		"AZURE_INSTANCE_SIZE": "values global.coco.azure.defaultVMFlavour",
	}
	for k, v := range wantSources {
		if sources[k] != v {
			t.Errorf("source of %s = %q, want %q", k, sources[k], v)
		}
	}
	doc := decodeInitdata(t, cm.Data["INITDATA"])
	if err := contains(string(doc), `url = \"https://kbs-trustee-operator-system.`+domain+`\"`, `image_security_policy_uri = \"kbs:///default/security-policy/insecure\"`, "default ExecProcessRequest := false"); err != nil {
		t.Error(err)
	}
	inner := sha256.Sum256(doc)
	pcr8 := sha256.Sum256(append(make([]byte, 32), inner[:]...))
	if got := cm.Metadata.Annotations["pattern-gen.io/initdata-pcr8"]; got != hex.EncodeToString(pcr8[:]) {
		t.Errorf("PCR8 annotation %q does not match the initdata", got)
	}
	if t.Failed() {
		return
	}
	t.Logf("peer-pods-cm data: AZURE_REGION=%s AZURE_RESOURCE_GROUP=%s AZURE_SUBNET_ID=%s AZURE_NSG_ID=%s AZURE_INSTANCE_SIZE=%s AZURE_INSTANCE_SIZES=%s INITDATA=%d bytes (PCR8 %s)",
		cm.Data["AZURE_REGION"], cm.Data["AZURE_RESOURCE_GROUP"], cm.Data["AZURE_SUBNET_ID"], cm.Data["AZURE_NSG_ID"],
		cm.Data["AZURE_INSTANCE_SIZE"], cm.Data["AZURE_INSTANCE_SIZES"], len(cm.Data["INITDATA"]), cm.Metadata.Annotations["pattern-gen.io/initdata-pcr8"])
}

func TestRepoServerGenerateManifest(t *testing.T) {
	b := needBinaries(t)
	a := startArgo(t, b, forkConfig(t))
	client := repoClient(t, a)

	t.Run("injects peer-pod settings", func(t *testing.T) {
		env, params := goodInputs()
		start := time.Now()
		resp, err := client.GenerateManifest(context.Background(), request(a, env, params))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("GenerateManifest (file:// git, repo-server -> cmp-server -> cmp-plugin): %d objects, sourceType %s, revision %s, %v",
			len(resp.Manifests), resp.SourceType, resp.Revision, time.Since(start).Round(time.Millisecond))
		// osc-feature-gates, peer-pods-cm, KataConfig, and the egress hook's ServiceAccount,
		// CredentialsRequest and Job.
		if resp.SourceType != "Plugin" || len(resp.Manifests) != 6 {
			t.Errorf("got %d manifests of source type %q, want 6 from Plugin", len(resp.Manifests), resp.SourceType)
		}
		checkPeerPodsCM(t, resp.Manifests)
	})

	t.Run("missing key fails with the ways to supply it", func(t *testing.T) {
		env, params := goodInputs()
		_, err := client.GenerateManifest(context.Background(), request(a, env[:2], params)) // no subnet
		if err == nil {
			t.Fatal("no error")
		}
		if e := contains(err.Error(), "plugin sidecar failed", "AZURE_SUBNET_ID has no source: set plugin parameter azure-subnet-id or plugin env AZURE_SUBNET_ID"); e != nil {
			t.Error(e)
		}
		t.Logf("Argo CD reports: %s", err)
	})

	t.Run("unknown parameter fails", func(t *testing.T) {
		env, params := goodInputs()
		params = append(params, v1alpha1.ApplicationSourcePluginParameter{Name: "azure-regoin", String_: str("eastus")})
		_, err := client.GenerateManifest(context.Background(), request(a, env, params))
		if err == nil || contains(err.Error(), `plugin parameter "azure-regoin" is unknown`) != nil {
			t.Errorf("got %v", err)
		}
	})

	t.Run("GenerateManifestWithFiles", func(t *testing.T) {
		env, params := goodInputs()
		tgz, _, checksum, err := tgzstream.CompressFiles(a.fork, []string{"*"}, []string{".git"})
		if err != nil {
			t.Fatal(err)
		}
		defer tgzstream.CloseAndDelete(tgz)
		st, _ := tgz.Stat()
		start := time.Now()
		stream, err := client.GenerateManifestWithFiles(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		req := request(a, env, params)
		must(t, stream.Send(&repoapi.ManifestRequestWithFiles{Part: &repoapi.ManifestRequestWithFiles_Request{Request: req}}))
		must(t, stream.Send(&repoapi.ManifestRequestWithFiles{Part: &repoapi.ManifestRequestWithFiles_Metadata{Metadata: &repoapi.ManifestFileMetadata{Checksum: checksum, Size_: st.Size()}}}))
		buf := make([]byte, 1024)
		for {
			n, err := tgz.Read(buf)
			if n > 0 {
				must(t, stream.Send(&repoapi.ManifestRequestWithFiles{Part: &repoapi.ManifestRequestWithFiles_Chunk{Chunk: &repoapi.ManifestFileChunk{Chunk: append([]byte(nil), buf[:n]...)}}}))
			}
			if err == io.EOF {
				break
			}
			must(t, err)
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("GenerateManifestWithFiles (streamed tgz, %d bytes): %d objects, revision %s, %v", st.Size(), len(resp.Manifests), resp.Revision, time.Since(start).Round(time.Millisecond))
		checkPeerPodsCM(t, resp.Manifests)
	})

	// hello-openshift is a plugin application too: each confidential pod template gets
	// initdata with its agent policy, measured with it, in the pinned OSC version's annotation.
	t.Run("hello-openshift initdata", func(t *testing.T) {
		req := request(a, nil, v1alpha1.ApplicationSourcePluginParameters{
			{Name: "cluster-domain", String_: str(domain)},
			{Name: "cluster-discovery", String_: str("disabled")},
		})
		req.AppName, req.Namespace, req.ApplicationSource.Path = "hello-openshift", "hello-openshift", "charts/coco-supported/hello-openshift"
		resp, err := client.GenerateManifest(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Manifests) != 9 {
			t.Fatalf("%d manifests, want 3 Deployments, 3 Services and 3 Routes", len(resp.Manifests))
		}
		const annotation = "io.katacontainers.config.hypervisor.cc_init_data" // OSC 1.12
		policies := map[string]string{}
		for _, m := range resp.Manifests {
			var d struct {
				Kind     string
				Metadata struct{ Name string }
				Spec     struct {
					Template struct {
						Metadata struct{ Annotations map[string]string }
					}
				}
			}
			if err := json.Unmarshal([]byte(m), &d); err != nil {
				t.Fatal(err)
			}
			if d.Kind != "Deployment" {
				continue
			}
			enc, ok := d.Spec.Template.Metadata.Annotations[annotation]
			if !ok {
				policies[d.Metadata.Name] = "none"
				continue
			}
			doc := decodeInitdata(t, enc)
			switch {
			case strings.Contains(string(doc), "default ExecProcessRequest := true"):
				policies[d.Metadata.Name] = "allow-all"
			case strings.Contains(string(doc), "default ExecProcessRequest := false"):
				policies[d.Metadata.Name] = "restrictive"
			}
			if err := contains(string(doc), `url = \"https://kbs-trustee-operator-system.`+domain+`\"`); err != nil {
				t.Error(err)
			}
		}
		want := map[string]string{"standard": "none", "secure": "restrictive", "insecure-policy": "allow-all"}
		for k, v := range want {
			if policies[k] != v {
				t.Errorf("%s: initdata policy %q, want %q", k, policies[k], v)
			}
		}
	})

	// Straight to the CMP server's socket, as the repo server talks to it, with a malformed
	// ARGOCD_APP_PARAMETERS that the repo server itself would never send.
	t.Run("CMP server rejects bad parameter JSON", func(t *testing.T) {
		closer, client, err := apiclient.NewConfigManagementPluginClientSet(a.cmpSocket).NewConfigManagementPluginClient()
		if err != nil {
			t.Fatal(err)
		}
		defer closer.Close()
		cfg, err := client.CheckPluginConfiguration(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.IsDiscoveryConfigured {
			t.Error("plugin.yaml has a discover rule; it must be name-only")
		}
		stream, err := client.GenerateManifest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		env := []string{"ARGOCD_APP_NAME=sandboxed-containers", "ARGOCD_APP_SOURCE_PATH=" + sandboxPath, "ARGOCD_APP_PARAMETERS={not json"}
		if err := cmp.SendRepoStream(context.Background(), filepath.Join(a.fork, sandboxPath), a.fork, stream, env, []string{".git/*"}); err != nil {
			t.Fatal(err)
		}
		_, err = stream.CloseAndRecv()
		if err == nil {
			t.Fatal("no error")
		}
		if e := contains(err.Error(), "ARGOCD_APP_PARAMETERS: not the JSON list Argo CD sends"); e != nil {
			t.Error(e)
		}
		if strings.Contains(err.Error(), "kind:") {
			t.Error("the error carries manifests")
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
