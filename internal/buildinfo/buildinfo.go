// Package buildinfo says which pattern-gen this is, from the build information the Go toolchain
// embeds: what `version` prints and what a fork's pattern-gen.lock records as its generator.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Set by a release build (make release-binaries, make image) with -ldflags -X: the version, and
// the cmp-plugin image that release published, so init can pin it by digest.
var (
	releaseVersion string // v1.2.3
	imageRepo      string // ghcr.io/pattern-gen/cmp-plugin
	imageDigest    string // sha256:<64 hex>, the index digest of that version's image
)

// PluginImage is the cmp-plugin image this binary's release published, by digest, and true; or
// "" and false for a build that does not know one (go install, a checkout).
func PluginImage() (string, bool) {
	if releaseVersion == "" || imageRepo == "" || imageDigest == "" {
		return "", false
	}
	return imageRepo + ":" + releaseVersion + "@" + imageDigest, true
}

// Version is the module version: the release's, v1.2.3 from `go install ...@v1.2.3`, or "devel"
// from a checkout.
func Version() string {
	if releaseVersion != "" {
		return releaseVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}

// String is Version with the VCS commit, whether the tree had changes (make build in a git
// checkout), and the Go version.
func String() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	switch {
	case len(rev) > 12:
		rev = rev[:12]
	case rev == "":
		rev = "unknown"
	}
	if modified == "true" {
		rev += ", modified"
	}
	return fmt.Sprintf("%s (commit %s, %s)", Version(), rev, bi.GoVersion)
}
