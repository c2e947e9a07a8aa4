package generate_test

import (
	"slices"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// kbsConfig12 is the part of Trustee 1.2's KBS configuration the trustee chart writes, field for
// field as confidential-containers/trustee v0.21.0 (the KBS line of trustee-operator v1.2.x)
// declares it: kbs/src/config.rs KbsConfig, HttpServerConfig and TlsConfig, kbs/src/admin
// AdminConfig (tag authorization_mode, deny_unknown_fields), kbs/src/token
// AttestationTokenVerifierConfig, kbs/src/attestation/config.rs (tag type) with
// coco/builtin.rs Config, attestation-service/src/ear_token EarTokenConfiguration and
// TokenSignerConfig, attestation-service/src/rvps RvpsConfig (tag type),
// deps/key-value-storage StorageBackendConfig with local_fs (dir_path) and local_json
// (file_dir_path), kbs/src/plugins PluginsConfig (tag name) with RepositoryConfig (tag
// storage_backend_type). Upstream ignores most unknown keys, so a misspelt one would silently
// fall back to a default; here every key must be one of these.
type kbsConfig12 struct {
	HTTPServer struct {
		Sockets      []string `toml:"sockets"`
		InsecureHTTP bool     `toml:"insecure_http"`
		WorkerCount  int      `toml:"worker_count"`
		PrivateKey   string   `toml:"private_key"`
		Certificate  string   `toml:"certificate"`
	} `toml:"http_server"`
	Admin struct {
		AuthorizationMode string `toml:"authorization_mode"`
	} `toml:"admin"`
	AttestationToken struct {
		TrustedCertsPaths []string `toml:"trusted_certs_paths"`
		InsecureHeaderJWK bool     `toml:"insecure_header_jwk"`
	} `toml:"attestation_token"`
	AttestationService struct {
		Type       string `toml:"type"`
		RVPSConfig struct {
			Type        string `toml:"type"`
			StorageType string `toml:"storage_type"`
		} `toml:"rvps_config"`
		// deps/verifier VerifierConfig: intel_dcap QcnlConfig and snp SnpVerifierConfig, whose
		// vcek_sources are tagged by type (KDS or OfflineStore).
		VerifierConfig struct {
			DCAP struct {
				CollateralService string `toml:"collateral_service"`
			} `toml:"dcap_verifier"`
			SNP struct {
				VCEKSources []struct {
					Type string `toml:"type"`
				} `toml:"vcek_sources"`
			} `toml:"snp_verifier"`
		} `toml:"verifier_config"`
		TokenBroker struct {
			DurationMin int `toml:"duration_min"`
			Signer      struct {
				KeyPath  string `toml:"key_path"`
				CertPath string `toml:"cert_path"`
			} `toml:"signer"`
		} `toml:"attestation_token_broker"`
	} `toml:"attestation_service"`
	StorageBackend struct {
		StorageType string `toml:"storage_type"`
		Backends    struct {
			LocalFS struct {
				DirPath string `toml:"dir_path"`
			} `toml:"local_fs"`
			LocalJSON struct {
				FileDirPath string `toml:"file_dir_path"`
			} `toml:"local_json"`
		} `toml:"backends"`
	} `toml:"storage_backend"`
	Plugins []struct {
		Name               string `toml:"name"`
		StorageBackendType string `toml:"storage_backend_type"`
	} `toml:"plugins"`
}

// The trustee chart's Trustee 1.2 output is what the 1.2 operator and KBS read: a
// kbs-config.toml of exactly the v0.21 fields, with the paths the operator mounts (v1.2.1
// internal/controller/common.go), and every ConfigMap the KbsConfig references under the key
// the operator mounts and with the annotation that keeps its migration from deleting it.
func TestTrustee12Configuration(t *testing.T) {
	tree, plan := defaultPlan(t, render.TrusteeChart)
	for _, https := range []string{"true", "false"} {
		p := plan
		p.Params = append(slices.Clone(p.Params), render.Param{Name: "global.coco.trustee.https", Value: https})
		if https == "false" { // and bare metal of both kinds, for the verifier settings
			p.Params = append(p.Params, render.Param{Name: "global.coco.hardware.profile", Value: "mixed", Literal: true})
		}
		objs, err := render.RenderApp(tree, p)
		if err != nil {
			t.Fatal(err)
		}
		cms := map[string]manifest.Object{}
		var kbs manifest.Object
		for _, o := range objs {
			switch o.Kind {
			case "ConfigMap":
				cms[o.Name] = o
			case "KbsConfig":
				kbs = o
			}
		}
		var c kbsConfig12
		md, err := toml.Decode(cms["kbs-config"].String("data", "kbs-config.toml"), &c)
		if err != nil {
			t.Fatalf("https %s: kbs-config.toml: %v", https, err)
		}
		if u := md.Undecoded(); len(u) > 0 {
			t.Errorf("https %s: keys Trustee 1.2 does not read: %v", https, u)
		}
		if https == "true" && (c.HTTPServer.InsecureHTTP || c.HTTPServer.PrivateKey != "/etc/https-key/tls.key" || c.HTTPServer.Certificate != "/etc/https-cert/tls.crt") ||
			https == "false" && (!c.HTTPServer.InsecureHTTP || c.HTTPServer.PrivateKey != "") {
			t.Errorf("https %s: http_server %+v", https, c.HTTPServer)
		}
		// DenyAll, InsecureAllowAll or AuthenticatedAuthorization; only the first keeps the
		// configuration in git.
		if c.Admin.AuthorizationMode != "DenyAll" {
			t.Errorf("admin.authorization_mode %q", c.Admin.AuthorizationMode)
		}
		signer := c.AttestationService.TokenBroker.Signer
		if c.AttestationToken.InsecureHeaderJWK || !slices.Equal(c.AttestationToken.TrustedCertsPaths, []string{signer.CertPath}) ||
			signer.KeyPath != "/etc/attestation-key/token.key" || signer.CertPath != "/etc/attestation-cert/token.crt" {
			t.Errorf("attestation token %+v, signer %+v", c.AttestationToken, signer)
		}
		if as := c.AttestationService; as.Type != "coco_as_builtin" || as.RVPSConfig.Type != "BuiltIn" || as.RVPSConfig.StorageType != "LocalJson" {
			t.Errorf("attestation_service %+v", as)
		}
		// The operator mounts the stores below /opt/confidential-containers/storage: resources
		// under repository/, the reference values at local_json/reference_value.
		if sb := c.StorageBackend; sb.StorageType != "LocalFs" || sb.Backends.LocalFS.DirPath != "/opt/confidential-containers/storage" || sb.Backends.LocalJSON.FileDirPath != "/opt/confidential-containers/storage/local_json" {
			t.Errorf("storage_backend %+v", sb)
		}
		vc := c.AttestationService.VerifierConfig
		if https == "false" && (vc.DCAP.CollateralService != "https://api.trustedservices.intel.com/sgx/certification/v4/" || len(vc.SNP.VCEKSources) != 1 || vc.SNP.VCEKSources[0].Type != "KDS") ||
			https == "true" && (vc.DCAP.CollateralService != "" || vc.SNP.VCEKSources != nil) {
			t.Errorf("https %s: verifier_config %+v", https, vc)
		}
		if len(c.Plugins) != 1 || c.Plugins[0].Name != "resource" || c.Plugins[0].StorageBackendType != "kvstorage" {
			t.Errorf("plugins %+v", c.Plugins)
		}
		keys := map[string]string{"kbsConfigMapName": "kbs-config.toml", "kbsResourcePolicyConfigMapName": "resource-policy.rego",
			"kbsAttestationPolicyConfigMapName": "default_cpu.rego", "kbsRvpsRefValuesConfigMapName": "reference_value"}
		for field, key := range keys {
			name := kbs.String("spec", field)
			cm, ok := cms[name]
			if !ok {
				t.Errorf("KbsConfig %s names %q, which the chart does not render", field, name)
				continue
			}
			obj, err := cm.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if data, _ := obj["data"].(map[string]any); data[key] == nil || len(data) != 1 {
				t.Errorf("ConfigMap %s: data %v, want only key %s", name, data, key)
			}
			if cm.String("metadata", "annotations", "kbs.confidentialcontainers.org/migrated-from-v1.1.0") == "" {
				t.Errorf("ConfigMap %s lacks the migration annotation: the 1.2 operator deletes it on every reconcile", name)
			}
		}
	}
}
