// Command pattern-gen scaffolds, renders and reviews forks of the Confidential Containers
// Validated Pattern.
package main

import (
	"os"

	// TLS roots for when the system has none: the cmp-plugin image has an empty base, and its
	// egress Job runs `pattern-gen azure egress` against Azure's HTTPS endpoints. Roots the system
	// has (a laptop, a cluster's injected CA bundle) are used first.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/pattern-gen/pattern-gen/internal/cli"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
)

func main() {
	os.Exit(cli.PatternGenMain(os.Args[1:], base.StdStreams()))
}
