package peerpods

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/BurntSushi/toml"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/pattern-gen/pattern-gen/internal/peerpods/pemcert"
)

// Policy is the kata agent policy carried in the initdata.
type Policy int

const (
	// Restrictive denies exec into the container and reading or writing its streams from the
	// host, and refuses policy changes: the default for confidential workloads.
	Restrictive Policy = iota
	// AllowAll allows every agent request (oc exec, logs): for debugging only.
	AllowAll
)

// agentRequests are the kata agent API requests a policy decides on.
var agentRequests = []string{
	"AddARPNeighborsRequest", "AddSwapRequest", "CloseStdinRequest", "CopyFileRequest",
	"CreateContainerRequest", "CreateSandboxRequest", "DestroySandboxRequest", "ExecProcessRequest",
	"GetMetricsRequest", "GetOOMEventRequest", "GuestDetailsRequest", "ListInterfacesRequest",
	"ListRoutesRequest", "MemHotplugByProbeRequest", "OnlineCPUMemRequest", "PauseContainerRequest",
	"PullImageRequest", "ReadStreamRequest", "RemoveContainerRequest", "RemoveStaleVirtiofsShareMountsRequest",
	"ReseedRandomDevRequest", "ResumeContainerRequest", "SetGuestDateTimeRequest", "SetPolicyRequest",
	"SignalProcessRequest", "StartContainerRequest", "StartTracingRequest", "StatsContainerRequest",
	"StopTracingRequest", "TtyWinResizeRequest", "UpdateContainerRequest", "UpdateEphemeralMountsRequest",
	"UpdateInterfaceRequest", "UpdateRoutesRequest", "WaitProcessRequest", "WriteStreamRequest",
}

// deniedWhenRestrictive are the requests that would let the host look inside the TEE.
var deniedWhenRestrictive = map[string]bool{
	"ExecProcessRequest": true, "ReadStreamRequest": true, "WriteStreamRequest": true, "SetPolicyRequest": true,
}

// Initdata is the document a peer pod VM receives at boot (CAA pkg/initdata): attestation agent
// and confidential data hub configuration pointing at the KBS, and the agent policy.
type Initdata struct {
	KBSURL string // https://<KBS route host>
	// KBSCert is the PEM certificate of a KBS whose certificate no public CA signed; empty
	// for a publicly trusted one.
	KBSCert string
	// SecurityPolicy is the KBS resource holding the image signature policy: <secret>/<key>.
	SecurityPolicy string
	Policy         Policy
}

// Initdata format fixed by CAA pkg/initdata and the guest components that read it.
const (
	initdataAlgorithm = "sha256" // the Azure PCR8 reference value assumes sha256
	initdataVersion   = "0.1.0"
	cdhSocket         = "unix:///run/confidential-containers/cdh.sock"
	kbcName           = "cc_kbc"
)

// initdataFile is the outer document: each guest component's configuration is a string in
// [data], under the file name the component reads.
type initdataFile struct {
	Algorithm string       `toml:"algorithm"`
	Version   string       `toml:"version"`
	Data      initdataData `toml:"data"`
}

type initdataData struct {
	AA     string `toml:"aa.toml"`
	CDH    string `toml:"cdh.toml"`
	Policy string `toml:"policy.rego"`
}

// aaConfig is the attestation agent's aa.toml.
type aaConfig struct {
	TokenConfigs struct {
		CocoAS aaToken `toml:"coco_as"`
		KBS    aaToken `toml:"kbs"`
	} `toml:"token_configs"`
}

type aaToken struct {
	URL  string `toml:"url"`
	Cert string `toml:"cert,omitempty"`
}

// cdhConfig is the confidential data hub's cdh.toml.
type cdhConfig struct {
	Socket      string          `toml:"socket"`
	Credentials []cdhCredential `toml:"credentials"`
	KBC         struct {
		Name    string `toml:"name"`
		URL     string `toml:"url"`
		KBSCert string `toml:"kbs_cert,omitempty"`
	} `toml:"kbc"`
	Image struct {
		SecurityPolicyURI string `toml:"image_security_policy_uri"`
	} `toml:"image"`
}

// cdhCredential is a file the CDH fetches from the KBS at boot; the pattern asks for none.
type cdhCredential struct {
	ResourceURI string `toml:"resource_uri"`
	Path        string `toml:"path"`
}

