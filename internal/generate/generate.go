// Package generate renders applications the way cmp-plugin does at sync time: the fork's
// charts and overlays, with the peer-pod settings and initdata resolved from the plugin's
// parameters and env, the cluster and the fork's values. Offline render and diff use the same
// code with nothing read from a cluster, so what a pull request shows is what Argo CD applies.
// It also reads a fork from disk, with the limits both paths need.
package generate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/peerpods/pemcert"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// Annotations cmp-plugin puts on peer-pods-cm. They carry sources and digests, never values.
const (
	AnnotationSources = "pattern-gen.io/peer-pods-sources"
	AnnotationPCR8    = "pattern-gen.io/initdata-pcr8"
	// RVPSConfigMap is the trustee chart's reference values, which the plugin fills with the
	// PCR8 of the initdata it injects.
	RVPSConfigMap = "rvps-reference-values"
	// KBSHostPrefix is the host of the trustee chart's Route kbs, before the apps domain.
	KBSHostPrefix = config.KBSHostPrefix
)

// ClusterReader reads the cluster's facts in scope; nil means discovery is off.
type ClusterReader func(ctx context.Context, scope peerpods.Scope) (*peerpods.Cluster, []string)

// Request is one cmp-plugin generate call.
type Request struct {
	Dir     string // the application's folder (the plugin's working directory)
	Env     config.PluginEnv
	Cluster ClusterReader
	// Logf reports progress and provenance; it must never be given a secret.
	Logf func(format string, args ...any)
}

// Run renders the application whose folder is req.Dir the way Argo CD's clustergroup chart
// would have, with the peer-pod settings and initdata resolved at sync time, and returns the
// YAML stream. It fails rather than return zero objects or a peer-pods-cm with a missing key.
func Run(ctx context.Context, req Request) ([]byte, error) {
	root, rel, err := repoRoot(req.Dir, req.Env.SourcePath)
	if err != nil {
		return nil, err
	}
	fork, err := OpenFork(root)
	if err != nil {
		return nil, err
	}
	defer fork.Close()
	tree := render.Tree{}
	if err := fork.Load(tree, "values-global.yaml"); err != nil {
		return nil, err
	}
	if fork.Has(render.ConfigFile) {
		if err := fork.Load(tree, render.ConfigFile); err != nil {
			return nil, err
		}
	}
	global, err := render.ReadGlobal(tree)
	if err != nil {
		return nil, err
	}
	group, _, _ := req.Env.Lookup(config.SetClusterGroup)
	// Only the files Select reads are loaded: the main group's, which names the spokes, and
	// the selected one's.
	for _, name := range []string{global.MainGroup, group} {
		if groupFile := "values-" + name + ".yaml"; name != "" && !tree.Has(groupFile) && fork.Has(groupFile) {
			if err := fork.Load(tree, groupFile); err != nil {
				return nil, err
			}
		}
	}
	pattern, err := global.Select(tree, group)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", config.SetClusterGroup.Param, group, err)
	}
	var cluster *peerpods.Cluster
	discovery, _, _ := req.Env.Lookup(config.SetClusterDiscovery)
	switch discovery {
	case "", "enabled":
		if req.Cluster != nil {
			var warnings []string
			cluster, warnings = req.Cluster(ctx, scopeOf(pattern))
			for _, w := range warnings {
				req.Logf("warning: %s", w)
			}
		}
	case "disabled":
		req.Logf("cluster discovery is disabled")
	default:
		return nil, fmt.Errorf("%s: use enabled or disabled", config.SetClusterDiscovery.Param)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := NewRenderer(RendererOptions{Tree: tree, Files: fork, Pattern: pattern, Env: req.Env, Cluster: cluster, Strict: true, Logf: req.Logf})
	if err != nil {
		return nil, err
	}
	plan, err := selectPlan(s.plans, rel, req.Env.AppName, s.pattern.ClusterGroup)
	if err != nil {
		return nil, err
	}
	if err := loadReach(fork, tree, s, *plan); err != nil {
		return nil, err
	}
	objs, err := s.RenderApp(*plan)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("application %s rendered no objects; refusing to return an empty set, which Argo CD would prune everything for", plan.Name)
	}
	return manifest.Stream(objs)
}

