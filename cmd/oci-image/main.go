// Command oci-image builds, pushes and unpacks the cmp-plugin sidecar image without a container
// engine (make image, make image-push; the release workflow and e2e use it). It is a build tool
// of this repository, not part of a release.
package main

import (
	"os"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cli/ociimagecli"
)

func main() {
	os.Exit(ociimagecli.Main(os.Args[1:], base.StdStreams()))
}
