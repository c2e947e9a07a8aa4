package project

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// Annotations cmp-plugin puts on peer-pods-cm. They carry sources and digests, never values.
const (
	AnnotationSources = "pattern-gen.io/peer-pods-sources"
	AnnotationPCR8    = "pattern-gen.io/initdata-pcr8"
	// KBSHostPrefix is the host of the trustee chart's Route kbs, before the apps domain.
	KBSHostPrefix = "kbs-trustee-operator-system."
)

// ClusterReader reads the cluster's facts; nil means discovery is off.
type ClusterReader func(ctx context.Context) (*peerpods.Cluster, []string)

// GenerateRequest is one cmp-plugin generate call.
type GenerateRequest struct {
	Dir     string // the application's folder (the plugin's working directory)
	Env     config.PluginEnv
	Cluster ClusterReader
	// Logf reports progress and provenance; it must never be given a secret.
	Logf func(format string, args ...any)
}

// Generate renders the application whose folder is req.Dir the way Argo CD's clustergroup chart
// would have, with the peer-pod settings and initdata resolved at sync time, and returns the
// YAML stream. It fails rather than return zero objects or a peer-pods-cm with a missing key.
func Generate(ctx context.Context, req GenerateRequest) ([]byte, error) {
	root, rel, err := repoRoot(req.Dir, req.Env.SourcePath)
	if err != nil {
		return nil, err
	}
	tree, err := ReadFork(root)
	if err != nil {
		return nil, err
	}
	var cluster *peerpods.Cluster
	discovery, _, _ := req.Env.Lookup(config.SetClusterDiscovery)
	switch discovery {
	case "", "enabled":
		if req.Cluster != nil {
			var warnings []string
			cluster, warnings = req.Cluster(ctx)
			for _, w := range warnings {
				req.Logf("warning: %s", w)
			}
		}
	case "disabled":
		req.Logf("cluster discovery is disabled")
	default:
		return nil, fmt.Errorf("%s: %q is not enabled or disabled", config.SetClusterDiscovery.Param, discovery)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	pattern, err := render.ReadPattern(tree)
	if err != nil {
		return nil, err
	}
	values := pattern.Values()
	domain, domainSrc := resolveDomain(req.Env, cluster, values)
	facts := render.OfflineFacts(platformOf(tree))
	if domain != "" {
		facts.HubClusterDomain, facts.ClusterDomain = domain, strings.TrimPrefix(domain, "apps.")
	}
	if req.Env.KubeVersion != "" {
		facts.KubeVersion = req.Env.KubeVersion
	}
	_, plans, err := render.Plan(tree, facts)
	if err != nil {
		return nil, err
	}
	var plan *render.AppPlan
	for i := range plans {
		if plans[i].Path == rel {
			plan = &plans[i]
		}
	}
	if plan == nil {
		return nil, fmt.Errorf("%s is not the path of an application in values-%s.yaml; known paths: %s", rel, pattern.ClusterGroup, planPaths(plans))
	}
	if ov, _, ok := req.Env.Lookup(config.SetOverlay); ok {
		plan.Overlay = strings.Trim(path.Clean(ov), "/")
		if !tree.Has(plan.Overlay + "/kustomization.yaml") {
			return nil, fmt.Errorf("%s %q: no kustomization.yaml there", config.SetOverlay.Param, ov)
		}
	}

	azure, _ := render.Dig(values, "global", "coco", "azure").(map[string]any)
	resolved, resolveErr := peerpods.Resolve(req.Env, cluster, azure)
	// One initdata document per agent policy: restrictive for peer-pods-cm and ordinary pods,
	// allow-all for pod templates that ask for it.
	var docs [2][]byte
	var encoded [2]string
	if domain != "" {
		for i, policy := range []peerpods.Policy{peerpods.Restrictive, peerpods.AllowAll} {
			docs[i] = buildInitdata(domain, policy, cluster, values, req.Logf)
			if encoded[i], err = peerpods.Encode(docs[i]); err != nil {
				return nil, fmt.Errorf("encode initdata: %w", err)
			}
		}
	}
	if resolveErr == nil {
		hp := peerpods.HelmParams(resolved)
		keys := make([]string, 0, len(hp))
		for k := range hp {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			plan.Params = append(plan.Params, render.Param{Name: k, Value: hp[k], ForceString: true})
		}
		if domain != "" {
			plan.Params = append(plan.Params,
				render.Param{Name: "global.coco.azure.initdata", Value: encoded[0], ForceString: true},
				render.Param{Name: "global.coco.azure.requireClusterValues", Value: "true"})
		}
	}
	objs, err := render.RenderApp(tree, *plan)
	if err != nil {
		return nil, err
	}
	noDomain := fmt.Errorf("the apps domain for the KBS URL has no source: set plugin parameter %s or plugin env %s, let the plugin read ingresses.config.openshift.io/cluster, or set appsDomain in pattern-gen.yaml (global.coco.appsDomain)", config.SetClusterDomain.Param, config.SetClusterDomain.Env)
	for _, o := range objs {
		if o.Kind != "ConfigMap" || o.Name != "peer-pods-cm" {
			continue
		}
		if resolveErr == nil && domain == "" {
			resolveErr = noDomain
		}
		if resolveErr != nil {
			return nil, fmt.Errorf("application %s renders peer-pods-cm, but:\n%w", plan.Name, resolveErr)
		}
		o.SetString(peerpods.Provenance(resolved), "metadata", "annotations", AnnotationSources)
		o.SetString(peerpods.PCR8(docs[0]), "metadata", "annotations", AnnotationPCR8)
		if cluster != nil && cluster.LiveImageID != "" {
			// Keep the operator's pod VM image: a client-side apply would otherwise drop it.
			o.SetString(cluster.LiveImageID, "data", "AZURE_IMAGE_ID")
		}
		for _, v := range resolved {
			req.Logf("peer-pods-cm %s from %s", v.Key, v.Source)
		}
		req.Logf("peer-pods-cm INITDATA for https://%s%s (domain from %s), PCR8 %s", KBSHostPrefix, domain, domainSrc, peerpods.PCR8(docs[0]))
	}
	oscVersion, _ := render.Dig(values, "global", "coco", "versions", "sandboxedContainers").(string)
	annotation := peerpods.PodAnnotation(oscVersion)
	pods := render.InjectPodInitdata(objs, annotation, func(allowAll bool) string {
		if allowAll {
			return encoded[1]
		}
		return encoded[0]
	})
	if pods > 0 {
		if domain == "" {
			return nil, fmt.Errorf("application %s has %d pod templates on %s, but %w", plan.Name, pods, render.RuntimeClass, noDomain)
		}
		render.InjectPodInitdata(objs, AnnotationPCR8, func(allowAll bool) string {
			if allowAll {
				return peerpods.PCR8(docs[1])
			}
			return peerpods.PCR8(docs[0])
		})
		req.Logf("initdata (%s) set on %d pod templates on %s", annotation, pods, render.RuntimeClass)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("application %s rendered no objects; refusing to return an empty set, which Argo CD would prune everything for", plan.Name)
	}
	return manifest.Stream(objs)
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

func resolveDomain(env config.PluginEnv, cluster *peerpods.Cluster, values map[string]any) (string, string) {
	if v, src, ok := env.Lookup(config.SetClusterDomain); ok {
		return v, src
	}
	if cluster != nil && cluster.AppsDomain != "" {
		return cluster.AppsDomain, "cluster ingresses.config.openshift.io/cluster"
	}
	if s, _ := render.Dig(values, "global", "coco", "appsDomain").(string); s != "" {
		return s, "values global.coco.appsDomain"
	}
	return "", ""
}

func buildInitdata(domain string, policy peerpods.Policy, cluster *peerpods.Cluster, values map[string]any, logf func(string, ...any)) []byte {
	flavour, _ := render.Dig(values, "global", "coco", "securityPolicyFlavour").(string)
	if flavour == "" {
		flavour = config.DefaultFlavour
	}
	d := peerpods.Initdata{KBSURL: "https://" + KBSHostPrefix + domain, SecurityPolicy: "security-policy/" + flavour, Policy: policy}
	if pinned, _ := render.Dig(values, "global", "coco", "kbsCertificate").(string); pinned != "" {
		d.KBSCert = pinned
	} else if cluster != nil && cluster.KBSCert != "" {
		d.KBSCert = cluster.KBSCert
	} else if policy == peerpods.Restrictive {
		logf("warning: no KBS certificate found (Secret trustee-operator-system/kbs-https-certificate); the initdata carries none, which works only for a KBS with a publicly trusted certificate")
	}
	return d.TOML()
}

// platformOf reads the platform from the fork's config, defaulting to Azure.
func platformOf(t render.Tree) string {
	var c struct {
		Platform string `yaml:"platform"`
	}
	if data, ok := t[render.ConfigFile]; ok && yaml.Unmarshal(data, &c) == nil && c.Platform != "" {
		return c.Platform
	}
	return config.DefaultPlatform
}

func planPaths(plans []render.AppPlan) string {
	var ps []string
	for _, p := range plans {
		ps = append(ps, p.Path)
	}
	return strings.Join(ps, ", ")
}