// scopeOf is what a clusterGroup's renders read of its cluster: a spoke reads what the trusted hub
// publishes; a group that subscribes to OpenShift sandboxed containers on a peer-pod platform reads
// its peer-pods-cm.
func scopeOf(p *render.Pattern) peerpods.Scope {
	s := peerpods.Scope{TrustedHub: p.Spoke(), Platform: p.Platform}
	for _, sub := range p.Subscriptions() {
		s.PeerPods = s.PeerPods || sub.Spec["name"] == "sandboxed-containers-operator" && config.PeerPods(p.Platform)
	}
	return s
}

// loadReach reads into tree what rendering plan can reach and nothing else: the chart's folder,
// its value files, and the folders of the overlay's kustomizations.
func loadReach(fork *Fork, tree render.Tree, s *Renderer, plan render.AppPlan) error {
	need := append(fork.FilesUnder(plan.Path), plan.ValueFiles...)
	overlay, err := s.overlay(plan)
	if err != nil {
		return err
	}
	if overlay != "" {
		dirs, err := render.KustomizeDirs(fork, overlay)
		if err != nil {
			return fmt.Errorf("application %s: kustomize build %s: %w", plan.Name, overlay, err)
		}
		for _, d := range dirs {
			need = append(need, fork.FilesUnder(d)...)
		}
	}
	return fork.Load(tree, need...)
}

// Renderer renders the applications of one fork as cmp-plugin does. Strict (at sync time), a
// setting without a source is an error; offline (pattern-gen render and diff) it stays a
// placeholder.
type Renderer struct {
	tree      render.Tree
	files     render.Files
	pattern   *render.Pattern
	plans     []render.AppPlan
	env       config.PluginEnv
	cluster   *peerpods.Cluster
	strict    bool
	logf      func(string, ...any)
	domain    string
	domainSrc string
	facts     render.Facts
	docs      [2]*initdataDoc // restrictive, allow-all (built on first use)
}

// initdataDoc is one initdata document with its encoding and PCR8 reference value, its own
// sha256, and when its reference values expire: with the KBS certificate it carries.
type initdataDoc struct {
	toml                           []byte
	encoded, pcr8, digest, expires string
}

// noExpiry is the expiration of reference values for an initdata without a KBS certificate (a
// KBS behind a publicly trusted one): RVPS wants one, and the values leave the ConfigMap with
// the next render that changes the initdata anyway.
const noExpiry = "9999-12-31T23:59:59Z"

// RendererOptions say what NewRenderer renders and with which facts.
type RendererOptions struct {
	Tree render.Tree // the fork's files the render reads
	// Files tells which files the fork has, for planning every application of the group;
	// Tree when nil. cmp-plugin passes the listed fork and loads into Tree only what its
	// application reaches.
	Files   render.Files
	Pattern *render.Pattern // one clusterGroup, from render.Select or render.ReadPatterns
	Env     config.PluginEnv
	Cluster *peerpods.Cluster // nil offline
	Strict  bool              // at sync time: a setting without a source is an error
	Logf    func(string, ...any)
}

