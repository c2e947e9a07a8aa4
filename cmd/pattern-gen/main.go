// Command pattern-gen scaffolds, renders and reviews forks of the Confidential Containers
// Validated Pattern.
package main

import (
	"os"

	"github.com/pattern-gen/pattern-gen/internal/cli"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
)

func main() {
	os.Exit(cli.PatternGenMain(os.Args[1:], base.StdStreams()))
}
