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
	// SecurityPolicy is the KBS resource holding the image signature policy.
	SecurityPolicy string
	Policy         Policy
}

// TOML renders the initdata document. Its bytes are measured into PCR8 on Azure, so the output
// is fixed for the same input: no maps, no timestamps.
func (d Initdata) TOML() []byte {
	var aa, cdh, pol strings.Builder
	fmt.Fprintf(&aa, "[token_configs]\n[token_configs.coco_as]\nurl = %q\n\n[token_configs.kbs]\nurl = %q\n", d.KBSURL, d.KBSURL)
	if d.KBSCert != "" {
		fmt.Fprintf(&aa, "cert = \"\"\"\n%s\"\"\"\n", ensureNewline(d.KBSCert))
	}
	fmt.Fprintf(&cdh, "socket = 'unix:///run/confidential-containers/cdh.sock'\ncredentials = []\n\n[kbc]\nname = \"cc_kbc\"\nurl = %q\n", d.KBSURL)
	if d.KBSCert != "" {
		fmt.Fprintf(&cdh, "kbs_cert = \"\"\"\n%s\"\"\"\n", ensureNewline(d.KBSCert))
	}
	fmt.Fprintf(&cdh, "\n[image]\nimage_security_policy_uri = 'kbs:///default/%s'\n", d.SecurityPolicy)
	pol.WriteString("package agent_policy\n\n")
	for _, r := range agentRequests {
		allow := d.Policy == AllowAll || !deniedWhenRestrictive[r]
		fmt.Fprintf(&pol, "default %s := %v\n", r, allow)
	}
	var b strings.Builder
	b.WriteString("algorithm = \"sha256\"\nversion = \"0.1.0\"\n\n[data]\n")
	for _, e := range []struct{ name, body string }{{"aa.toml", aa.String()}, {"cdh.toml", cdh.String()}, {"policy.rego", pol.String()}} {
		fmt.Fprintf(&b, "%q = '''\n%s'''\n\n", e.name, e.body)
	}
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
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
