package generate_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/rvps"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

// pcr8Of computes, apart from the product's code, the vTPM PCR8 a pod VM reports for an
// encoded initdata: base64, gunzip, sha256, then one extend from zero.
func pcr8Of(t *testing.T, encoded string) (pcr8, digest string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(doc)
	pcr := sha256.Sum256(append(make([]byte, 32), d[:]...))
	return hex.EncodeToString(pcr[:]), hex.EncodeToString(d[:])
}

// The trustee application's RVPS carries the PCR8 of exactly the restrictive initdata the pods
// get, computed by cmp-plugin from the same KBS address and certificate: a pod's annotation,
// hashed independently, is found there; the allow-all one is not (its host may exec into it).
func TestReferenceValuesMatchThePodsInitdata(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	measured := writeMeasurements(t, fork, "1.13.0")
	cert := testcert.SelfSigned("kbs-trustee-operator-system.apps.c1.example.com", 3)
	facts := &peerpods.Cluster{
		CloudConf:  &peerpods.CloudConf{Location: "westeurope", SubscriptionID: "11111111-2222-3333-4444-555555555555", ResourceGroup: "rg", VnetName: "v", VnetResourceGroup: "n", SubnetName: "w", SecurityGroupName: "g"},
		AppsDomain: "apps.c1.example.com", AppsDomainFrom: "ingresses.config.openshift.io/cluster",
		KBSCert: cert, KBSCertFrom: "Secret trustee-operator-system/kbs-https-certificate key tls.crt",
	}
	run := func(app string, facts *peerpods.Cluster) ([]manifest.Object, string) {
		t.Helper()
		var log strings.Builder
		out, err := generate.Run(context.Background(), generate.Request{
			Dir: filepath.Join(fork, app), Env: pluginEnv(t, map[string]string{"ARGOCD_APP_SOURCE_PATH": app}),
			Cluster: func(context.Context, peerpods.Scope) (*peerpods.Cluster, []string) { return facts, nil },
			Logf:    func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) },
		})
		if err != nil {
			t.Fatalf("%s: %v", app, err)
		}
		objs, err := manifest.Split("stdout", out)
		if err != nil {
			t.Fatal(err)
		}
		return objs, log.String()
	}
	referenceValues := func(objs []manifest.Object) []rvps.Entry {
		t.Helper()
		es, err := rvpsEntries(objs)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}

	pods, _ := run(render.HelloChart, facts)
	annotation := func(name string) string {
		for _, o := range pods {
			if o.Kind == "Deployment" && o.Name == name {
				return o.String("spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data")
			}
		}
		t.Fatalf("no Deployment %s", name)
		return ""
	}
	securePCR8, secureDigest := pcr8Of(t, annotation("secure"))
	insecurePCR8, _ := pcr8Of(t, annotation("insecure-policy"))

	objs, log := run(render.TrusteeChart, facts)
	entries := referenceValues(objs)
	names := map[string]rvps.Entry{}
	for _, e := range entries {
		names[e.Name] = e
		if pcr := e.Name[strings.Index(e.Name, "_")+1:]; measured.SHA256[pcr] != "" {
			if e.Expiration != measured.Expires || !slices.Equal(e.Values, []string{measured.SHA256[pcr]}) {
				t.Errorf("%s = %v expiring %s, want the measurements file's %s expiring %s", e.Name, e.Values, e.Expiration, measured.SHA256[pcr], measured.Expires)
			}
		} else if e.Expiration != "2036-01-01T00:00:00Z" {
			t.Errorf("%s expires %q, want the KBS certificate's NotAfter", e.Name, e.Expiration)
		}
		if slices.Contains(e.Values, insecurePCR8) {
			t.Errorf("%s lists the allow-all initdata's PCR8", e.Name)
		}
	}
	for _, name := range []string{"snp_pcr08", "tdx_pcr08", "init_data"} {
		if !slices.Contains(names[name].Values, securePCR8) {
			t.Errorf("RVPS %s %v lacks the secure pod's PCR8 %s", name, names[name].Values, securePCR8)
		}
	}
	if !slices.Contains(names["init_data"].Values, secureDigest+strings.Repeat("0", 32)) {
		t.Errorf("RVPS init_data %v lacks the raw digest padded to 48 bytes", names["init_data"].Values)
	}
	for _, want := range []string{"rvps-reference-values: initdata PCR8 " + securePCR8, "rvps-reference-values: pod VM measurements of OSC 1.13.0 (" + measured.Digest} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	checkPolicyNames(t, objs, names)

	// An expired certificate still renders (the sync that brings the renewed one must pass),
	// with a warning that says what breaks.
	expired := *facts
	expired.KBSCert = testcert.SelfSignedUntil("kbs-trustee-operator-system.apps.c1.example.com", 3, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	if _, log := run(render.TrusteeChart, &expired); !strings.Contains(log, "warning: the KBS certificate from cluster Secret trustee-operator-system/kbs-https-certificate key tls.crt expired on 2025-06-01; pod VMs refuse the KBS") {
		t.Errorf("no warning for an expired certificate:\n%s", log)
	}

	// Before the secrets are loaded there is no certificate: the trustee application still
	// renders (it makes the ExternalSecret that brings the certificate), with no reference value.
	noCert := *facts
	noCert.KBSCert = ""
	objs, log = run(render.TrusteeChart, &noCert)
	if es := referenceValues(objs); len(es) != 2*len(measurements.PCRs) {
		t.Errorf("without a certificate RVPS holds %v, want only the image's measurements", es)
	}
	if !strings.Contains(log, "warning: rvps-reference-values carries no initdata reference value") {
		t.Errorf("no warning:\n%s", log)
	}
}

