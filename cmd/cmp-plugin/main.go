// Command cmp-plugin is the Argo CD config-management plugin of the Confidential Containers
// pattern: run by argocd-cmp-server in an application's folder, it renders the application and
// injects the Azure peer-pod settings resolved at sync time.
package main

import (
	"os"

	"github.com/pattern-gen/pattern-gen/internal/cli"
)

func main() {
	os.Exit(cli.CMPPluginMain(os.Args[1:], cli.StdStreams(), os.Getenv))
}
