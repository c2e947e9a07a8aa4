package render

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/pins"
)

//go:embed all:fork
var forkFiles embed.FS

// Plugin naming: Argo CD applications address the sidecar as <name>-<version>.
const (
	PluginBase    = "cmp-plugin"
	PluginVersion = "v1.0"
	PluginName    = PluginBase + "-" + PluginVersion
)

// The plugin sidecar's own service-account token: a projected volume mounted where client-go's
// in-cluster config reads it, because the repo-server pod gets no automounted token.
const (
	TokenVolume    = "cmp-plugin-sa-token"
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// Chart locations in the product's assets and in a fork (the same paths).
const (
	SandboxChart    = "charts/all/sandboxed-containers"
	RBACChart       = "charts/all/cmp-plugin-rbac"
	TrusteeChart    = "charts/hub/trustee"
	HelloChart      = "charts/coco-supported/hello-openshift"
	KBSAccessChart  = "charts/coco-supported/kbs-access"
	KBSPublishChart = "charts/hub/kbs-publish"
	BareMetalChart  = "charts/all/baremetal"
	AzureOverlay    = "overlays/azure"
	AWSOverlay      = "overlays/aws"
)

// ConfigFile is where a fork keeps the config it was generated from.
const ConfigFile = "pattern-gen.yaml"

// FirmwareFile is the bare-metal fork's launch reference values (global.coco.trustee.firmware),
// a Helm values file the trustee application lists; the user writes it (no tool here can
// compute a TD's or SNP guest's launch measurement), and without it no pod attests.
const FirmwareFile = "values-firmware.yaml"

// view is what the fork templates see: every value already checked by config validation.
type view struct {
	ConfigName                             string
	Name, ClusterGroup, RepoURL, Revision  string
	Backend, Flavour                       string
	Vault, HTTPS, Signed                   bool
	HelloOpenshift, KBSAccess              bool
	OSC, Trustee, ACM, NFD                 config.OperatorPin
	IntelDevicePluginsCSV, IntelTDXDCAPCSV string
	OSCVersion, TrusteeVersion             string
	Platform                               string
	PeerPods                               bool // Azure, AWS; not BareMetal
	Hardware                               hardwareView
	FirmwareFile                           string
	Overlay, ImageKey                      string // the platform's overlay, and the peer-pods-cm key the operator writes
	AWS                                    awsView
	InstanceSize, InstanceSizes            string
	Tags, RootVolumeSize, Egress           string
	Region, ResourceGroup, SubnetID, NSGID string
	SecretResources                        []string
	PluginImage, PluginName                string
	PluginPinned                           bool // PluginImage names its digest
	PluginBase, PluginVersion              string
	PluginYAML                             string
	TokenVolume, TokenMountPath            string
	MeasurementsFile                       string
	Pins                                   pins.Table // chart versions and other external pins
	AppsDomain, KBSCertificate             string
	// Role is what the clusterGroup file being written is: converged (one cluster), hub (the
	// trusted hub of a split topology) or spoke.
	Role                 string
	Split                bool
	HubGroup, SpokeGroup string
	// Lint lists, per clusterGroup, the fork's charts its applications deploy.
	Lint []lintGroup
}

// hardwareView is the bare-metal TEE profile (platform BareMetal).
type hardwareView struct {
	Profile  string
	TDX, SNP bool
}

// awsView is the aws settings as values-global.yaml writes them.
type awsView struct {
	InstanceType, InstanceTypes, AMIID, Region, SubnetID string
	SecurityGroupIDs, VPCID, Tags, RootVolumeSize        string
}

type lintGroup struct {
	Group  string
	Charts []string
}

func newView(l *config.Loaded) view {
	p := l.Pattern
	v := view{
		ConfigName:            ConfigFile,
		Name:                  p.Metadata.Name,
		ClusterGroup:          p.ClusterGroup,
		RepoURL:               p.Git.RepoURL,
		Revision:              p.Git.Revision,
		Backend:               p.SecretStore.Backend,
		Flavour:               p.Trustee.SecurityPolicyFlavour,
		Vault:                 p.SecretStore.Backend == "vault",
		HTTPS:                 config.Bool(p.Trustee.HTTPS, true),
		Signed:                p.Trustee.SecurityPolicyFlavour == "signed",
		HelloOpenshift:        config.Bool(p.Workloads.HelloOpenshift, true),
		KBSAccess:             config.Bool(p.Workloads.KBSAccess, false),
		OSC:                   p.Operators.SandboxedContainers,
		Trustee:               p.Operators.Trustee,
		ACM:                   p.Operators.ACM,
		NFD:                   p.Operators.NFD,
		IntelDevicePluginsCSV: config.IntelDevicePluginsCSV,
		IntelTDXDCAPCSV:       config.IntelTDXDCAPCSV,
		OSCVersion:            config.CSVVersion(p.Operators.SandboxedContainers.CSV),
		TrusteeVersion:        config.CSVVersion(p.Operators.Trustee.CSV),
		InstanceSize:          p.Azure.InstanceSize,
		InstanceSizes:         strings.Join(p.Azure.InstanceSizes, ","),
		Tags:                  p.Azure.SortedTags(),
		Egress:                p.Azure.Egress,
		Region:                p.Azure.Region,
		ResourceGroup:         p.Azure.ResourceGroup,
		SubnetID:              p.Azure.SubnetID,
		NSGID:                 p.Azure.NSGID,
		SecretResources:       p.Trustee.SecretResources,
		PluginImage:           p.Plugin.Image,
		PluginPinned:          config.PinnedByDigest(p.Plugin.Image),
		PluginName:            PluginName,
		PluginBase:            PluginBase,
		PluginVersion:         PluginVersion,
		PluginYAML:            PluginYAML(),
		TokenVolume:           TokenVolume,
		TokenMountPath:        TokenMountPath,
		MeasurementsFile:      measurements.File,
		AppsDomain:            p.AppsDomain,
		KBSCertificate:        p.Trustee.KBSCertificate,
		Role:                  RoleConverged,
		Split:                 p.Topology == config.TopologySplit,
		HubGroup:              p.ClusterGroup,
		SpokeGroup:            p.Spoke.ClusterGroup,
	}
	if p.Azure.RootVolumeSizeGiB > 0 {
		v.RootVolumeSize = strconv.Itoa(p.Azure.RootVolumeSizeGiB)
	}
	v.Platform, v.FirmwareFile = p.Platform, FirmwareFile
	if provider, ok := peerpods.ProviderOf(p.Platform); ok {
		v.PeerPods, v.Overlay, v.ImageKey = true, AzureOverlay, provider.ImageKey
	}
	if h, ok := config.HardwareProfileOf(p.Hardware.Profile); ok && p.Platform == config.PlatformBareMetal {
		v.Hardware = hardwareView{Profile: h.Name, TDX: slices.Contains(h.TEEs, config.TEETDX), SNP: slices.Contains(h.TEEs, config.TEESNP)}
	}
	if p.Platform == config.PlatformAWS {
		a := p.AWS
		v.Overlay = AWSOverlay
		v.AWS = awsView{
			InstanceType: a.InstanceType, InstanceTypes: strings.Join(a.InstanceTypes, ","), AMIID: a.AMIID,
			Region: a.Region, SubnetID: a.SubnetID, SecurityGroupIDs: strings.Join(a.SecurityGroupIDs, ","),
			VPCID: a.VPCID, Tags: a.SortedTags(),
		}
		if a.RootVolumeSizeGiB > 0 {
			v.AWS.RootVolumeSize = strconv.Itoa(a.RootVolumeSizeGiB)
		}
	}
	workloads := []string{RBACChart, SandboxChart}
	if v.Hardware.Profile != "" {
		workloads = append(workloads, BareMetalChart)
	}
	if v.HelloOpenshift {
		workloads = append(workloads, HelloChart)
	}
	if v.KBSAccess {
		workloads = append(workloads, KBSAccessChart)
	}
	if v.Split {
		v.Lint = []lintGroup{{v.HubGroup, []string{TrusteeChart, KBSPublishChart}}, {v.SpokeGroup, workloads}}
	} else {
		v.Lint = []lintGroup{{v.ClusterGroup, append([]string{TrusteeChart}, workloads...)}}
	}
	return v
}

// Roles of a clusterGroup file.
const (
	RoleConverged = "converged"
	RoleHub       = "hub"
	RoleSpoke     = "spoke"
)

// forkFile is one file of the fork made from a template under fork/ (copied as it is unless its
// name ends in .tmpl), seen with v.
type forkFile struct {
	src, dst string
	v        view
}

func forkTemplates(v view) []forkFile {
	files := []forkFile{
		{"fork/values-global.yaml.tmpl", "values-global.yaml", v},
		{"fork/values-secret.yaml.template.tmpl", "values-secret.yaml.template", v},
		{"fork/bootstrap/pattern.yaml.tmpl", "bootstrap/pattern.yaml", v},
		{"fork/Makefile.tmpl", "Makefile", v},
		{"fork/README.md.tmpl", "README.md", v},
		{"fork/gitignore", ".gitignore", v},
		{"fork/overrides/values-" + v.Platform + ".yaml", "overrides/values-" + v.Platform + ".yaml", v},
		{"fork/pattern-diff.yaml", ".github/workflows/pattern-diff.yaml", v},
	}
	if !v.Split {
		return append(files, forkFile{"fork/values-clustergroup.yaml.tmpl", "values-" + v.ClusterGroup + ".yaml", v})
	}
	hub, spoke := v, v
	hub.Role = RoleHub
	spoke.Role, spoke.ClusterGroup = RoleSpoke, v.SpokeGroup
	return append(files,
		forkFile{"fork/values-clustergroup.yaml.tmpl", "values-" + v.HubGroup + ".yaml", hub},
		forkFile{"fork/values-clustergroup.yaml.tmpl", "values-" + v.SpokeGroup + ".yaml", spoke})
}

// Scaffold builds the complete fork for a validated config. assets holds the product's
// charts/ and overlays/; configData is the config file as the user wrote it, kept in the fork.
func Scaffold(l *config.Loaded, configData []byte, assets fs.FS) (Tree, error) {
	v := newView(l)
	data, err := fs.ReadFile(assets, pins.File)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", pins.File, err)
	}
	if v.Pins, err = pins.Parse(data); err != nil {
		return nil, err
	}
	t := Tree{ConfigFile: configData, PluginYAMLPath: []byte(v.PluginYAML)}
	for _, f := range forkTemplates(v) {
		data, err := forkFiles.ReadFile(f.src)
		if err != nil {
			return nil, fmt.Errorf("read fork template %s: %w", f.src, err)
		}
		if strings.HasSuffix(f.src, ".tmpl") {
			if data, err = execTemplate(f.src, data, f.v); err != nil {
				return nil, err
			}
		}
		if _, dup := t[f.dst]; dup {
			return nil, fmt.Errorf("two fork files would be written to %s; check clusterGroup and spoke.clusterGroup in the config", f.dst)
		}
		t[f.dst] = data
	}
	var dirs []string
	if v.Overlay != "" {
		dirs = append(dirs, v.Overlay)
	}
	for _, g := range v.Lint {
		dirs = append(dirs, g.Charts...)
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
