package policy

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

// Evidence values as the Trustee v0.21 verifiers report them: hex strings, SNP TCB versions as
// numbers. The attestation service moves the verifier's init_data claim (MRCONFIGID, HOST_DATA)
// beside the TEE's claims, with init_data_claims, the initdata the guest presented (null when it
// sent none): attestation-service/src/ear_token/broker.rs transform_claims.
var (
	mrTD     = strings.Repeat("0a", 48)
	rtmr1    = strings.Repeat("1b", 48)
	rtmr2    = strings.Repeat("2c", 48)
	xfam     = "e71a060000000000"
	initData = strings.Repeat("3d", 32)
	snpMeas  = strings.Repeat("4e", 48)

	initdataDoc = map[string]any{"version": "0.1.0", "algorithm": "sha256", "data": map[string]any{}}
)

// policyRefs is the RVPS content for the matching cases. Several entries hold more than one
// accepted value, as after a firmware or image update.
var policyRefs = map[string][]string{
	"mr_td":                  {mrTD},
	"rtmr_1":                 {strings.Repeat("ff", 48), rtmr1},
	"rtmr_2":                 {rtmr2},
	"xfam":                   {xfam},
	"init_data":              {initData, strings.Repeat("ee", 32)},
	"snp_launch_measurement": {snpMeas},
	"snp_bootloader":         {"3"},
	"snp_microcode":          {"209", "210"},
	"snp_snp_svn":            {"22"},
	"snp_tee_svn":            {"0"},
	"snp_pcr03":              {"pcr03-digest"},
	"snp_pcr08":              {"pcr08-digest"},
	"snp_pcr09":              {"pcr09-digest"},
	"snp_pcr11":              {"pcr11-digest"},
	"snp_pcr12":              {"pcr12-digest"},
}

func TestAttestationPolicyBareMetal(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../charts/hub/trustee/files/v1.1/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	peerPods := read("default_cpu.rego")
	// Same concatenation as templates/attestation-policy.yaml.
	bareMetal := peerPods + "\n" + read("baremetal_cpu.rego")

	// The guest sent only a digest, or nothing: MRCONFIGID/HOST_DATA is then whatever the host set.
	digestOnly := func(evidence map[string]any) map[string]any {
		evidence["init_data_claims"] = nil
		return evidence
	}

	for _, c := range []struct {
		name   string
		policy string
		refs   map[string][]string
		input  map[string]any
		want   map[string]int
	}{
		{"tdx matching", bareMetal, policyRefs, tdxEvidence(false), wantClaims(3, 2, 2)},
		{"tdx unknown initdata", bareMetal, refsWith("init_data", strings.Repeat("99", 32)), tdxEvidence(false), wantClaims(33, 2, 2)},
		{"tdx initdata not presented", bareMetal, policyRefs, digestOnly(tdxEvidence(false)), wantClaims(33, 2, 2)},
		{"tdx without reference values", bareMetal, nil, tdxEvidence(false), wantClaims(33, 97, 36)},
		{"tdx debug", bareMetal, policyRefs, tdxEvidence(true), wantClaims(3, 2, 36)},
		{"snp matching", bareMetal, policyRefs, snpEvidence(210, false), wantClaims(3, 2, 2)},
		{"snp initdata not presented", bareMetal, policyRefs, digestOnly(snpEvidence(210, false)), wantClaims(33, 2, 2)},
		{"snp unknown microcode", bareMetal, policyRefs, snpEvidence(208, false), wantClaims(3, 97, 2)},
		{"snp debug allowed", bareMetal, policyRefs, snpEvidence(210, true), wantClaims(3, 2, 36)},
		{"azure snp vtpm on bare-metal policy", bareMetal, policyRefs, azureSNPEvidence(), wantClaims(3, 2, 2)},
		{"azure snp vtpm on peer-pod policy", peerPods, policyRefs, azureSNPEvidence(), wantClaims(3, 2, 2)},
		// Unknown evidence must fall through to the failing defaults, not to an error.
		{"no known evidence", bareMetal, policyRefs, map[string]any{"sample": map[string]any{}}, wantClaims(33, 97, 36)},
	} {
		// Trustee 0.21 answers a missing reference value with null (ear_token/broker.rs); an
		// undefined answer must fail closed just the same.
		for absentName, absent := range map[string]*ast.Term{"null": ast.NullTerm(), "undefined": nil} {
			t.Run(c.name+"/absent "+absentName, func(t *testing.T) {
				if got := evalTrustClaims(t, c.policy, c.refs, absent, c.input); !reflect.DeepEqual(got, c.want) {
					t.Errorf("trust_claims = %v, want %v", got, c.want)
				}
			})
		}
	}
}

