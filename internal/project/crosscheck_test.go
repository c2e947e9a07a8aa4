package project_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/treewriter"
	"github.com/pattern-gen/pattern-gen/internal/validate"
)

// tool returns the path of an independent CLI named by env, skipping the test when it is not
// configured, unless PATTERN_GEN_REQUIRE_TOOLS is set (make test sets both).
func tool(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		if os.Getenv("PATTERN_GEN_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is not set; run the tests with `make test`", env)
		}
		t.Skipf("%s is not set: skipping the cross-check with the real CLI (make test builds it)", env)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func objectsByID(t *testing.T, source string, stream []byte) map[string]map[string]any {
	t.Helper()
	m, err := manifest.ByID(source, stream)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// scaffoldOnDisk scaffolds the fork of cfg, with extra trees under the given folders, writes it
// to disk for the CLIs, and reads its clusterGroups.
func scaffoldOnDisk(t *testing.T, cfg string, extra map[string]render.Tree) (*config.Loaded, render.Tree, string, []*render.Pattern) {
	t.Helper()
	l, tree, err := project.Scaffold(context.Background(), project.ScaffoldOptions{Config: cfg, Origin: forkrepo.URL})
	if err != nil {
		t.Fatal(err)
	}
	for folder, files := range extra {
		for p, data := range files {
			tree[folder+"/"+p] = data
		}
	}
	dir := filepath.Join(t.TempDir(), "fork")
	if err := treewriter.Write(dir, tree, treewriter.RefuseNonEmpty); err != nil {
		t.Fatal(err)
	}
	patterns, err := render.ReadPatterns(tree)
	if err != nil {
		t.Fatal(err)
	}
	return l, tree, dir, patterns
}

// The in-process render must yield the same objects as `helm template` piped into
// `kustomize build`, run with the same value files and parameters, for every case.
func TestCrossCheckWithHelmAndKustomizeCLIs(t *testing.T) {
	helm := tool(t, "PATTERN_GEN_HELM")
	kustomize := tool(t, "PATTERN_GEN_KUSTOMIZE")
	for name, cfg := range cases(t) {
		t.Run(name, func(t *testing.T) {
			l, tree, dir, patterns := scaffoldOnDisk(t, cfg, nil)
			var plans []render.AppPlan
			for _, p := range patterns { // every clusterGroup: the hub's and the spokes'
				gp, err := p.Plan(tree, p.OfflineFacts(l.Pattern.Platform))
				if err != nil {
					t.Fatal(err)
				}
				plans = append(plans, gp...)
			}
			for _, plan := range plans {
				out := run(t, helm, plan.HelmTemplateArgs(dir)...)
				// The chart is clean under helm lint --strict with the same values.
				lint := []string{"lint", "--strict", filepath.Join(dir, plan.Path)}
				for _, f := range plan.ValueFiles {
					lint = append(lint, "-f", filepath.Join(dir, f))
				}
				run(t, helm, lint...)
				if plan.Overlay != "" {
					if err := os.WriteFile(filepath.Join(dir, plan.Overlay, render.OverlayInput), out, 0o644); err != nil {
						t.Fatal(err)
					}
					out = run(t, kustomize, "build", filepath.Join(dir, plan.Overlay))
				}
				want := objectsByID(t, "cli", out)
				got := map[string]map[string]any{}
				objs, err := render.RenderApp(tree, plan)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					m, err := o.Decode()
					if err != nil {
						t.Fatal(err)
					}
					got[o.ID()] = m
				}
				if len(want) == 0 {
					t.Errorf("%s: the CLIs rendered no objects", plan.Name)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s: in-process render differs from helm+kustomize CLIs (-cli +in-process):\n%s", plan.Name, d)
				}
			}
		})
	}
}

// schemaPath is the clustergroup chart's values.schema.json, from the shared reference folder.
const schemaPath = "../../../shared/reference/clustergroup.values.schema.json"

// The scaffolded values pass the clustergroup chart's schema, checked by the same function
// as pattern-gen validate --clustergroup-schema.
func TestScaffoldedValuesPassClusterGroupSchema(t *testing.T) {
	schema, err := os.ReadFile(schemaPath)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent: skipping the clustergroup schema check", schemaPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range cases(t) {
		t.Run(name, func(t *testing.T) {
			l, tree, err := project.Scaffold(context.Background(), project.ScaffoldOptions{Config: cfg, Origin: forkrepo.URL})
			if err != nil {
				t.Fatal(err)
			}
			patterns, err := render.ReadPatterns(tree)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := validate.ClusterGroupValues(patterns, schema)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) > 0 {
				t.Errorf("the clusterGroup files fail the clustergroup schema:\n%v", ps)
			}
			// The check has teeth, for every group file: clusterGroup rejects unknown keys.
			// (Keys inside the map form of subscriptions are not checked by the chart's
			// schema, so those cannot serve.)
			groups := []string{l.Pattern.ClusterGroup}
			if l.Pattern.Spoke.ClusterGroup != "" {
				groups = append(groups, l.Pattern.Spoke.ClusterGroup)
			}
			for _, g := range groups {
				group := "values-" + g + ".yaml"
				bad := render.Tree{}
				for k, v := range tree {
					bad[k] = v
				}
				bad[group] = bytes.Replace(tree[group], []byte("  argoProjects:"), []byte("  argoProjectz:"), 1)
				badPatterns, err := render.ReadPatterns(bad)
				if err != nil {
					t.Fatal(err)
				}
				ps, err := validate.ClusterGroupValues(badPatterns, schema)
				if err != nil || len(ps) != 1 || !strings.Contains(ps[0].String(), "values-global.yaml + "+group) {
					t.Errorf("%s: the clustergroup schema did not report exactly the misspelt key in it: %v %v", group, ps, err)
				}
			}
		})
	}
}

