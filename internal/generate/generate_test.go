package generate_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/testutil/forkrepo"
	"github.com/pattern-gen/pattern-gen/internal/testutil/testcert"
)

// repoRoot is where the shared testdata/ lives.
const repoRoot = "../.."

func pluginEnv(t *testing.T, vars map[string]string) config.PluginEnv {
	t.Helper()
	e, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// peerPodsCM returns the peer-pods-cm among objs.
func peerPodsCM(t *testing.T, objs []manifest.Object) manifest.Object {
	t.Helper()
	for _, o := range objs {
		if o.Name == "peer-pods-cm" {
			return o
		}
	}
	t.Fatal("no peer-pods-cm")
	return manifest.Object{}
}

// runPlugin runs the plugin on an application of a fork, with no cluster.
func runPlugin(t *testing.T, fork, appPath string, vars map[string]string) ([]manifest.Object, error) {
	t.Helper()
	if vars == nil {
		vars = map[string]string{}
	}
	vars["ARGOCD_APP_SOURCE_PATH"] = appPath
	out, err := generate.Run(context.Background(), generate.Request{
		Dir: filepath.Join(fork, appPath), Env: pluginEnv(t, vars), Logf: func(string, ...any) {},
	})
	if err != nil {
		return nil, err
	}
	objs, err := manifest.Split("stdout", out)
	if err != nil {
		t.Fatal(err)
	}
	again, err := generate.Run(context.Background(), generate.Request{Dir: filepath.Join(fork, appPath), Env: pluginEnv(t, vars), Logf: func(string, ...any) {}})
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("a second run differs (err %v)", err)
	}
	return objs, nil
}

// decodeInitdata decodes an encoded initdata and its inner TOML files with the TOML library,
// and lists every value as a "file: dotted.key = value" line, in key order, each value as it
// is (a certificate keeps its newlines, the policy its lines).
func decodeInitdata(t *testing.T, enc string) string {
	t.Helper()
	doc, err := peerpods.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	var outer struct{ Data map[string]string }
	if _, err := toml.Decode(string(doc), &outer); err != nil {
		t.Fatalf("initdata: %v\n%s", err, doc)
	}
	var b strings.Builder
	for _, name := range []string{"aa.toml", "cdh.toml"} {
		var m map[string]any
		if _, err := toml.Decode(outer.Data[name], &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		flatten(&b, name+": ", m)
	}
	b.WriteString("policy.rego: " + outer.Data["policy.rego"])
	return b.String()
}

func flatten(b *strings.Builder, prefix string, m map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if sub, ok := m[k].(map[string]any); ok {
			flatten(b, prefix+k+".", sub)
			continue
		}
		fmt.Fprintf(b, "%s%s = %v\n", prefix, k, m[k])
	}
}

