package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pattern-gen/pattern-gen/internal/cli"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cli/cmpplugin"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/rvps"
	"github.com/pattern-gen/pattern-gen/internal/testutil/chartserver"
	"github.com/pattern-gen/pattern-gen/internal/testutil/pinnedschemas"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testregistry"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pattern-gen": func() { os.Exit(cli.PatternGenMain(os.Args[1:], base.StdStreams())) },
		"cmp-plugin":  func() { os.Exit(cmpplugin.Main(os.Args[1:], base.StdStreams(), os.Getenv)) },
	})
}

// TestScripts runs the CLI contract in testdata/script/*.txtar: exit codes, stderr wording and
// the files written (or not written).
func TestScripts(t *testing.T) {
	cacheHome := warmSchemaCache(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Setup: func(env *testscript.Env) error {
			if err := scriptCache(env, cacheHome); err != nil {
				return err
			}
			// The clustergroup chart the fork pins, from the shared reference copy (its vp-rbac
			// dependency absent); scripts that need it skip without it.
			env.Setenv("CLUSTERGROUP_CHART", filepath.Join(pinnedschemas.Shared(), "clustergroup-chart-0.9.55"))
			// No script reaches charts.validatedpatterns.io: the default chart source is off,
			// and scripts that test it run chart-repo, a local copy of that repository.
			env.Setenv("PATTERN_GEN_CLUSTERGROUP_CHART", "none")
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"dm-verity-registry": dmVerityRegistry, "chart-repo": chartRepo, "rvps-has": rvpsHas},
	})
}

// dmVerityRegistry starts an in-process registry that, like registry.redhat.io, wants a pull
// secret, and serves dm-verity pod VM images built here: tag 1.13.0 with measurements.json, tag
// no-measurements without (its digest in $NOMEASUREMENTS). It sets $REGISTRY and writes $WORK/pull-secret.json and
// $WORK/wrong-secret.json (a wrong password).
func dmVerityRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: dm-verity-registry")
	}
	const user, password = "robot$coco", "never-printed-0451"
	t := scriptT{ts}
	reg := testregistry.Start(t, user, password)
	pcrs := map[string]string{}
	for _, p := range []string{"pcr03", "pcr09", "pcr11", "pcr12"} {
		pcrs[p] = "0x" + strings.Repeat(p[3:], 32)
	}
	doc, err := json.Marshal(map[string]any{"measurements": map[string]any{"sha256": pcrs}})
	ts.Check(err)
	repo := "openshift-sandboxed-containers/osc-dm-verity-image"
	reg.Push(t, repo+":1.13.0", testregistry.Image(t, "amd64",
		testregistry.Layer(t, []string{"image/podvm.raw", "image/measurements.json"}, map[string]string{"image/podvm.raw": "disk", "image/measurements.json": string(doc)})))
	bare := reg.Push(t, repo+":no-measurements", testregistry.Image(t, "amd64",
		testregistry.Layer(t, []string{"image/podvm.raw"}, map[string]string{"image/podvm.raw": "disk"})))
	ts.Setenv("NOMEASUREMENTS", bare)
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	wrong := base64.StdEncoding.EncodeToString([]byte(user + ":bad-pass-7731"))
	ts.Check(os.WriteFile(ts.MkAbs("pull-secret.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`"}}}`), 0o600))
	ts.Check(os.WriteFile(ts.MkAbs("wrong-secret.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+wrong+`"}}}`), 0o600))
	ts.Setenv("REGISTRY", reg.Host)
}

// scriptCache gives a script a user cache folder of its own (XDG_CACHE_HOME), outside $WORK,
// whose pattern-gen/schemas is the warm schema cache: charts a script caches stay its own.
func scriptCache(env *testscript.Env, warm string) error {
	home, err := os.MkdirTemp(warm, "script-")
	if err != nil {
		return err
	}
	env.Defer(func() { os.RemoveAll(home) })
	if err := os.MkdirAll(filepath.Join(home, "pattern-gen"), 0o755); err != nil {
		return err
	}
	env.Setenv("XDG_CACHE_HOME", home)
	return os.Symlink(filepath.Join(warm, "pattern-gen", "schemas"), filepath.Join(home, "pattern-gen", "schemas"))
}

// rvpsHas checks that a rendered rvps-reference-values ConfigMap (FILE) holds reference value
// NAME accepting VALUE, decoding the format of the pinned Trustee (1.2 stores its entries
// base64-encoded, which grep cannot read).
func rvpsHas(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: rvps-has FILE NAME VALUE")
	}
	objs, err := manifest.Split(args[0], []byte(ts.ReadFile(args[0])))
	ts.Check(err)
	if len(objs) != 1 {
		ts.Fatalf("%s: %d objects, want the ConfigMap", args[0], len(objs))
	}
	obj, err := objs[0].Decode()
	ts.Check(err)
	key := rvps.KeyList
	if data, _ := obj["data"].(map[string]any); data[rvps.KeyStore] != nil {
		key = rvps.KeyStore
	}
	entries, err := rvps.Decode(obj, key)
	ts.Check(err)
	found := slices.ContainsFunc(entries, func(e rvps.Entry) bool { return e.Name == args[1] && slices.Contains(e.Values, args[2]) })
	if found == neg {
		ts.Fatalf("%s: reference value %s accepting %s: %v (entries %+v)", args[0], args[1], args[2], found, entries)
	}
}

// chartRepo serves a copy of the Validated Patterns chart repository over HTTPS: clustergroup
// 0.9.55 from the shared reference copy, and the same files as release 0.9.54. It sets
// $CHART_REPO (its URL) and SSL_CERT_FILE (its certificate, for pattern-gen to trust).
func chartRepo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: chart-repo")
	}
	dir := ts.Getenv("CLUSTERGROUP_CHART")
	if _, err := os.Stat(dir); err != nil {
		ts.Fatalf("no clustergroup chart copy at %s", dir)
	}
	t := scriptT{ts}
	srv := chartserver.Start(t, chartserver.ReadDir(t, dir, "0.9.54"), chartserver.ReadDir(t, dir, "0.9.55"))
	ca := ts.MkAbs(".chart-repo-ca.pem")
	srv.WriteCA(t, ca)
	ts.Setenv("SSL_CERT_FILE", ca)
	ts.Setenv("CHART_REPO", srv.URL)
}

// warmSchemaCache is a user cache folder whose pattern-gen/schemas holds every schema the pins
// table pins, as after a first online validate: scripts validate offline with it (and the
// sandbox has no network). Scripts that test a cold cache pass --schema-cache.
func warmSchemaCache(t *testing.T) string {
	t.Helper()
	table, err := project.PinsTable()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	pinnedschemas.Fill(t, table, filepath.Join(home, "pattern-gen", "schemas"))
	return home
}

// scriptT lets the registry helpers report through the script.
type scriptT struct{ ts *testscript.TestScript }

func (scriptT) Helper()             {}
func (s scriptT) Fatal(args ...any) { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s scriptT) Cleanup(f func())  { s.ts.Defer(f) }
func (s scriptT) TempDir() string {
	d, err := os.MkdirTemp("", "pattern-gen-script-")
	s.ts.Check(err)
	s.ts.Defer(func() { os.RemoveAll(d) })
	return d
}

// TestBadInput runs the bad-input corpus in testdata/bad: every case must fail with exit code 1
// and one clear line, write nothing and print no objects.
func TestBadInput(t *testing.T) {
	cacheHome := warmSchemaCache(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/bad",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATTERN_GEN_CLUSTERGROUP_CHART", "none")
			return scriptCache(env, cacheHome)
		},
	})
}