// writeMeasurements writes a measurements file for osc into fork, as measurements pull would.
func writeMeasurements(t *testing.T, fork, osc string) *measurements.Set {
	t.Helper()
	set := &measurements.Set{OSC: osc, Image: measurements.Repository + ":" + osc, Digest: "sha256:" + strings.Repeat("d", 64), Expires: "2030-06-01T00:00:00Z", SHA256: map[string]string{}}
	for i, p := range measurements.PCRs {
		set.SHA256[p] = strings.Repeat(fmt.Sprintf("%x", 10+i), 64)
	}
	data, err := set.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fork, measurements.File), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return set
}

// checkPolicyNames reads the reference-value names the rendered attestation policy queries
// (query_reference_value of sprintf("<tee>_%s", [pcr]) over vtpm_pcrs) and holds them against the
// RVPS entries: every name queried has an entry, and every entry is queried. A new name the policy
// queries without an entry, or an entry nothing queries, fails here.
func checkPolicyNames(t *testing.T, objs []manifest.Object, entries map[string]rvps.Entry) {
	t.Helper()
	var rego string
	for _, o := range objs {
		if o.Kind == "ConfigMap" && o.Name == "attestation-policy" {
			rego = o.String("data", "default_cpu.rego")
		}
	}
	pcrs := regexp.MustCompile(`(?m)^vtpm_pcrs := \[([^\]]*)\]`).FindStringSubmatch(rego)
	tees := regexp.MustCompile(`query_reference_value|accepted\(sprintf\("([a-z]+)_%s", \[pcr\]\)`).FindAllStringSubmatch(rego, -1)
	if pcrs == nil || len(tees) < 2 {
		t.Fatalf("cannot read the policy's reference-value names from attestation-policy:\n%s", rego)
	}
	queried := map[string]bool{}
	for _, tee := range tees {
		if tee[1] == "" {
			continue
		}
		for _, pcr := range strings.Split(pcrs[1], ",") {
			queried[tee[1]+"_"+strings.Trim(strings.TrimSpace(pcr), `"`)] = true
		}
	}
	var missing []string
	for name := range queried {
		if _, ok := entries[name]; !ok {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("queried names without a reference value: %v", missing)
	}
	for name := range entries {
		if !queried[name] && name != "init_data" { // init_data: what bare-metal TEEs report
			t.Errorf("RVPS entry %s is queried by no rule of the attestation policy", name)
		}
	}
}

// rvpsEntries reads the reference values of the rendered rvps-reference-values, in the format of
// the pinned Trustee.
func rvpsEntries(objs []manifest.Object) ([]rvps.Entry, error) {
	for _, o := range objs {
		if o.Kind == "ConfigMap" && o.Name == generate.RVPSConfigMap {
			obj, err := o.Decode()
			if err != nil {
				return nil, err
			}
			return rvps.Decode(obj, rvps.KeyStore) // the default fork pins Trustee 1.2
		}
	}
	return nil, errors.New("no rvps-reference-values")
}

// In a split fork the trusted hub's RVPS carries the PCR8 of the initdata the spokes' pods get:
// the plugin on the hub builds the same document from the hub's KBS address and certificate,
// which the spokes receive through the kbs-publish policy. Nobody copies a hash.
func TestHubReferenceValuesMatchTheSpokesInitdata(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "split", "pattern-gen.yaml"), Dir: fork}); err != nil {
		t.Fatal(err)
	}
	hubCert := testcert.SelfSigned("kbs-trustee-operator-system.apps.hub.example.com", 4)
	var scopes []peerpods.Scope
	// One cluster reader for both clusters: what each reads depends on the scope it asks for.
	read := func(_ context.Context, scope peerpods.Scope) (*peerpods.Cluster, []string) {
		scopes = append(scopes, scope)
		c := &peerpods.Cluster{CloudConf: &peerpods.CloudConf{Location: "westeurope", SubscriptionID: "11111111-2222-3333-4444-555555555555", ResourceGroup: "rg", VnetName: "v", VnetResourceGroup: "n", SubnetName: "w", SecurityGroupName: "g"}}
		if scope.TrustedHub { // the spoke: what the hub published
			c.AppsDomain, c.KBSCert, c.KBSCertFrom = "apps.hub.example.com", hubCert, "Secret openshift-sandboxed-containers-operator/trusted-hub-kbs key tls.crt (from the trusted hub)"
		} else { // the hub itself
			c.AppsDomain, c.KBSCert, c.KBSCertFrom = "apps.hub.example.com", hubCert, "Secret trustee-operator-system/kbs-https-certificate key tls.crt"
		}
		return c, nil
	}
	render1 := func(app, params string) []manifest.Object {
		t.Helper()
		out, err := generate.Run(context.Background(), generate.Request{
			Dir: filepath.Join(fork, app), Env: pluginEnv(t, map[string]string{"ARGOCD_APP_SOURCE_PATH": app, "ARGOCD_APP_PARAMETERS": params}),
			Cluster: read, Logf: func(string, ...any) {},
		})
		if err != nil {
			t.Fatalf("%s: %v", app, err)
		}
		objs, err := manifest.Split("stdout", out)
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	var spokePCR8 string
	for _, o := range render1(render.HelloChart, `[{"name":"cluster-group","string":"spoke"}]`) {
		if o.Kind == "Deployment" && o.Name == "secure" {
			spokePCR8, _ = pcr8Of(t, o.String("spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data"))
		}
	}
	values, err := rvpsEntries(render1(render.TrusteeChart, ""))
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(values, func(e rvps.Entry) bool { return e.Name == "snp_pcr08" }); spokePCR8 == "" || i < 0 || !slices.Contains(values[i].Values, spokePCR8) {
		t.Errorf("the hub's RVPS lacks the spoke pod's PCR8 %q:\n%+v", spokePCR8, values)
	}
	// The spoke reads what the hub publishes and its peer-pods-cm; the hub runs no peer pods.
	if want := []peerpods.Scope{{TrustedHub: true, PeerPods: true, Platform: "Azure"}, {Platform: "Azure"}}; !slices.Equal(scopes, want) {
		t.Errorf("scopes read %+v, want %+v", scopes, want)
	}
}