// Everything pinned in the config: the plugin needs neither parameters nor a cluster.
func TestGenerateFromPinnedValues(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "osc-1.10-minimal", "pattern-gen.yaml"), Dir: fork}); err != nil {
		t.Fatal(err)
	}
	objs, err := runPlugin(t, fork, render.SandboxChart, map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"overlay","string":"overlays/azure"}]`})
	if err != nil {
		t.Fatal(err)
	}
	cm := peerPodsCM(t, objs)
	if got := cm.String("data", "AZURE_REGION"); got != "westeurope" {
		t.Errorf("region %q", got)
	}
	if got := cm.String("metadata", "annotations", generate.AnnotationSources); !strings.Contains(got, `"AZURE_REGION":"values global.coco.azure.region"`) {
		t.Errorf("sources %s", got)
	}
	doc := decodeInitdata(t, cm.String("data", "INITDATA"))
	for _, want := range []string{"aa.toml: token_configs.kbs.url = https://kbs-trustee-operator-system.apps.lab.example.com\n", "cdh.toml: kbc.kbs_cert = -----BEGIN CERTIFICATE-----\n", "cdh.toml: image.image_security_policy_uri = kbs:///default/security-policy/signed\n"} {
		if !strings.Contains(doc, want) {
			t.Errorf("initdata lacks %q", want)
		}
	}

	// kbs-access on OSC 1.10: the runtime.cc_init_data annotation.
	objs, err = runPlugin(t, fork, render.KBSAccessChart, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objs {
		if o.Kind == "Deployment" {
			enc := o.String("spec", "template", "metadata", "annotations", "io.katacontainers.config.runtime.cc_init_data")
			found = enc != "" && strings.Contains(decodeInitdata(t, enc), "default ExecProcessRequest := false")
		}
	}
	if !found {
		t.Error("the kbs-access pod has no restrictive initdata annotation")
	}
}

func TestGenerateErrors(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Dir: fork, RepoURL: forkrepo.URL}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		vars map[string]string
		want string
	}{
		"not an application":   {"charts", nil, "charts is not the path of an application in values-hub.yaml; known paths: charts/all/cmp-plugin-rbac, charts/coco-supported/hello-openshift, charts/all/sandboxed-containers, charts/hub/trustee"},
		"no domain for pods":   {render.HelloChart, nil, "application hello-openshift has 2 pod templates on kata-remote or kata-cc, but the apps domain for the KBS URL has no source"},
		"bad discovery switch": {render.HelloChart, map[string]string{"ARGOCD_ENV_CLUSTER_DISCOVERY": "maybe"}, `cluster-discovery: use enabled or disabled`},
		"bad overlay":          {render.SandboxChart, map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"overlay","string":"overlays/gcp"}]`}, `overlay "overlays/gcp": no kustomization.yaml there`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := runPlugin(t, fork, tc.path, tc.vars)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	// The offline render shows the same pod annotation as a placeholder.
	res, err := project.Render(context.Background(), project.Source{Fork: fork})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Spec struct {
			Template struct {
				Metadata struct{ Annotations map[string]string }
			}
		}
	}
	if err := yaml.Unmarshal(res.Files["hub/hello-openshift/deployment-hello-openshift-secure.yaml"], &d); err != nil {
		t.Fatal(err)
	}
	if got := d.Spec.Template.Metadata.Annotations["io.katacontainers.config.hypervisor.cc_init_data"]; got != render.PlaceholderInitdata {
		t.Errorf("offline annotation %q", got)
	}
}