// The clustergroup chart the fork pins (the shared reference copy of 0.9.55, its vp-rbac
// dependency absent), rendered in-process for the hub with the patterns operator's value files
// and parameters, must yield the same objects as `helm template` with the same arguments.
func TestClusterGroupChartLikeHelmCLI(t *testing.T) {
	helm := tool(t, "PATTERN_GEN_HELM")
	chartDir := "../../../shared/reference/clustergroup-chart-0.9.55"
	if _, err := os.Stat(chartDir); err != nil {
		t.Skipf("%s is absent: skipping", chartDir)
	}
	chart, missing, err := project.ReadClusterGroupChart(chartDir)
	if err != nil || len(missing) != 1 || missing[0] != "vp-rbac" {
		t.Fatalf("missing %v, %v", missing, err)
	}
	for name, cfg := range cases(t) {
		t.Run(name, func(t *testing.T) {
			l, tree, dir, patterns := scaffoldOnDisk(t, cfg, map[string]render.Tree{"cg-chart": chart})
			// The Pattern's extraParameters reach the chart as parameters and as the inline
			// extraParametersNested values, and from there every Application (and, through the
			// acm application, the spokes' chart).
			cr := render.PatternCR{ExtraParameters: []render.Param{{Name: "global.extra", Value: "3"}, {Name: "feature", Value: "true"}, {Name: "note", Value: "some text"}}}
			plan, err := patterns[0].ClusterGroupPlan(tree, patterns[0].OfflineFacts(l.Pattern.Platform), "cg-chart", cr)
			if err != nil {
				t.Fatal(err)
			}
			// The shared value file is templated with the parameters, as the operator does:
			// /overrides/values-{{ $.Values.global.clusterPlatform }}.yaml is the platform's.
			if want := "overrides/values-" + l.Pattern.Platform + ".yaml"; !slices.Contains(plan.ValueFiles, want) {
				t.Errorf("value files %v: no %s", plan.ValueFiles, want)
			}
			// Without extraParameters the operator passes extraParametersNested: null.
			bare, err := patterns[0].ClusterGroupPlan(tree, patterns[0].OfflineFacts(l.Pattern.Platform), "cg-chart", render.PatternCR{})
			if err != nil {
				t.Fatal(err)
			}
			plans := []render.AppPlan{plan, bare}
			// A split fork's spokes: as the hub's ACM policy has the chart rendered there.
			for _, spoke := range patterns[1:] {
				g, ok := patterns[0].ManagedGroup(spoke.ClusterGroup)
				if !ok {
					t.Fatalf("no managedClusterGroups entry for %s", spoke.ClusterGroup)
				}
				sp, made, err := spoke.SpokeClusterGroupPlan(tree, spoke.OfflineFacts(l.Pattern.Platform), "cg-chart", render.SpokeHub{Pattern: patterns[0], Plan: plan}, g)
				if err != nil || !made {
					t.Fatal(made, err)
				}
				// The hub's chart passes the nested values on as {{ printf "%s" $v | quote }}.
				for name, want := range map[string]string{"feature": "%!s(bool=true)", "global.extra": "%!s(float64=3)", "note": "some text"} {
					if !slices.Contains(sp.Params, render.Param{Name: name, Value: want}) {
						t.Errorf("spoke parameters %v: no %s=%s", sp.Params, name, want)
					}
				}
				plans = append(plans, sp)
			}
			for _, plan := range plans {
				want := objectsByID(t, "cli", run(t, helm, plan.HelmTemplateArgs(dir)...))
				objs, err := render.RenderApp(tree, plan)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]map[string]any{}
				for _, o := range objs {
					if got[o.ID()], err = o.Decode(); err != nil {
						t.Fatal(err)
					}
				}
				if len(want) < 5 {
					t.Fatalf("%s: the CLI rendered %d objects", plan.Group, len(want))
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s: in-process render differs from helm template (-cli +in-process):\n%s", plan.Group, d)
				}
				if plan.Values["extraParametersNested"] != nil && !strings.Contains(fmt.Sprint(got), "some text") {
					t.Errorf("%s: the extraParametersNested value reaches no object", plan.Group)
				}
			}
			for _, spoke := range plans[2:] {
				if spoke.Release != l.Pattern.Metadata.Name+"-"+spoke.Group || spoke.Namespace != spoke.Release {
					t.Errorf("spoke release %s into %s", spoke.Release, spoke.Namespace)
				}
			}
		})
	}
}