// Offline (pattern-gen render, what a pull request shows) the measurements reach RVPS too, in the
// format of the pinned Trustee: 0.4 names them pcrNN with a sha256 hash-value list.
func TestMeasurementsInTrustee04Format(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "osc-1.10-minimal", "pattern-gen.yaml"), Dir: fork}); err != nil {
		t.Fatal(err)
	}
	measured := writeMeasurements(t, fork, "1.10.3")
	res, err := project.Render(context.Background(), project.Source{Fork: fork})
	if err != nil {
		t.Fatal(err)
	}
	var es []struct {
		Name, Expiration string
		HashValue        []struct{ Alg, Value string } `json:"hash-value"`
	}
	for _, app := range res.Applications {
		for _, o := range app.Objects {
			if o.Kind == "ConfigMap" && o.Name == generate.RVPSConfigMap {
				if err := json.Unmarshal([]byte(o.String("data", "reference-values.json")), &es); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	got := map[string]string{}
	for _, e := range es {
		if e.Name == "pcr08" { // the initdata's, from the certificate the config pins
			continue
		}
		if len(e.HashValue) != 1 || e.HashValue[0].Alg != "sha256" || e.Expiration != measured.Expires {
			t.Errorf("entry %+v", e)
			continue
		}
		got[e.Name] = e.HashValue[0].Value
	}
	for _, p := range measurements.PCRs {
		if got[p] != measured.SHA256[p] {
			t.Errorf("%s = %q, want %q (entries %+v)", p, got[p], measured.SHA256[p], es)
		}
	}
	// The same file for another OSC version is stale: render says which field and what to run.
	writeMeasurements(t, fork, "1.10.2")
	_, err = project.Render(context.Background(), project.Source{Fork: fork})
	if want := `values-measurements.yaml:9: global.coco.trustee.measurements.osc: measured for OSC "1.10.2", but the fork pins "1.10.3" (global.coco.versions.sandboxedContainers); run pattern-gen measurements pull`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("stale file: %v\nwant %s", err, want)
	}
}

// RVPS takes the pod VM measurements from values-measurements.yaml only: a later values file or
// the chart's defaults that set them would bypass the file's checks and its review.
func TestMeasurementsOnlyFromTheirFile(t *testing.T) {
	for name, edit := range map[string]func(fork string){
		"later-values-file": func(fork string) {
			hub := filepath.Join(fork, "values-hub.yaml")
			data, err := os.ReadFile(hub)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), "        - /values-measurements.yaml\n", "        - /values-measurements.yaml\n        - /values-later.yaml\n", 1))
			later := "global:\n  coco:\n    trustee:\n      measurements:\n        expires: \"2020-01-01T00:00:00Z\"\n"
			if err := errors.Join(os.WriteFile(hub, data, 0o644), os.WriteFile(filepath.Join(fork, "values-later.yaml"), []byte(later), 0o644)); err != nil {
				t.Fatal(err)
			}
		},
		"chart-defaults": func(fork string) {
			// No file listed; the chart's own values.yaml carries measurements instead.
			if err := os.Remove(filepath.Join(fork, measurements.File)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(fork, render.TrusteeChart, "values.yaml")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var vals map[string]any
			if err := yaml.Unmarshal(data, &vals); err != nil {
				t.Fatal(err)
			}
			pcr := strings.Repeat("e", 64)
			vals["global"].(map[string]any)["coco"].(map[string]any)["trustee"].(map[string]any)["measurements"] = map[string]any{
				"osc": "1.13.0", "image": "x", "digest": "sha256:" + pcr, "expires": "2030-01-01T00:00:00Z",
				"sha256": map[string]any{"pcr03": pcr, "pcr09": pcr, "pcr11": pcr, "pcr12": pcr}}
			if data, err = yaml.Marshal(vals); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			fork := filepath.Join(t.TempDir(), "fork")
			if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
				t.Fatal(err)
			}
			writeMeasurements(t, fork, "1.13.0")
			edit(fork)
			_, err := project.Render(context.Background(), project.Source{Fork: fork})
			if err == nil || !strings.Contains(err.Error(), "application trustee: rvps-reference-values entry snp_pcr03 is not the pod VM measurement of values-measurements.yaml") {
				t.Errorf("render: %v", err)
			}
		})
	}
}