// evalTrustClaims evaluates data.policy.trust_claims the way the attestation service does, with
// query_reference_value answering from refs, and absent for a name refs lacks.
func evalTrustClaims(t *testing.T, policy string, refs map[string][]string, absent *ast.Term, input map[string]any) map[string]int {
	t.Helper()
	queryRef := rego.Function1(
		&rego.Function{Name: "query_reference_value", Decl: types.NewFunction(types.Args(types.S), types.A)},
		func(_ rego.BuiltinContext, name *ast.Term) (*ast.Term, error) {
			s, ok := name.Value.(ast.String)
			vals, found := refs[string(s)]
			if !ok || !found {
				return absent, nil
			}
			terms := make([]*ast.Term, len(vals))
			for i, v := range vals {
				terms[i] = ast.StringTerm(v)
			}
			return ast.ArrayTerm(terms...), nil
		})
	ctx := context.Background()
	// Compilation fails on conflicting rule definitions between the two files; builtin errors
	// are surfaced instead of silently making a rule undefined.
	pq, err := rego.New(
		rego.Query("data.policy.trust_claims"),
		rego.Module("default_cpu.rego", policy),
		queryRef,
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		t.Fatalf("policy does not compile: %v", err)
	}
	rs, err := pq.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	if len(rs) != 1 {
		t.Fatalf("trust_claims undefined: %v", rs)
	}
	b, err := json.Marshal(rs[0].Expressions[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("trust_claims %s: %v", b, err)
	}
	return got
}

func wantClaims(executables, hardware, configuration int) map[string]int {
	return map[string]int{
		"executables": executables, "hardware": hardware, "configuration": configuration,
		"file-system": 0, "instance-identity": 0, "runtime-opaque": 0, "storage-opaque": 0, "sourced-data": 0,
	}
}

// refsWith returns policyRefs with name's accepted values replaced.
func refsWith(name string, vals ...string) map[string][]string {
	refs := maps.Clone(policyRefs)
	refs[name] = vals
	return refs
}

func tdxEvidence(debug bool) map[string]any {
	return map[string]any{"tdx": map[string]any{
		"quote": map[string]any{
			"header": map[string]any{"tee_type": "81000000", "vendor_id": "939a7233f79c4ca9940a0db3957f0607"},
			"body":   map[string]any{"mr_td": mrTD, "rtmr_1": rtmr1, "rtmr_2": rtmr2, "xfam": xfam},
		},
		"td_attributes":                map[string]any{"debug": debug},
		"tcb_status":                   "UpToDate",
		"collateral_expiration_status": "0",
	}, "init_data": initData, "init_data_claims": initdataDoc}
}

func snpEvidence(microcode int, debugAllowed bool) map[string]any {
	return map[string]any{"snp": map[string]any{
		"measurement":             snpMeas,
		"reported_tcb_bootloader": 3,
		"reported_tcb_microcode":  microcode,
		"reported_tcb_snp":        22,
		"reported_tcb_tee":        0,
		"policy_debug_allowed":    debugAllowed,
		"policy_migrate_ma":       false,
	}, "init_data": initData, "init_data_claims": initdataDoc}
}

func azureSNPEvidence() map[string]any {
	tpm := map[string]any{}
	for _, pcr := range []string{"pcr03", "pcr08", "pcr09", "pcr11", "pcr12"} {
		tpm[pcr] = pcr + "-digest"
	}
	return map[string]any{"az-snp-vtpm": map[string]any{"tpm": tpm}}
}