// NewRenderer plans the applications of one clusterGroup of the fork for the facts at hand.
func NewRenderer(o RendererOptions) (*Renderer, error) {
	var err error
	pattern, env, cluster := o.Pattern, o.Env, o.Cluster
	s := &Renderer{tree: o.Tree, files: cmp.Or[render.Files](o.Files, o.Tree), pattern: pattern, env: env, cluster: cluster, strict: o.Strict, logf: o.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.domain, s.domainSrc, err = resolveDomain(env, cluster, pattern); err != nil {
		return nil, err
	}
	facts := pattern.OfflineFacts(pattern.Platform)
	if pattern.Spoke() {
		// The KBS domain is the trusted hub's; this cluster's own stays unknown offline.
		if s.domain != "" {
			facts.HubClusterDomain = s.domain
		}
	} else if s.domain != "" {
		facts.HubClusterDomain, facts.ClusterDomain = s.domain, strings.TrimPrefix(s.domain, "apps.")
	}
	if env.KubeVersion != "" {
		facts.KubeVersion = env.KubeVersion
	}
	if s.plans, err = pattern.Plan(s.files, facts); err != nil {
		return nil, err
	}
	s.facts = facts
	return s, nil
}

// ClusterGroupPlan is how the patterns operator renders the clustergroup chart (at chartPath in
// the tree) for this clusterGroup, with the facts the fork's applications see.
func (s *Renderer) ClusterGroupPlan(chartPath string, cr render.PatternCR) (render.AppPlan, error) {
	return s.pattern.ClusterGroupPlan(s.files, s.facts, chartPath, cr)
}

// SpokeClusterGroupPlan is how the hub's ACM policy has the clustergroup chart rendered on a
// spoke of this clusterGroup, given the hub's plan and the group's managedClusterGroups entry.
func (s *Renderer) SpokeClusterGroupPlan(chartPath string, hub render.SpokeHub, g render.ManagedGroup) (render.AppPlan, bool, error) {
	return s.pattern.SpokeClusterGroupPlan(s.files, s.facts, chartPath, hub, g)
}

// initdata returns the initdata document for an agent policy. Each is built on first use, then
// shared by every application of the render; the allow-all one is never built for a fork with
// no pod that asks for it.
func (s *Renderer) initdata(allowAll bool) (*initdataDoc, error) {
	i, policy := 0, peerpods.Restrictive
	if allowAll {
		i, policy = 1, peerpods.AllowAll
	}
	if s.docs[i] == nil {
		doc, expires, err := s.buildInitdata(policy)
		if err != nil {
			return nil, err
		}
		enc, err := peerpods.Encode(doc)
		if err != nil {
			return nil, fmt.Errorf("encode initdata: %w", err)
		}
		sum := sha256.Sum256(doc)
		s.docs[i] = &initdataDoc{toml: doc, encoded: enc, pcr8: peerpods.PCR8(doc), digest: hex.EncodeToString(sum[:]), expires: noExpiry}
		if !expires.IsZero() {
			s.docs[i].expires = expires.Format(time.RFC3339)
		}
	}
	return s.docs[i], nil
}

// clusterKBSSource names where the cluster would tell the KBS's apps domain.
func (s *Renderer) clusterKBSSource() string {
	if s.pattern.Spoke() {
		return "Secret openshift-sandboxed-containers-operator/trusted-hub-kbs on this spoke (the trusted hub's kbs-publish policy writes it)"
	}
	return "ingresses.config.openshift.io/cluster"
}

// Plans returns the fork's applications in render order.
func (s *Renderer) Plans() []render.AppPlan { return s.plans }

// RenderApp renders one application; plugin applications get the sync-time settings. The pod VM
// measurements in its RVPS, if it renders one, must be those of the fork's measurements file.
func (s *Renderer) RenderApp(plan render.AppPlan) ([]manifest.Object, error) {
	set, err := s.readMeasurements(plan)
	if err != nil {
		return nil, err
	}
	objs, err := s.renderApp(plan)
	if err != nil {
		return nil, err
	}
	if err := checkRVPS(plan.Name, objs, set, s.pattern.Coco().Versions.Trustee); err != nil {
		return nil, err
	}
	return objs, nil
}

// renderApp is RenderApp without the measurements checks.
func (s *Renderer) renderApp(plan render.AppPlan) ([]manifest.Object, error) {
	if !plan.Plugin {
		return render.RenderApp(s.tree, plan)
	}
	var err error
	if plan.Overlay, err = s.overlay(plan); err != nil {
		return nil, err
	}
	// A platform without peer pods (BareMetal) has no peer-pods-cm to resolve: the plugin only
	// gives pods their initdata and RVPS its reference values.
	provider, peerPods := peerpods.ProviderOf(s.pattern.Platform)
	var resolved []peerpods.Value
	var resolveErr error
	if peerPods {
		resolved, resolveErr = provider.Resolve(s.env, s.cluster, provider.Values(s.pattern.Coco()))
	}
	// One initdata document per agent policy: restrictive for peer-pods-cm and ordinary pods,
	// allow-all for pod templates that ask for it.
	var restrictive *initdataDoc
	if s.domain != "" {
		var err error
		if restrictive, err = s.initdata(false); errors.Is(err, errNoKBSCert) {
			resolveErr = errors.Join(resolveErr, err) // named with every other missing source
		} else if err != nil {
			return nil, err
		}
	}
	// What the plugin derives reaches Helm as literal values (--set-literal): no character of a
	// value from a parameter, env, the cluster or the fork is read as --set syntax.
	plan.Params = literalFacts(plan.Params)
	if restrictive != nil {
		// The trustee chart fills RVPS with the reference values of the initdata this render
		// gives pods; other charts do not read them.
		plan.Params = append(plan.Params,
			render.Param{Name: "global.coco.trustee.initdata.pcr8", Value: restrictive.pcr8, Literal: true},
			render.Param{Name: "global.coco.trustee.initdata.sha256", Value: restrictive.digest, Literal: true},
			render.Param{Name: "global.coco.trustee.initdata.expires", Value: restrictive.expires, Literal: true})
	}
	if peerPods && (resolveErr == nil || !s.strict) {
		for _, v := range resolved { // resolved keeps a fixed key order
			plan.Params = append(plan.Params, render.Param{Name: provider.ValuesPath(provider.ValuesKey(v.Key)), Value: v.Value, Literal: true})
		}
		if s.domain != "" {
			plan.Params = append(plan.Params, render.Param{Name: provider.ValuesPath("initdata"), Value: restrictive.encoded, Literal: true})
		}
		if s.strict && s.domain != "" {
			// A constant, and the chart's schema wants a boolean, which --set-literal cannot give.
			plan.Params = append(plan.Params, render.Param{Name: provider.ValuesPath("requireClusterValues"), Value: "true"})
		}
	}
	objs, err := render.RenderApp(s.tree, plan)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Kind == "ConfigMap" && o.Name == RVPSConfigMap && s.strict {
			if restrictive == nil {
				s.logf("warning: %s carries no initdata reference value (no KBS address or certificate yet), so no pod attests as affirming; it is filled once they exist", RVPSConfigMap)
			} else {
				s.logf("%s: initdata PCR8 %s, expires %s", RVPSConfigMap, restrictive.pcr8, restrictive.expires)
			}
			if s.pattern.Platform == config.PlatformBareMetal {
				if missing, err := MissingFirmware(o, s.pattern.Coco()); err != nil {
					return nil, fmt.Errorf("application %s: %w", plan.Name, err)
				} else if len(missing) > 0 {
					s.logf("warning: %s has no %s, so no pod of that TEE attests as affirming: commit them in %s, listed in this application's extraValueFiles", RVPSConfigMap, strings.Join(missing, ", "), render.FirmwareFile)
				}
			} else if !slices.Contains(plan.ValueFiles, measurements.File) {
				s.logf("warning: %s carries no pod VM measurements (PCR03, 09, 11, 12), so no pod attests as affirming: run pattern-gen measurements pull, commit %s and list it in this application's extraValueFiles", RVPSConfigMap, measurements.File)
			}
		}
	}
	noDomain := fmt.Errorf("the apps domain for the KBS URL has no source: set plugin parameter %s or plugin env %s, let the plugin read %s, or set appsDomain in pattern-gen.yaml (global.coco.appsDomain)", config.SetClusterDomain.Param, config.SetClusterDomain.Env, s.clusterKBSSource())
	for _, o := range objs {
		if o.Kind != "ConfigMap" || o.Name != "peer-pods-cm" {
			continue
		}
		if !peerPods {
			return nil, fmt.Errorf("application %s renders peer-pods-cm, but platform %s (%s) runs no peer pods; render the sandboxed-containers chart with global.clusterPlatform of the cluster", plan.Name, s.pattern.Platform, render.ConfigFile)
		}
		if s.strict {
			if s.domain == "" { // every missing source at once
				resolveErr = errors.Join(resolveErr, noDomain)
			}
			if resolveErr != nil {
				return nil, fmt.Errorf("application %s renders peer-pods-cm, but:\n%w", plan.Name, resolveErr)
			}
		}
		o.SetString(peerpods.Provenance(resolved), "metadata", "annotations", AnnotationSources)
		if s.domain != "" {
			o.SetString(restrictive.pcr8, "metadata", "annotations", AnnotationPCR8)
		}
		if s.cluster != nil && s.cluster.LiveImageID != "" && o.String("data", provider.ImageKey) == "" {
			// Keep the operator's pod VM image (unless the fork pins one): a client-side apply
			// would otherwise drop it.
			o.SetString(s.cluster.LiveImageID, "data", provider.ImageKey)
		}
		if s.strict {
			for _, v := range resolved {
				s.logf("peer-pods-cm %s from %s", v.Key, v.Source)
			}
			s.logf("peer-pods-cm INITDATA for https://%s%s (domain from %s), PCR8 %s", KBSHostPrefix, s.domain, s.domainSrc, restrictive.pcr8)
		}
	}
	oscVersion := s.pattern.Coco().Versions.SandboxedContainers
	annotation := peerpods.PodAnnotation(oscVersion)
	if s.domain == "" {
		pods := render.InjectPodInitdata(objs, func(bool) [][2]string { return [][2]string{{annotation, render.PlaceholderInitdata}} })
		if pods > 0 && s.strict {
			return nil, fmt.Errorf("application %s has %d pod templates on %s, but %w", plan.Name, pods, strings.Join(render.ConfidentialRuntimeClasses, " or "), noDomain)
		}
		return objs, nil
	}
	var encodeErr error
	pods := render.InjectPodInitdata(objs, func(allowAll bool) [][2]string {
		doc, err := s.initdata(allowAll)
		if err != nil {
			encodeErr = err
			return nil
		}
		return [][2]string{{annotation, doc.encoded}, {AnnotationPCR8, doc.pcr8}}
	})
	if encodeErr != nil {
		return nil, encodeErr
	}
	if pods > 0 && s.strict {
		s.logf("initdata (%s) set on %d pod templates on %s", annotation, pods, strings.Join(render.ConfidentialRuntimeClasses, " or "))
	}
	return objs, nil
}

