// Command compare times, as whole processes on this machine, `cmp-plugin generate` for the
// sandboxed-containers application against the shell pipeline the common Argo CD plugins run
// (`helm template ... | kustomize build`) with the real CLIs, checks both give the same objects,
// and prints median, min and max wall time, peak RSS and the ratio, with the targets.
// `make bench` runs it; it reports, it does not assert.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
)

const runs = 15

var azure = map[string]string{
	"region": "eastus", "resourceGroup": "bench-rg",
	"subnetID": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/bench-rg/providers/Microsoft.Network/virtualNetworks/v/subnets/w",
	"nsgID":    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/bench-rg/providers/Microsoft.Network/networkSecurityGroups/n",
}

const domain = "apps.bench.example.com"

type sample struct {
	wall time.Duration
	rss  int64 // KiB
	out  []byte
}

func run(dir string, env []string, name string, args ...string) (sample, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	s := sample{wall: time.Since(start), out: out.Bytes()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rss = ru.Maxrss
	}
	if err != nil {
		return s, fmt.Errorf("%s: %v\n%s", filepath.Base(name), err, errb.String())
	}
	return s, nil
}

func stats(ss []sample) (med, lo, hi time.Duration, rss int64) {
	w := make([]time.Duration, len(ss))
	for i, s := range ss {
		w[i] = s.wall
		rss = max(rss, s.rss)
	}
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	return w[len(w)/2], w[0], w[len(w)-1], rss
}

// objects decodes a stream, leaving out pattern-gen's own annotations (sources, PCR8), which a
// shell pipeline cannot produce.
func objects(stream []byte) (map[string]map[string]any, error) {
	m, err := manifest.ByID("out", stream)
	if err != nil {
		return nil, err
	}
	for _, d := range m {
		if md, ok := d["metadata"].(map[string]any); ok {
			if ann, ok := md["annotations"].(map[string]any); ok {
				for k := range ann {
					if strings.HasPrefix(k, "pattern-gen.io/") {
						delete(ann, k)
					}
				}
			}
		}
	}
	return m, nil
}

