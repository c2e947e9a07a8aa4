// Command cmp-plugin is the Argo CD config-management plugin of the Confidential Containers
// pattern: run by argocd-cmp-server in an application's folder, it renders the application and
// injects the Azure peer-pod settings resolved at sync time.
package main

import (
	"os"
	"runtime/debug"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cli/cmpplugin"
)

func main() {
	// Argo CD starts the plugin once per manifest request and it lives for one application's
	// render, peaking far below the sidecar's memory: collecting at the default pace costs
	// time and saves nothing. The soft limit still brings the collector in for a huge fork.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
	os.Exit(cmpplugin.Main(os.Args[1:], base.StdStreams(), os.Getenv))
}
