package base

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/buildinfo"
)

// BuildVersion says what binary this is: version, commit and Go version.
func BuildVersion() string { return buildinfo.String() }

// AddVersion gives root a --version flag and a version subcommand, both printing
// "<name> <BuildVersion>" where root prints its help (cmp-plugin: stderr, as Argo CD parses
// its stdout).
func AddVersion(root *cobra.Command) {
	root.Version = BuildVersion()
	root.SetVersionTemplate(root.Name() + " {{.Version}}\n")
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", root.Name(), BuildVersion())
			return err
		},
	})
}
