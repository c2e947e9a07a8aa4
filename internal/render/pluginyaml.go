package render

import (
	"fmt"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/config"
)

// PluginYAMLPath is where a fork keeps the plugin's ConfigManagementPlugin definition; the same
// text is the sidecar's pluginConfig in the clusterGroup values.
const PluginYAMLPath = "cmp-plugin/plugin.yaml"

// PluginYAML is cmp-plugin's plugin.yaml: named and versioned (applications use
// plugin.name: cmp-plugin-v1.0), no discover rule (it would ship the repository a second time
// per request), the command as an argv array (no shell), every setting announced for the UI.
func PluginYAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata:\n  name: %s\nspec:\n  version: %s\n", PluginBase, PluginVersion)
	b.WriteString("  generate:\n    command: [cmp-plugin, generate]\n  parameters:\n    static:\n")
	for _, s := range config.PluginSettings {
		fmt.Fprintf(&b, "      - name: %s\n        title: %s\n        tooltip: %q\n", s.Param, titleOf(s.Param), s.Help+"; or plugin env "+s.Env)
	}
	return b.String()
}

// titleOf is a parameter's title for Argo CD's UI: its words, the first capitalised and
// acronyms in capitals (aws-sg-ids: AWS SG IDs).
func titleOf(param string) string {
	acronyms := map[string]string{"aws": "AWS", "id": "ID", "ids": "IDs", "sg": "SG", "vpc": "VPC", "nsg": "NSG"}
	words := strings.Split(param, "-")
	for i, w := range words {
		switch {
		case acronyms[w] != "":
			words[i] = acronyms[w]
		case i == 0:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
