package base

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// BuildVersion says what binary this is, from the build information the Go toolchain embeds:
// the module version (v1.2.3 from `go install ...@v1.2.3`, "devel" from a checkout), the VCS
// commit and whether the tree had changes (make build in a git checkout), and the Go version.
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
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
	return fmt.Sprintf("%s (commit %s, %s)", v, rev, bi.GoVersion)
}

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
