package measurements_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pattern-gen/pattern-gen/internal/measurements"
)

func sample() *measurements.Set {
	return &measurements.Set{OSC: "1.12.0", Image: measurements.Repository + ":1.12.0", Digest: "sha256:" + strings.Repeat("0", 64),
		Expires: "2027-12-04T00:00:00Z", SHA256: map[string]string{"pcr03": strings.Repeat("3", 64), "pcr09": strings.Repeat("9", 64), "pcr11": strings.Repeat("1", 64), "pcr12": strings.Repeat("2", 64)}}
}

func TestEncodeReadsBack(t *testing.T) {
	data, err := sample().Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := sample().Encode()
	if string(again) != string(data) {
		t.Error("Encode is not deterministic")
	}
	got, err := measurements.Read(measurements.File, data, "1.12.0")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != sample().Digest || got.SHA256["pcr11"] != sample().SHA256["pcr11"] || got.Expires != sample().Expires {
		t.Errorf("read back %+v", got)
	}
	if !got.Expired(time.Date(2027, 12, 4, 0, 0, 0, 0, time.UTC)) || got.Expired(time.Date(2027, 12, 3, 23, 59, 59, 0, time.UTC)) {
		t.Error("Expired is wrong at the boundary")
	}
}

// Each problem of a hand-edited or stale file is one line with the file, its line and field.
func TestReadReportsEveryProblem(t *testing.T) {
	data, err := sample().Encode()
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, edit := range [][2]string{
		{"          pcr09: \"" + strings.Repeat("9", 64) + "\"\n", ""},
		{"pcr11: \"", "pcr11: \"0x"},
		{`expires: "2027-12-04T00:00:00Z"`, `expires: "2027-12-04T01:00:00+01:00"`},
	} {
		if !strings.Contains(text, edit[0]) {
			t.Fatalf("the encoded file has no %q:\n%s", edit[0], text)
		}
		text = strings.Replace(text, edit[0], edit[1], 1)
	}
	_, err = measurements.Read(measurements.File, []byte(text), "1.13.0")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`values-measurements.yaml:9: global.coco.trustee.measurements.osc: measured for OSC "1.12.0", but the fork pins "1.13.0"`,
		`values-measurements.yaml:12: global.coco.trustee.measurements.expires: not a UTC time`,
		`values-measurements.yaml:13: global.coco.trustee.measurements.sha256.pcr09: missing: the attestation policy checks pcr09`,
		`values-measurements.yaml:15: global.coco.trustee.measurements.sha256.pcr11: not a SHA-256 digest (64 lowercase hex digits, no 0x)`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v\nfile:\n%s", len(lines), len(want), err, text)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("problem %d = %q, want it to contain %q", i, lines[i], w)
		}
	}
}

func TestReadRejectsOtherShapes(t *testing.T) {
	good, err := sample().Encode()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		t.Helper()
		if !strings.Contains(string(good), old) {
			t.Fatalf("no %q in the encoded file", old)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	pcr3 := `pcr03: "` + strings.Repeat("3", 64) + `"`
	for name, tc := range map[string]struct{ text, want string }{
		"empty":       {"", "values-measurements.yaml: not a mapping"},
		"not-yaml":    {"global:\n  coco: [\n", "values-measurements.yaml:2: not valid YAML"},
		"no-values":   {"global:\n  coco: {}\n", "values-measurements.yaml:2: global.coco.trustee: missing"},
		"list":        {"global:\n  coco:\n    trustee:\n      measurements: [pcr03]\n", "values-measurements.yaml:4: global.coco.trustee.measurements: not a mapping"},
		"other-shape": {"pcr03: abc\n", "values-measurements.yaml:1: pcr03: not a field of the measurements file"},
		// Another setting of the chart slipped into the file would change more than RVPS.
		"other-setting": {edit("      measurements:\n", "      https: false\n      measurements:\n"), "values-measurements.yaml:8: global.coco.trustee.https: not a field of the measurements file"},
		"extra-field":   {edit("        sha256:\n", "        note: x\n        sha256:\n"), "values-measurements.yaml:13: global.coco.trustee.measurements.note: not a field"},
		"number":        {edit(pcr3, "pcr03: 3"), "values-measurements.yaml:14: global.coco.trustee.measurements.sha256.pcr03: not a string; quote it"},
		"binary":        {edit(pcr3, "pcr03: !!binary aGVsbG8="), "sha256.pcr03: not a string; quote it"},
		"list-pcr":      {edit(pcr3, "pcr03: [a]"), "values-measurements.yaml:14: global.coco.trustee.measurements.sha256.pcr03: not a string"},
		"null-image":    {edit(`image: "registry.redhat.io/openshift-sandboxed-containers/osc-dm-verity-image:1.12.0"`, "image: ~"), "values-measurements.yaml:10: global.coco.trustee.measurements.image: not a string"},
		"empty-image":   {edit(`image: "registry.redhat.io/openshift-sandboxed-containers/osc-dm-verity-image:1.12.0"`, `image: ""`), "global.coco.trustee.measurements.image: empty"},
		"twice":         {edit(pcr3, pcr3+"\n          "+pcr3), "values-measurements.yaml:15: global.coco.trustee.measurements.sha256.pcr03: listed twice"},
		// An alias key is read by its anchor's name: one pcr's value could land under another's.
		"alias": {edit(pcr3, `pcr03: &v "`+strings.Repeat("3", 64)+`"`), "values-measurements.yaml:14: anchors, aliases and merge keys are not allowed"},
		"merge": {edit("      measurements:\n", "      measurements:\n        <<: {osc: \"1.12.0\"}\n"), "anchors, aliases and merge keys are not allowed"},
	} {
		_, err := measurements.Read(measurements.File, []byte(tc.text), "1.12.0")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %s", name, err, tc.want)
		}
	}
}
