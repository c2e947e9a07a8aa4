// Command pattern-gen scaffolds, renders and reviews forks of the Confidential Containers
// Validated Pattern.
package main

import (
	"os"

	"github.com/pattern-gen/pattern-gen/internal/cli"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/fetch"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

func main() {
	project.Fetch = fetch.Remote // remote configs and schemas; cmp-plugin does without
	os.Exit(cli.PatternGenMain(os.Args[1:], base.StdStreams()))
}