// TOML renders the initdata document. Every part is encoded by the TOML library from typed
// values, never spliced, so no input can end a string and add keys or replace the policy. Its
// bytes are measured into PCR8 on Azure, so the output is fixed for the same input: structs
// only, no maps, no timestamps. Errors never quote the input.
func (d Initdata) TOML() ([]byte, error) {
	if err := checkKBSURL(d.KBSURL); err != nil {
		return nil, err
	}
	if err := checkResourcePath(d.SecurityPolicy); err != nil {
		return nil, err
	}
	cert := ""
	if d.KBSCert != "" {
		var err error
		if cert, err = pemcert.Parse(d.KBSCert); err != nil {
			return nil, fmt.Errorf("KBS certificate: %w", err)
		}
	}
	pol, err := d.Policy.rego()
	if err != nil {
		return nil, err
	}
	var aa aaConfig
	aa.TokenConfigs.CocoAS.URL = d.KBSURL
	aa.TokenConfigs.KBS = aaToken{URL: d.KBSURL, Cert: cert}
	cdh := cdhConfig{Socket: cdhSocket, Credentials: []cdhCredential{}}
	cdh.KBC.Name, cdh.KBC.URL, cdh.KBC.KBSCert = kbcName, d.KBSURL, cert
	cdh.Image.SecurityPolicyURI = "kbs:///default/" + d.SecurityPolicy
	f := initdataFile{Algorithm: initdataAlgorithm, Version: initdataVersion}
	if f.Data.AA, err = encodeTOML(aa); err != nil {
		return nil, err
	}
	if f.Data.CDH, err = encodeTOML(cdh); err != nil {
		return nil, err
	}
	f.Data.Policy = pol
	doc, err := encodeTOML(f)
	return []byte(doc), err
}

// encodeTOML encodes v without indentation, the layout guest components' examples use.
func encodeTOML(v any) (string, error) {
	var b strings.Builder
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encode initdata: %w", err)
	}
	return b.String(), nil
}

// rego is the agent policy: one fixed rule per request of agentRequests, nothing from input.
func (p Policy) rego() (string, error) {
	if p != Restrictive && p != AllowAll {
		return "", fmt.Errorf("agent policy %d is unknown; use Restrictive or AllowAll", int(p))
	}
	var b strings.Builder
	b.WriteString("package agent_policy\n\n")
	for _, r := range agentRequests {
		fmt.Fprintf(&b, "default %s := %t\n", r, p == AllowAll || !deniedWhenRestrictive[r])
	}
	return b.String(), nil
}

// checkKBSURL accepts https://<DNS name> and nothing else: no user, port, path or query, so
// the URL in the initdata is exactly the KBS route.
func checkKBSURL(s string) error {
	host, ok := strings.CutPrefix(s, "https://")
	if !ok || len(validation.IsDNS1123Subdomain(host)) > 0 {
		return fmt.Errorf("KBS URL: not https://<DNS name> (%d characters); set the apps domain to a DNS name such as apps.mycluster.example.com", len(s))
	}
	return nil
}

// checkResourcePath accepts a KBS resource <secret>/<key> of the default repository, as the
// trustee chart serves them: a Secret name and a data key.
func checkResourcePath(s string) error {
	secret, key, ok := strings.Cut(s, "/")
	if !ok || len(validation.IsDNS1123Subdomain(secret)) > 0 || len(validation.IsConfigMapKey(key)) > 0 {
		return fmt.Errorf("security policy resource: not <secret>/<key> (%d characters); use a flavour such as insecure, signed or reject", len(s))
	}
	return nil
}

// Encode encodes initdata as the pinned OSC version expects: gzip then base64 from OSC 1.10
// on (the only lines pattern-gen supports). The gzip header carries no name and no time, so
// the encoding is deterministic.
func Encode(toml []byte) (string, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(toml); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// Decode reverses Encode.
func Decode(enc string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("initdata is not base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("initdata is not gzip: %w", err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("initdata is not gzip: %w", err)
	}
	return doc, nil
}

// PCR8 is the reference value attestation expects for this initdata on Azure: the vTPM PCR8
// extended once from zero with sha256 of the uncompressed document.
func PCR8(toml []byte) string {
	digest := sha256.Sum256(toml)
	h := sha256.New()
	h.Write(make([]byte, sha256.Size))
	h.Write(digest[:])
	return hex.EncodeToString(h.Sum(nil))
}

// PodAnnotation is the per-pod initdata annotation of an OSC version: runtime.cc_init_data up
// to 1.10, hypervisor.cc_init_data from 1.11 on.
func PodAnnotation(oscVersion string) string {
	var major, minor int
	fmt.Sscanf(oscVersion, "%d.%d", &major, &minor)
	if major > 1 || (major == 1 && minor >= 11) {
		return "io.katacontainers.config.hypervisor.cc_init_data"
	}
	return "io.katacontainers.config.runtime.cc_init_data"
}