// overlay is the kustomize overlay a plugin application uses: the plugin parameter overlay,
// else the clusterGroup's.
func (s *Renderer) overlay(plan render.AppPlan) (string, error) {
	ov, _, ok := s.env.Lookup(config.SetOverlay)
	if !ok {
		return plan.Overlay, nil
	}
	dir := strings.Trim(path.Clean(ov), "/")
	if !s.files.Has(dir + "/kustomization.yaml") {
		return "", fmt.Errorf("%s %q: no kustomization.yaml there", config.SetOverlay.Param, ov)
	}
	return dir, nil
}

// repoRoot finds the repository root from the application folder and its path in the repo.
func repoRoot(dir, sourcePath string) (root, rel string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	rel = strings.Trim(path.Clean(filepath.ToSlash(sourcePath)), "/")
	if rel == "" || rel == "." {
		return "", "", fmt.Errorf("%s is empty: run cmp-plugin from Argo CD, or set it to the application's path in the repository", config.EnvSourcePath)
	}
	if strings.HasPrefix(rel, "..") {
		return "", "", fmt.Errorf("%s %q leaves the repository", config.EnvSourcePath, sourcePath)
	}
	if !strings.HasSuffix(filepath.ToSlash(abs), "/"+rel) {
		return "", "", fmt.Errorf("the working directory %s does not end in %s %q", abs, config.EnvSourcePath, rel)
	}
	root = strings.TrimSuffix(filepath.ToSlash(abs), "/"+rel)
	if _, err := os.Stat(filepath.Join(root, "values-global.yaml")); err != nil {
		return "", "", fmt.Errorf("no values-global.yaml at the repository root %s: is this a pattern fork?", root)
	}
	return root, rel, nil
}

