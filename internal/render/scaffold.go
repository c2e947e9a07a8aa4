package render

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/config"
)

//go:embed all:fork
var forkFiles embed.FS

// Plugin naming: Argo CD applications address the sidecar as <name>-<version>.
const (
	PluginBase    = "cmp-plugin"
	PluginVersion = "v1.0"
	PluginName    = PluginBase + "-" + PluginVersion
)

// Chart locations in the product's assets and in a fork (the same paths).
const (
	SandboxChart   = "charts/all/sandboxed-containers"
	RBACChart      = "charts/all/cmp-plugin-rbac"
	TrusteeChart   = "charts/hub/trustee"
	HelloChart     = "charts/coco-supported/hello-openshift"
	KBSAccessChart = "charts/coco-supported/kbs-access"
	AzureOverlay   = "overlays/azure"
)

// ConfigFile is where a fork keeps the config it was generated from.
const ConfigFile = "pattern-gen.yaml"

// view is what the fork templates see: every value already checked by config validation.
type view struct {
	ConfigName                             string
	Name, ClusterGroup, RepoURL, Revision  string
	Backend, Flavour                       string
	Vault, HTTPS, Signed                   bool
	HelloOpenshift, KBSAccess              bool
	OSC, Trustee                           config.OperatorPin
	OSCVersion, TrusteeVersion             string
	InstanceSize, InstanceSizes            string
	Tags, RootVolumeSize                   string
	Region, ResourceGroup, SubnetID, NSGID string
	SecretResources                        []string
	PluginImage, PluginName                string
	PluginBase, PluginVersion              string
	PluginYAML                             string
	AppsDomain, KBSCertificate             string
}

func newView(l *config.Loaded) view {
	p := l.Pattern
	v := view{
		ConfigName:      ConfigFile,
		Name:            p.Metadata.Name,
		ClusterGroup:    p.ClusterGroup,
		RepoURL:         p.Git.RepoURL,
		Revision:        p.Git.Revision,
		Backend:         p.SecretStore.Backend,
		Flavour:         p.Trustee.SecurityPolicyFlavour,
		Vault:           p.SecretStore.Backend == "vault",
		HTTPS:           config.Bool(p.Trustee.HTTPS, true),
		Signed:          p.Trustee.SecurityPolicyFlavour == "signed",
		HelloOpenshift:  config.Bool(p.Workloads.HelloOpenshift, true),
		KBSAccess:       config.Bool(p.Workloads.KBSAccess, false),
		OSC:             p.Operators.SandboxedContainers,
		Trustee:         p.Operators.Trustee,
		OSCVersion:      config.CSVVersion(p.Operators.SandboxedContainers.CSV),
		TrusteeVersion:  config.CSVVersion(p.Operators.Trustee.CSV),
		InstanceSize:    p.Azure.InstanceSize,
		InstanceSizes:   strings.Join(p.Azure.InstanceSizes, ","),
		Tags:            p.Azure.SortedTags(),
		Region:          p.Azure.Region,
		ResourceGroup:   p.Azure.ResourceGroup,
		SubnetID:        p.Azure.SubnetID,
		NSGID:           p.Azure.NSGID,
		SecretResources: p.Trustee.SecretResources,
		PluginImage:     p.Plugin.Image,
		PluginName:      PluginName,
		PluginBase:      PluginBase,
		PluginVersion:   PluginVersion,
		PluginYAML:      PluginYAML(),
		AppsDomain:      p.AppsDomain,
		KBSCertificate:  p.Trustee.KBSCertificate,
	}
	if p.Azure.RootVolumeSizeGiB > 0 {
		v.RootVolumeSize = strconv.Itoa(p.Azure.RootVolumeSizeGiB)
	}
	return v
}

// forkTemplates maps each template under fork/ to its path in the fork; "" means the file is
// copied as it is.
func forkTemplates(v view) map[string]string {
	return map[string]string{
		"fork/values-global.yaml.tmpl":          "values-global.yaml",
		"fork/values-clustergroup.yaml.tmpl":    "values-" + v.ClusterGroup + ".yaml",
		"fork/values-secret.yaml.template.tmpl": "values-secret.yaml.template",
		"fork/bootstrap/pattern.yaml.tmpl":      "bootstrap/pattern.yaml",
		"fork/Makefile.tmpl":                    "Makefile",
		"fork/README.md.tmpl":                   "README.md",
		"fork/gitignore":                        ".gitignore",
		"fork/overrides/values-Azure.yaml":      "overrides/values-Azure.yaml",
		"fork/pattern-diff.yaml":                ".github/workflows/pattern-diff.yaml",
	}
}

// Scaffold builds the complete fork for a validated config. assets holds the product's
// charts/ and overlays/; configData is the config file as the user wrote it, kept in the fork.
func Scaffold(l *config.Loaded, configData []byte, assets fs.FS) (Tree, error) {
	v := newView(l)
	t := Tree{ConfigFile: configData, PluginYAMLPath: []byte(PluginYAML())}
	for src, dst := range forkTemplates(v) {
		data, err := forkFiles.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("read fork template %s: %w", src, err)
		}
		if strings.HasSuffix(src, ".tmpl") {
			if data, err = execTemplate(src, data, v); err != nil {
				return nil, err
			}
		}
		t[dst] = data
	}
	dirs := []string{SandboxChart, RBACChart, TrusteeChart, AzureOverlay}
	if v.HelloOpenshift {
		dirs = append(dirs, HelloChart)
	}
	if v.KBSAccess {
		dirs = append(dirs, KBSAccessChart)
	}
	for _, dir := range dirs {
		if err := t.AddFS(assets, dir); err != nil {
			return nil, err
		}
	}
	// Every generated YAML file must parse: a template bug must never reach a user's fork.
	for _, p := range t.Paths() {
		if (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yaml.template")) && !strings.Contains(p, "/templates/") {
			var n yaml.Node
			if err := yaml.Unmarshal(t[p], &n); err != nil {
				return nil, fmt.Errorf("generated %s is not valid YAML: %w", p, err)
			}
		}
	}
	return t, nil
}

func execTemplate(name string, text []byte, v view) ([]byte, error) {
	tmpl, err := template.New(path.Base(name)).Option("missingkey=error").Funcs(template.FuncMap{"q": quote, "indent": indent}).Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("parse fork template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("execute fork template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// quote renders s as a double-quoted YAML scalar, so no user value can change the structure.
func quote(s string) string {
	return strconv.Quote(s)
}

// indent prefixes every non-empty line of s with n spaces and drops the final newline.
func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}
