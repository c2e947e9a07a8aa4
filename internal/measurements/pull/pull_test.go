package pull_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pattern-gen/pattern-gen/internal/measurements/pull"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testregistry"
)

// measurementsJSON is measurements.json as the dm-verity image ships it (0x-prefixed hex under
// measurements.sha256), with the registers in drop left out and another bank beside it.
func measurementsJSON(fill byte, drop ...string) string {
	var pcrs []string
	for _, p := range []string{"pcr03", "pcr09", "pcr11", "pcr12", "pcr04"} {
		if !strings.Contains(strings.Join(drop, ","), p) {
			pcrs = append(pcrs, fmt.Sprintf("%q: \"0x%s\"", p, strings.Repeat(string(fill), 64)))
		}
	}
	return `{"measurements": {"sha384": {"pcr03": "0x00"}, "sha256": {` + strings.Join(pcrs, ", ") + `}}}`
}

func TestPullReadsTheUppermostMeasurements(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	lower := testregistry.Layer(t, []string{"image/", "image/measurements.json", "image/podvm.raw"},
		map[string]string{"image/measurements.json": measurementsJSON('a'), "image/podvm.raw": strings.Repeat("disk", 4096)})
	upper := testregistry.Layer(t, []string{"./image/measurements.json", "etc/os-release"},
		map[string]string{"./image/measurements.json": measurementsJSON('b'), "etc/os-release": "ID=rhel"})
	amd := testregistry.Image(t, "amd64", lower, upper)
	arm := testregistry.Image(t, "arm64", testregistry.Layer(t, []string{"image/measurements.json"}, map[string]string{"image/measurements.json": measurementsJSON('c')}))
	digest := reg.Push(t, "osc/osc-dm-verity-image:1.12.0", testregistry.Index(t, arm, amd))

	res, err := pull.Pull(context.Background(), pull.Options{Image: reg.Host + "/osc/osc-dm-verity-image:1.12.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != digest {
		t.Errorf("digest %s, want the index's %s", res.Digest, digest)
	}
	for _, p := range []string{"pcr03", "pcr09", "pcr11", "pcr12"} {
		if want := strings.Repeat("b", 64); res.SHA256[p] != want {
			t.Errorf("%s = %q, want the upper amd64 layer's %q", p, res.SHA256[p], want)
		}
	}
	if len(res.SHA256) != 4 {
		t.Errorf("got %d registers, want only the four the policy checks: %v", len(res.SHA256), res.SHA256)
	}
}

func TestPullBadImages(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	good := map[string]string{"image/measurements.json": measurementsJSON('a')}
	for _, tc := range []struct {
		name, want string
		layers     [][]string // names per layer, contents from files
		files      map[string]string
		raw        string // one non-tar layer instead
	}{
		{name: "missing-file", layers: [][]string{{"etc/os-release"}}, files: map[string]string{"etc/os-release": "ID=rhel"},
			want: "has no /image/measurements.json: is it the dm-verity pod VM image"},
		{name: "whiteout", layers: [][]string{{"image/measurements.json"}, {"image/.wh.measurements.json"}}, files: good,
			want: "has no /image/measurements.json"},
		{name: "opaque-folder", layers: [][]string{{"image/measurements.json"}, {"image/", "image/.wh..wh..opq"}}, files: good,
			want: "has no /image/measurements.json"},
		{name: "missing-pcr", layers: [][]string{{"image/measurements.json"}}, files: map[string]string{"image/measurements.json": measurementsJSON('a', "pcr09", "pcr12")},
			want: "image/measurements.json: measurements.sha256 has no pcr09, pcr12"},
		{name: "not-json", layers: [][]string{{"image/measurements.json"}}, files: map[string]string{"image/measurements.json": "pcr03=abc"},
			want: "image/measurements.json is not the JSON object measurements.sha256.pcrNN"},
		{name: "short-digest", layers: [][]string{{"image/measurements.json"}}, files: map[string]string{"image/measurements.json": `{"measurements":{"sha256":{"pcr03":"0x12","pcr09":"0x12","pcr11":"0x12","pcr12":"0x12"}}}`},
			want: "measurements.sha256.pcr03 is not a SHA-256 digest in hex"},
		{name: "folder-not-file", layers: [][]string{{"image/measurements.json/"}}, want: "/image/measurements.json is not a regular file"},
		{name: "folder-replaced-by-file", layers: [][]string{{"image/measurements.json"}, {"image"}}, files: good, want: "has no /image/measurements.json"},
		{name: "folder-replaced-by-link", layers: [][]string{{"image/measurements.json"}, {"image -> /tmp"}}, files: good, want: "has no /image/measurements.json"},
		{name: "root-opaque", layers: [][]string{{"image/measurements.json"}, {".wh..wh..opq"}}, files: good, want: "has no /image/measurements.json"},
		{name: "not-tar", raw: "this is not a tar archive, and it is long enough to be read as one" + strings.Repeat("!", 600),
			want: "layer 1 of 1: not a tar archive of files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var layers []v1.Layer
			for _, names := range tc.layers {
				layers = append(layers, testregistry.Layer(t, names, tc.files))
			}
			if tc.raw != "" {
				layers = append(layers, testregistry.RawLayer(t, []byte(tc.raw)))
			}
			img := testregistry.Image(t, "amd64", layers...)
			reg.Push(t, "osc/image:"+tc.name, img)
			_, err := pull.Pull(context.Background(), pull.Options{Image: reg.Host + "/osc/image:" + tc.name})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPullNoSuchTag(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	reg.Push(t, "osc/image:1.12.0", testregistry.Image(t, "amd64"))
	for _, ref := range []string{"osc/image:1.99.0", "other/image:1.12.0"} {
		_, err := pull.Pull(context.Background(), pull.Options{Image: reg.Host + "/" + ref})
		if err == nil || !strings.Contains(err.Error(), "no such image in the registry (HTTP 404); check the tag") {
			t.Errorf("%s: error %v, want the 404 advice", ref, err)
		}
	}
	_, err := pull.Pull(context.Background(), pull.Options{Image: "Not A Reference"})
	if err == nil || !strings.Contains(err.Error(), `--image "Not A Reference" is not an image reference`) {
		t.Errorf("error %v", err)
	}
}

// The registry asks for a pull secret as registry.redhat.io does. Without one, or with the wrong
// one, the error says what to do; no error carries the password.
func TestPullWithAPullSecret(t *testing.T) {
	const password = "s3cret-Pa55word"
	reg := testregistry.Start(t, "robot", password)
	reg.Push(t, "osc/image:1.12.0", testregistry.Image(t, "amd64", testregistry.Layer(t, []string{"image/measurements.json"}, map[string]string{"image/measurements.json": measurementsJSON('d')})))
	image := reg.Host + "/osc/image:1.12.0"
	authFile := func(key, user, pass string) *pull.AuthFile {
		f := filepath.Join(t.TempDir(), "pull-secret.json")
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		if err := os.WriteFile(f, []byte(`{"auths": {"quay.io": {"auth": "eDp5"}, "`+key+`": {"auth": "`+auth+`", "email": "a@example.com"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := pull.ReadAuthFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	_, err := pull.Pull(context.Background(), pull.Options{Image: image})
	if err == nil || !strings.Contains(err.Error(), "the registry refused access (HTTP 401); pass --authfile with a pull secret for "+reg.Host) {
		t.Errorf("anonymous: %v", err)
	}
	wrong := authFile(reg.Host, "robot", "wrong-"+password)
	_, err = pull.Pull(context.Background(), pull.Options{Image: image, Auth: wrong})
	if err == nil || !strings.Contains(err.Error(), "the registry refused the credentials for "+reg.Host+" in "+wrong.File) || strings.Contains(err.Error(), password) {
		t.Errorf("wrong password: %v", err)
	}
	for _, key := range []string{reg.Host, "https://" + reg.Host + "/", reg.Host + "/osc", reg.Host + "/osc/image"} {
		res, err := pull.Pull(context.Background(), pull.Options{Image: image, Auth: authFile(key, "robot", password)})
		if err != nil {
			t.Errorf("auths key %q: %v", key, err)
		} else if res.SHA256["pcr03"] != strings.Repeat("d", 64) {
			t.Errorf("auths key %q: %v", key, res.SHA256)
		}
	}
	// An entry for another repository of the registry is not used for this one.
	other := authFile(reg.Host+"/other", "robot", password)
	_, err = pull.Pull(context.Background(), pull.Options{Image: image, Auth: other})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401); --authfile "+other.File+" has no credentials for "+reg.Host) {
		t.Errorf("auths key for another repository: %v", err)
	}
}

func TestReadAuthFileErrorsQuoteNothing(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not-json":     "auths: {registry.redhat.io: hunter2}",
		"no-auths":     `{"registry.redhat.io": {"auth": "hunter2"}}`,
		"bad-base64":   `{"auths": {"registry.redhat.io": {"auth": "hunter2!"}}}`,
		"no-separator": `{"auths": {"registry.redhat.io": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("hunter2")) + `"}}}`,
	} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := pull.ReadAuthFile(f)
		if err == nil || !strings.Contains(err.Error(), "--authfile "+f) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := pull.ReadAuthFile(dir); err == nil || !strings.Contains(err.Error(), "not a pull-secret file") {
		t.Errorf("a folder: %v", err)
	}
}

func TestPullRefusesAnotherPlatform(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	reg.Push(t, "osc/image:arm", testregistry.Image(t, "arm64", testregistry.Layer(t, []string{"image/measurements.json"}, map[string]string{"image/measurements.json": measurementsJSON('a')})))
	_, err := pull.Pull(context.Background(), pull.Options{Image: reg.Host + "/osc/image:arm"})
	if err == nil || !strings.Contains(err.Error(), "is an image for linux/arm64; the pod VMs are linux/amd64") {
		t.Errorf("%v", err)
	}
}

// A registry that fails a blob with a body echoing the request (its Authorization header
// included): the error gives the status and codes only.
func TestPullErrorsNeverEchoTheRegistry(t *testing.T) {
	const password = "echo-Pa55word"
	reg := testregistry.StartWrapped(t, "robot", password, func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadGateway)
				fmt.Fprintf(w, `{"errors":[{"code":"UNKNOWN","message":"upstream said: %s"}]}`, r.Header.Get("Authorization"))
				return
			}
			inner.ServeHTTP(w, r)
		})
	})
	reg.Push(t, "osc/image:1.12.0", testregistry.Image(t, "amd64", testregistry.Layer(t, []string{"image/measurements.json"}, map[string]string{"image/measurements.json": measurementsJSON('a')})))
	f := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(f, []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("robot:"+password))+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := pull.ReadAuthFile(f)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pull.Pull(context.Background(), pull.Options{Image: reg.Host + "/osc/image:1.12.0", Auth: auth})
	if err == nil || !strings.Contains(err.Error(), "the registry answered HTTP 502 (UNKNOWN)") || strings.Contains(err.Error(), "Basic") || strings.Contains(err.Error(), password) {
		t.Errorf("%v", err)
	}
}

// The most specific entry wins, a plain key over a legacy https:// one for the same registry,
// whatever order the file lists them in; an empty entry is no credential.
func TestAuthFilePrecedence(t *testing.T) {
	const password = "right-Pa55word"
	reg := testregistry.Start(t, "robot", password)
	reg.Push(t, "osc/image:1.12.0", testregistry.Image(t, "amd64", testregistry.Layer(t, []string{"image/measurements.json"}, map[string]string{"image/measurements.json": measurementsJSON('a')})))
	right := base64.StdEncoding.EncodeToString([]byte("robot:" + password))
	wrong := base64.StdEncoding.EncodeToString([]byte("robot:wrong"))
	for name, auths := range map[string]string{
		"plain-over-legacy": `"https://` + reg.Host + `/v1/": {"auth": "` + wrong + `"}, "` + reg.Host + `": {"auth": "` + right + `"}`,
		"legacy-only":       `"https://` + strings.ToUpper(reg.Host[:1]) + reg.Host[1:] + `/v1/": {"auth": "` + right + `"}`,
		"repository-first":  `"` + reg.Host + `": {"auth": "` + wrong + `"}, "` + reg.Host + `/osc/image": {"auth": "` + right + `"}`,
	} {
		for i := 0; i < 20; i++ { // map order differs from run to run; the choice must not
			f := filepath.Join(t.TempDir(), "auth.json")
			if err := os.WriteFile(f, []byte(`{"auths": {`+auths+`}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			auth, err := pull.ReadAuthFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pull.Pull(context.Background(), pull.Options{Image: reg.Host + "/osc/image:1.12.0", Auth: auth}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
	f := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(f, []byte(`{"auths": {"`+reg.Host+`": {}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, _ := pull.ReadAuthFile(f)
	if _, err := pull.Pull(context.Background(), pull.Options{Image: reg.Host + "/osc/image:1.12.0", Auth: auth}); err == nil || !strings.Contains(err.Error(), "has no credentials for "+reg.Host) {
		t.Errorf("empty entry: %v", err)
	}
}