// domainFacts are the plan parameters NewRenderer builds from the resolved apps domain.
var domainFacts = []string{"global.clusterDomain", "global.hubClusterDomain", "global.localClusterDomain"}

// literalFacts returns params with the facts derived from the apps domain marked literal: for
// a plugin application they come from cmp-plugin, not from Argo CD's Helm parameters. The
// plan's own slice is shared by every render of the application, so it is copied.
func literalFacts(params []render.Param) []render.Param {
	out := slices.Clone(params)
	for i := range out {
		if slices.Contains(domainFacts, out[i].Name) {
			out[i].Literal = true
		}
	}
	return out
}

// resolveDomain picks the apps domain of the cluster that runs the KBS from the highest source
// that has one: parameter or env cluster-domain, the cluster, the fork's values. Every source
// is held to the same rule, a DNS name; the error names the source and never quotes the
// value, which reaches Argo CD's UI.
func resolveDomain(env config.PluginEnv, cluster *peerpods.Cluster, pattern *render.Pattern) (domain, src string, err error) {
	if v, from, ok := env.Lookup(config.SetClusterDomain); ok {
		domain, src = v, from
	} else if cluster != nil && cluster.AppsDomain != "" {
		domain, src = cluster.AppsDomain, "cluster "+cluster.AppsDomainFrom
	} else if v := pattern.Coco().AppsDomain; v != "" {
		domain, src = v, "values global.coco.appsDomain"
	} else {
		return "", "", nil
	}
	if len(validation.IsDNS1123Subdomain(domain)) > 0 || len(validation.IsDNS1123Subdomain(KBSHostPrefix+domain)) > 0 {
		return "", "", fmt.Errorf("the apps domain from %s is not a DNS name (%d characters); use lowercase letters, digits, '-' and '.', such as apps.mycluster.example.com, at most %d characters", src, len(domain), validation.DNS1123SubdomainMaxLength-len(KBSHostPrefix))
	}
	return domain, src, nil
}

