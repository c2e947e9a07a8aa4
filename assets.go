// Package patterngen exposes the files pattern-gen ships inside its binary: the charts, the
// kustomize overlays and the default config. It lives at the repository root because
// //go:embed cannot reach parent directories.
package patterngen

import (
	"embed"
	"io/fs"
)

//go:embed all:charts all:overlays values/coco-pattern.yaml values/pins.yaml
var assets embed.FS

// Assets returns the embedded charts/, overlays/ and values/ trees.
func Assets() fs.FS { return assets }

// DefaultConfigName is the name under which the embedded default config is reported.
const DefaultConfigName = "values/coco-pattern.yaml"

// DefaultConfig returns the embedded default config.
func DefaultConfig() []byte {
	data, err := assets.ReadFile(DefaultConfigName)
	if err != nil {
		panic("embedded default config missing: " + err.Error()) // a build defect, not input
	}
	return data
}