// A spoke of a split fork: the KBS address and certificate come from what the trusted hub
// publishes on the spoke, never from the spoke's own domain; without them the plugin fails.
func TestGenerateOnASpoke(t *testing.T) {
	fork := filepath.Join(t.TempDir(), "fork")
	if _, err := project.Init(context.Background(), project.InitOptions{Config: filepath.Join(repoRoot, "testdata", "cases", "split", "pattern-gen.yaml"), Dir: fork}); err != nil {
		t.Fatal(err)
	}
	hubCert, spokeCert := testcert.SelfSigned("kbs-trustee-operator-system.apps.hub.example.com", 0), testcert.SelfSigned("kbs-trustee-operator-system.apps.spoke.example.com", 0)
	var askedTrustedHub []bool
	spokeCluster := func(_ context.Context, scope peerpods.Scope) (*peerpods.Cluster, []string) {
		askedTrustedHub = append(askedTrustedHub, scope.TrustedHub)
		trustedHub := scope.TrustedHub
		c := &peerpods.Cluster{CloudConf: &peerpods.CloudConf{Location: "northeurope", SubscriptionID: "11111111-2222-3333-4444-555555555555",
			ResourceGroup: "spoke-rg", VnetName: "v", VnetResourceGroup: "spoke-net", SubnetName: "w", SecurityGroupName: "n"}}
		if trustedHub {
			c.AppsDomain, c.KBSCert = "apps.hub.example.com", hubCert
			c.AppsDomainFrom, c.KBSCertFrom = "Secret openshift-sandboxed-containers-operator/trusted-hub-kbs key appsDomain (from the trusted hub)", "Secret openshift-sandboxed-containers-operator/trusted-hub-kbs key tls.crt (from the trusted hub)"
		} else {
			c.AppsDomain, c.KBSCert = "apps.spoke.example.com", spokeCert
		}
		return c, nil
	}
	run := func(app string, params string, reader generate.ClusterReader) ([]manifest.Object, string, error) {
		vars := map[string]string{"ARGOCD_APP_SOURCE_PATH": app, "ARGOCD_APP_PARAMETERS": params}
		var log strings.Builder
		out, err := generate.Run(context.Background(), generate.Request{
			Dir: filepath.Join(fork, app), Env: pluginEnv(t, vars), Cluster: reader,
			Logf: func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) },
		})
		if err != nil {
			return nil, log.String(), err
		}
		objs, err := manifest.Split("stdout", out)
		if err != nil {
			t.Fatal(err)
		}
		return objs, log.String(), nil
	}
	spoke := `[{"name":"overlay","string":"overlays/azure"},{"name":"cluster-group","string":"spoke"}]`
	objs, log, err := run(render.SandboxChart, spoke, spokeCluster)
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if len(askedTrustedHub) != 1 || !askedTrustedHub[0] {
		t.Errorf("the cluster was read with trustedHub %v, want [true]", askedTrustedHub)
	}
	cm := peerPodsCM(t, objs)
	if got := cm.String("data", "AZURE_RESOURCE_GROUP"); got != "spoke-rg" {
		t.Errorf("the spoke's own cloud-conf must fill peer-pods-cm: resource group %q", got)
	}
	doc := decodeInitdata(t, cm.String("data", "INITDATA"))
	for _, want := range []string{"aa.toml: token_configs.kbs.url = https://kbs-trustee-operator-system.apps.hub.example.com\n", "aa.toml: token_configs.kbs.cert = " + hubCert, "cdh.toml: kbc.kbs_cert = " + hubCert} {
		if !strings.Contains(doc, want) {
			t.Errorf("initdata lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "spoke.example.com") || strings.Contains(doc, spokeCert) {
		t.Errorf("initdata uses the spoke's own domain or certificate:\n%s", doc)
	}
	if !strings.Contains(log, "domain from cluster Secret openshift-sandboxed-containers-operator/trusted-hub-kbs") {
		t.Errorf("provenance not logged:\n%s", log)
	}

	// The spoke's pods get the hub's KBS too.
	objs, _, err = run(render.HelloChart, `[{"name":"cluster-group","string":"spoke"}]`, spokeCluster)
	if err != nil {
		t.Fatal(err)
	}
	pods := 0
	for _, o := range objs {
		if enc := o.String("spec", "template", "metadata", "annotations", "io.katacontainers.config.hypervisor.cc_init_data"); enc != "" {
			pods++
			if !strings.Contains(decodeInitdata(t, enc), "kbs-trustee-operator-system.apps.hub.example.com") {
				t.Errorf("%s: initdata does not name the hub's KBS", o.Name)
			}
		}
	}
	if pods != 2 {
		t.Errorf("%d pods with initdata, want 2", pods)
	}

	// Nothing published yet on the spoke: a clear error, never the spoke's own domain.
	empty := func(ctx context.Context, scope peerpods.Scope) (*peerpods.Cluster, []string) {
		c, _ := spokeCluster(ctx, scope)
		c.AppsDomain, c.KBSCert = "", ""
		return c, nil
	}
	_, _, err = run(render.SandboxChart, spoke, empty)
	if err == nil || !strings.Contains(err.Error(), "let the plugin read Secret openshift-sandboxed-containers-operator/trusted-hub-kbs on this spoke") {
		t.Errorf("got %v", err)
	}
	// A parameter names the hub's domain explicitly; with trustee.https the certificate must
	// still come from the hub, and its absence fails the sync (it is never left out silently).
	_, _, err = run(render.SandboxChart, `[{"name":"overlay","string":"overlays/azure"},{"name":"cluster-group","string":"spoke"},{"name":"cluster-domain","string":"apps.hub2.example.com"}]`, empty)
	if err == nil || !strings.Contains(err.Error(), "no KBS certificate in Secret openshift-sandboxed-containers-operator/trusted-hub-kbs key tls.crt (from the trusted hub), and trustee.https is true") || strings.Contains(err.Error(), "apps domain") {
		t.Errorf("with cluster-domain and no certificate: %v", err)
	}
	// Errors: an unknown group, and a spoke application asked for in the hub's group.
	if _, _, err := run(render.SandboxChart, `[{"name":"cluster-group","string":"edge"}]`, nil); err == nil || !strings.Contains(err.Error(), `cluster-group "edge": clusterGroup "edge" is not one of the fork's clusterGroups (trusted-hub, spoke)`) {
		t.Errorf("unknown group: %v", err)
	}
	if _, _, err := run(render.SandboxChart, `[]`, nil); err == nil || !strings.Contains(err.Error(), "charts/all/sandboxed-containers is not the path of an application in values-trusted-hub.yaml") {
		t.Errorf("spoke application without cluster-group: %v", err)
	}
}

// The egress Sync hook gets the worker subnet and region the plugin resolved (here pinned in the
// config), as list elements of its command; azure.egress: none renders no egress objects.
func TestEgressJobFollowsTheResolvedSubnet(t *testing.T) {
	config, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "cases", "osc-1.10-minimal", "pattern-gen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, egress := range []string{"managed", "none"} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "pattern-gen.yaml")
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(config), "azure:\n", "azure:\n  egress: "+egress+"\n", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		fork := filepath.Join(dir, "fork")
		if _, err := project.Init(context.Background(), project.InitOptions{Config: cfg, Dir: fork}); err != nil {
			t.Fatal(err)
		}
		objs, err := runPlugin(t, fork, render.SandboxChart, map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"overlay","string":"overlays/azure"}]`})
		if err != nil {
			t.Fatal(err)
		}
		var cmd []string
		kinds := map[string]bool{}
		for _, o := range objs {
			if o.Name == "podvm-egress" || o.Name == "coco-lab-podvm-egress" {
				kinds[o.Kind] = true
			}
			if o.Kind == "Job" {
				m, err := o.Decode()
				if err != nil {
					t.Fatal(err)
				}
				containers, _ := render.Dig(m, "spec", "template", "spec", "containers").([]any)
				for _, c := range containers[0].(map[string]any)["command"].([]any) {
					cmd = append(cmd, c.(string))
				}
			}
		}
		if egress == "none" {
			if len(kinds) != 0 {
				t.Errorf("egress none renders %v", kinds)
			}
			continue
		}
		want := "pattern-gen azure egress --subnet-id /subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/coco-lab-vnet-rg/providers/Microsoft.Network/virtualNetworks/coco-lab-vnet/subnets/coco-lab-worker-subnet --location westeurope --pattern coco-lab"
		if strings.Join(cmd, " ") != want || !kinds["ServiceAccount"] || !kinds["CredentialsRequest"] {
			t.Errorf("command %q, kinds %v", cmd, kinds)
		}
	}
}

// The sandboxed-containers chart's clusterValues helper and peerpods' key table name the same
// cluster-provided peer-pods-cm keys under the same values keys (INITDATA is the initdata's,
// which Go builds apart): the chart, rendered with requireClusterValues and nothing the cluster
// gives, lists every one it expects.
func TestChartClusterKeysMatchPeerPods(t *testing.T) {
	for _, platform := range []string{"Azure", "AWS"} {
		provider, _ := peerpods.ProviderOf(platform)
		tree, plan := defaultPlan(t, render.SandboxChart)
		plan.Params = append(plan.Params,
			render.Param{Name: "global.clusterPlatform", Value: platform},
			render.Param{Name: "global.coco." + provider.ValuesRoot + ".requireClusterValues", Value: "true"})
		_, err := render.RenderApp(tree, plan)
		if err == nil {
			t.Fatalf("%s: the chart rendered with requireClusterValues and no cluster values", platform)
		}
		chart := map[string]string{}
		for _, m := range regexp.MustCompile(`([A-Z_]+) \(set global\.coco\.`+provider.ValuesRoot+`\.(\w+):`).FindAllStringSubmatch(err.Error(), -1) {
			chart[m[1]] = m[2]
		}
		want := provider.RequiredKeys()
		want["INITDATA"] = "initdata"
		if !maps.Equal(chart, want) {
			t.Errorf("%s: the chart's cluster keys %v, peerpods' %v", platform, chart, want)
		}
	}
}

// The trustee chart's reserved Secret names (trustee.reservedSecretNames) are the ones config
// validation refuses in trustee.secretResources: the chart, given a reserved name, lists them.
func TestChartReservedSecretsMatchConfig(t *testing.T) {
	tree, plan := defaultPlan(t, render.TrusteeChart)
	plan.Params = append(plan.Params, render.Param{Name: "global.coco.trustee.secretResources", Value: "{security-policy}"})
	_, err := render.RenderApp(tree, plan)
	m := regexp.MustCompile(`reserved names: ([a-z0-9, -]+)`).FindStringSubmatch(fmt.Sprint(err))
	if m == nil {
		t.Fatalf("the chart took a reserved name: %v", err)
	}
	chart := strings.Split(m[1], ", ")
	slices.Sort(chart)
	want := config.ReservedSecretResources()
	slices.Sort(want)
	if !slices.Equal(chart, want) {
		t.Errorf("the trustee chart reserves %v, config validation %v", chart, want)
	}
}

// The sandboxed-containers chart accepts exactly the VM sizes config.IsConfidentialVMSize does:
// both use config.ConfidentialVMSizePattern, the chart as a copy this test keeps equal.
func TestChartVMSizeRuleMatchesConfig(t *testing.T) {
	chart, err := os.ReadFile(filepath.Join(repoRoot, "charts", "all", "sandboxed-containers", "templates", "peer-pods-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(chart), `regexMatch "`+config.ConfidentialVMSizePattern+`"`) {
		t.Errorf("peer-pods-cm.yaml does not check sizes with config.ConfidentialVMSizePattern")
	}
	tree, plan := defaultPlan(t, render.SandboxChart)
	for _, size := range []string{"Standard_DC2as_v5", "Standard_DC4es_v6", "Standard_EC8ads_v5", "Standard_NCC40ads_H100_v5",
		"Standard_D2s_v5", "standard_dc2as_v5", "DC2as_v5", "Standard_DC2s_v3", "Standard_DC2as_v5x"} {
		p := plan
		p.Params = append(slices.Clone(p.Params),
			render.Param{Name: "global.coco.azure.VMFlavours", Value: size, ForceString: true},
			render.Param{Name: "global.coco.azure.defaultVMFlavour", Value: size, ForceString: true})
		_, err := render.RenderApp(tree, p)
		chartOK := err == nil // refused by the template's check, or before it by values.schema.json
		if chartOK != config.IsConfidentialVMSize(size) {
			t.Errorf("%s: the chart accepts it %v, config %v (%v)", size, chartOK, config.IsConfidentialVMSize(size), err)
		}
	}
}

// The sandboxed-containers chart accepts exactly the EC2 instance types
// config.IsConfidentialInstanceType does, with the same expression.
func TestChartInstanceTypeRuleMatchesConfig(t *testing.T) {
	chart, err := os.ReadFile(filepath.Join(repoRoot, "charts", "all", "sandboxed-containers", "templates", "peer-pods-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(chart), `regexMatch "`+strings.ReplaceAll(config.ConfidentialInstanceTypePattern, `\`, `\\`)+`"`) {
		t.Errorf("peer-pods-cm.yaml does not check instance types with config.ConfidentialInstanceTypePattern")
	}
	tree, plan := defaultPlan(t, render.SandboxChart)
	for _, typ := range []string{"m6a.large", "c6a.16xlarge", "r6a.xlarge", "m6a.16xlarge", "r6a.8xlarge", "m6a.24xlarge", "m6i.large", "m6a.metal", "m6a.large,x"} {
		p := plan
		p.Params = append(slices.Clone(p.Params),
			render.Param{Name: "global.clusterPlatform", Value: "AWS"},
			render.Param{Name: "global.coco.aws.instanceTypes", Value: typ, Literal: true},
			render.Param{Name: "global.coco.aws.instanceType", Value: strings.Split(typ, ",")[0], Literal: true})
		_, err := render.RenderApp(tree, p)
		accepted := err == nil // refused by the chart's check or its values schema
		want := true
		for _, one := range strings.Split(typ, ",") {
			want = want && config.IsConfidentialInstanceType(one)
		}
		if accepted != want {
			t.Errorf("%s: the chart accepts it %v, config %v (%v)", typ, accepted, want, err)
		}
	}
}

// defaultPlan is the default fork's tree and the hub's plan of the application at path.
func defaultPlan(t *testing.T, path string) (render.Tree, render.AppPlan) {
	t.Helper()
	_, tree, err := project.Scaffold(context.Background(), project.ScaffoldOptions{Origin: forkrepo.URL})
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := render.ReadPatterns(tree)
	if err != nil {
		t.Fatal(err)
	}
	r, err := generate.NewRenderer(generate.RendererOptions{Tree: tree, Pattern: patterns[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Plans() {
		if p.Path == path {
			return tree, p
		}
	}
	t.Fatalf("no application at %s", path)
	return nil, render.AppPlan{}
}

// TestChartHardwareProfilesMatchConfig holds the charts' hardware-profile tables (baremetal
// and trustee helpers) equal to config.HardwareProfiles, and checks what the trustee chart
// verifies per profile.
func TestChartHardwareProfilesMatchConfig(t *testing.T) {
	var entries []string
	for _, h := range config.HardwareProfiles {
		entries = append(entries, fmt.Sprintf(`%q (dict "tdx" %t "snp" %t)`, h.Name,
			slices.Contains(h.TEEs, config.TEETDX), slices.Contains(h.TEEs, config.TEESNP)))
	}
	table := `$profiles := dict ` + strings.Join(entries, " ")
	for _, f := range []string{"charts/all/baremetal/templates/_helpers.tpl", "charts/hub/trustee/templates/_helpers.tpl"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), table) {
			t.Errorf("%s does not hold config.HardwareProfiles as %s", f, table)
		}
	}
	tree, plan := defaultPlan(t, render.TrusteeChart)
	for _, h := range append(slices.Clone(config.HardwareProfiles), config.HardwareProfile{Name: "intel-sgx"}) {
		p := plan
		p.Params = append(slices.Clone(p.Params), render.Param{Name: "global.coco.hardware.profile", Value: h.Name, Literal: true})
		objs, err := render.RenderApp(tree, p)
		if h.TEEs == nil {
			if err == nil {
				t.Errorf("profile %s: the trustee chart accepts it", h.Name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("profile %s: %v", h.Name, err)
		}
		for _, o := range objs {
			if o.Name != "kbs-config" {
				continue
			}
			toml := o.String("data", "kbs-config.toml")
			if got, want := strings.Contains(toml, "dcap_verifier"), slices.Contains(h.TEEs, config.TEETDX); got != want {
				t.Errorf("profile %s: dcap_verifier %v, want %v", h.Name, got, want)
			}
			if got, want := strings.Contains(toml, "snp_verifier"), slices.Contains(h.TEEs, config.TEESNP); got != want {
				t.Errorf("profile %s: snp_verifier %v, want %v", h.Name, got, want)
			}
		}
	}
}