// buildInitdata builds the initdata document for policy. The KBS certificate, from the fork's
// values or else the cluster, is parsed and re-encoded on its way in, so only certificates
// reach the document; an error names where it came from, never its content.
func (s *Renderer) buildInitdata(policy peerpods.Policy) ([]byte, time.Time, error) {
	domain, cluster := s.domain, s.cluster
	flavour := s.pattern.Coco().SecurityPolicyFlavour
	if flavour == "" {
		flavour = config.DefaultFlavour
	}
	if len(validation.IsConfigMapKey(flavour)) > 0 {
		return nil, time.Time{}, fmt.Errorf("values global.coco.securityPolicyFlavour: not a policy name (%d characters); use insecure, signed or reject (trustee.securityPolicyFlavour in pattern-gen.yaml)", len(flavour))
	}
	d := peerpods.Initdata{KBSURL: "https://" + KBSHostPrefix + domain, SecurityPolicy: "security-policy/" + flavour, Policy: policy}
	var src, fix string
	if pinned := s.pattern.Coco().KBSCertificate; pinned != "" {
		d.KBSCert, src = pinned, "values global.coco.kbsCertificate"
		fix = "fix trustee.kbsCertificate in pattern-gen.yaml (global.coco.kbsCertificate in values-global.yaml)"
	} else if cluster != nil && cluster.KBSCert != "" {
		d.KBSCert, src = cluster.KBSCert, "cluster "+cluster.KBSCertFrom
		fix = "fix the Secret, or pin the certificate in trustee.kbsCertificate in pattern-gen.yaml"
	} else if s.pattern.Coco().Trustee.HTTPS && s.strict {
		// The KBS serves its own certificate (trustee.https), which no pod VM trusts unless the
		// initdata carries it: a render without it would be cached by Argo CD and fail every
		// attestation, so the sync fails instead (Argo CD retries; the refresher hard-refreshes
		// when the certificate appears).
		return nil, time.Time{}, fmt.Errorf("%w in %s, and trustee.https is true: the pod VMs could not trust the KBS; load the secrets (make load-secrets: External Secrets then creates it), or pin trustee.kbsCertificate in pattern-gen.yaml", errNoKBSCert, s.certSource())
	} else if policy == peerpods.Restrictive {
		s.logf("warning: no KBS certificate found (%s); the initdata carries none, which works only for a KBS with a publicly trusted certificate", s.certSource())
	}
	if d.KBSCert != "" {
		cert, err := pemcert.Parse(d.KBSCert)
		if errors.Is(err, pemcert.ErrPrivateKey) {
			fix = "give only the certificate, and remove the key from where it is kept"
		}
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("the KBS certificate from %s %w; %s", src, err, fix)
		}
		d.KBSCert = cert
	}
	var expires time.Time
	if d.KBSCert != "" {
		var err error
		if expires, err = pemcert.Expiry(d.KBSCert); err != nil {
			return nil, time.Time{}, fmt.Errorf("the KBS certificate from %s %w", src, err)
		}
		if s.strict && policy == peerpods.Restrictive && time.Now().After(expires) {
			// Not an error: the render that brings a renewed certificate must still sync.
			s.logf("warning: the KBS certificate from %s expired on %s; pod VMs refuse the KBS and no secret is released until it is renewed", src, expires.Format(time.DateOnly))
		}
	}
	doc, err := d.TOML()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("initdata: %w", err)
	}
	return doc, expires, nil
}