func main() {
	if err := compare(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func compare() error {
	bin, plugin, helm, kustomize := os.Getenv("PATTERN_GEN_BIN"), os.Getenv("PATTERN_GEN_CMP_PLUGIN"), os.Getenv("PATTERN_GEN_HELM"), os.Getenv("PATTERN_GEN_KUSTOMIZE")
	if bin == "" || plugin == "" || helm == "" || kustomize == "" {
		return fmt.Errorf("set PATTERN_GEN_BIN, PATTERN_GEN_CMP_PLUGIN, PATTERN_GEN_HELM and PATTERN_GEN_KUSTOMIZE (make bench does)")
	}
	work, err := os.MkdirTemp("", "pattern-gen-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fork := filepath.Join(work, "fork")
	if _, err := run(work, nil, bin, "init", "--repo-url", forkrepo.URL, fork); err != nil {
		return err
	}
	tree, err := generate.ReadFork(fork)
	if err != nil {
		return err
	}
	// The plugin's inputs; the pipeline gets the same values as --set-literal.
	pluginEnv := []string{
		"ARGOCD_APP_SOURCE_PATH=" + render.SandboxChart,
		`ARGOCD_APP_PARAMETERS=[{"name":"overlay","string":"overlays/azure"},{"name":"cluster-discovery","string":"disabled"},{"name":"cluster-domain","string":"` + domain + `"}]`,
		"ARGOCD_ENV_AZURE_REGION=" + azure["region"], "ARGOCD_ENV_AZURE_RESOURCE_GROUP=" + azure["resourceGroup"],
		"ARGOCD_ENV_AZURE_SUBNET_ID=" + azure["subnetID"], "ARGOCD_ENV_AZURE_NSG_ID=" + azure["nsgID"],
	}
	// The plan the plugin itself makes from those inputs.
	env, err := config.FromEnv(func(k string) string {
		for _, kv := range pluginEnv {
			if name, v, _ := strings.Cut(kv, "="); name == k {
				return v
			}
		}
		return ""
	})
	if err != nil {
		return err
	}
	pattern, err := render.ReadPattern(tree)
	if err != nil {
		return err
	}
	r, err := generate.NewRenderer(generate.RendererOptions{Tree: tree, Pattern: pattern, Env: env, Strict: true})
	if err != nil {
		return err
	}
	var plan render.AppPlan
	for _, p := range r.Plans() {
		if p.Path == render.SandboxChart {
			plan = p
		}
	}
	doc, err := peerpods.Initdata{KBSURL: "https://" + generate.KBSHostPrefix + domain, SecurityPolicy: "security-policy/insecure"}.TOML()
	if err != nil {
		return err
	}
	initdata, err := peerpods.Encode(doc)
	if err != nil {
		return err
	}
	for _, k := range []string{"region", "resourceGroup", "subnetID", "nsgID"} {
		plan.Params = append(plan.Params, render.Param{Name: "global.coco.azure." + k, Value: azure[k], Literal: true})
	}
	plan.Params = append(plan.Params, render.Param{Name: "global.coco.azure.initdata", Value: initdata, Literal: true},
		render.Param{Name: "global.coco.azure.requireClusterValues", Value: "true"})
	args := plan.HelmTemplateArgs(fork)
	appDir := filepath.Join(fork, plan.Path)
	overlay := filepath.Join(fork, render.AzureOverlay)

	var ours, theirs, floor []sample
	for i := 0; i < runs; i++ {
		s, err := run(appDir, pluginEnv, plugin, "generate")
		if err != nil {
			return err
		}
		ours = append(ours, s)
		// The same binary doing no work: what starting a process that links Helm's chartutil,
		// kustomize and client-go costs before the first line of main.
		f, err := run(appDir, nil, plugin, "--help")
		if err != nil {
			return err
		}
		floor = append(floor, f)
		h, err := run(fork, nil, helm, args...)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(overlay, render.OverlayInput), h.out, 0o644); err != nil {
			return err
		}
		k, err := run(fork, nil, kustomize, "build", overlay)
		if err != nil {
			return err
		}
		theirs = append(theirs, sample{wall: h.wall + k.wall, rss: max(h.rss, k.rss), out: k.out})
	}
	a, err := objects(ours[0].out)
	if err != nil {
		return err
	}
	b, err := objects(theirs[0].out)
	if err != nil {
		return err
	}
	same := reflect.DeepEqual(a, b)
	om, olo, ohi, orss := stats(ours)
	tm, tlo, thi, trss := stats(theirs)
	fm, flo, fhi, frss := stats(floor)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("sandboxed-containers, %d runs each, whole processes on this machine\n", runs)
	fmt.Printf("%-34s %10s %10s %10s %12s\n", "", "median", "min", "max", "peak RSS")
	fmt.Printf("%-34s %10s %10s %10s %9d MB\n", "cmp-plugin generate", ms(om), ms(olo), ms(ohi), orss/1024)
	fmt.Printf("%-34s %10s %10s %10s %9d MB\n", "helm template | kustomize build", ms(tm), ms(tlo), ms(thi), trss/1024)
	fmt.Printf("%-34s %10s %10s %10s %9d MB\n", "cmp-plugin --help (start only)", ms(fm), ms(flo), ms(fhi), frss/1024)
	ratio := float64(om) / float64(tm)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT MET"
	}
	fmt.Printf("same objects: %v\n", same)
	fmt.Printf("ratio plugin/pipeline (median wall): %.2f  target <= 0.33: %s\n", ratio, verdict(ratio <= 1.0/3))
	fmt.Printf("start-only floor of that ratio: %.2f (package initialisation of the linked libraries)\n", float64(fm)/float64(tm))
	fmt.Printf("cmp-plugin peak RSS: %d MB  target < 100 MB: %s\n", orss/1024, verdict(orss/1024 < 100))
	if !same {
		return fmt.Errorf("the two produce different objects")
	}
	return bigRepository(fork, appDir, plugin, pluginEnv, verdict)
}

// bigRepository times the plugin again after 150 MiB of files no application reaches were added
// to the repository: the plugin reads only what its application can reach, so neither its
// time nor its memory should grow with them.
func bigRepository(fork, appDir, plugin string, pluginEnv []string, verdict func(bool) string) error {
	blobs := filepath.Join(fork, "docs", "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	blob := bytes.Repeat([]byte("unrelated data, not read by any application\n"), (1<<20)/45)
	for i := range 150 {
		if err := os.WriteFile(filepath.Join(blobs, fmt.Sprintf("blob-%03d.bin", i)), blob, 0o644); err != nil {
			return err
		}
	}
	var big []sample
	for range 5 {
		s, err := run(appDir, pluginEnv, plugin, "generate")
		if err != nil {
			return err
		}
		big = append(big, s)
	}
	med, lo, hi, rss := stats(big)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("%-34s %10s %10s %10s %9d MB\n", "cmp-plugin generate, +150 MiB", ms(med), ms(lo), ms(hi), rss/1024)
	fmt.Printf("cmp-plugin peak RSS with 150 MiB of unrelated files: %d MB  target < 128 MB: %s\n", rss/1024, verdict(rss/1024 < 128))
	return nil
}