// errNoKBSCert: the KBS serves its own certificate and no source gives it.
var errNoKBSCert = errors.New("no KBS certificate")

// certSource names where the KBS certificate is read from on this cluster.
func (s *Renderer) certSource() string {
	if s.cluster != nil && s.cluster.KBSCertFrom != "" {
		return s.cluster.KBSCertFrom
	}
	if s.pattern.Spoke() {
		return "Secret openshift-sandboxed-containers-operator/trusted-hub-kbs, from the trusted hub"
	}
	return "Secret trustee-operator-system/kbs-https-certificate"
}

// selectPlan picks the application Argo CD asked for: the one at the plugin's path, and when
// several applications share a chart path (with different values), the one named
// ARGOCD_APP_NAME. Guessing there would render one application's values for another.
func selectPlan(plans []render.AppPlan, rel, appName, group string) (*render.AppPlan, error) {
	var at []*render.AppPlan
	for i := range plans {
		if plans[i].Path == rel {
			at = append(at, &plans[i])
		}
	}
	switch {
	case len(at) == 0:
		return nil, fmt.Errorf("%s is not the path of an application in values-%s.yaml; known paths: %s", rel, group, planPaths(plans))
	case len(at) == 1:
		return at[0], nil
	}
	var names []string
	for _, p := range at {
		if p.Name == appName {
			return p, nil
		}
		names = append(names, p.Name)
	}
	if appName == "" {
		return nil, fmt.Errorf("applications %s of values-%s.yaml all use path %s, and %s is empty: run cmp-plugin from Argo CD, or set it to the application's name", strings.Join(names, ", "), group, rel, config.EnvAppName)
	}
	return nil, fmt.Errorf("%s %q is none of the applications of values-%s.yaml at path %s (%s)", config.EnvAppName, appName, group, rel, strings.Join(names, ", "))
}

func planPaths(plans []render.AppPlan) string {
	var ps []string
	for _, p := range plans {
		ps = append(ps, p.Path)
	}
	return strings.Join(ps, ", ")
}
