package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

type initOptions struct {
	config string
	force  bool
}

func newInitCmd(streams base.IOStreams) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init [--config FILE] [--force] DIR",
		Short: "Write a complete fork of the pattern into DIR",
		Long: "Write a complete fork of the Confidential Containers pattern into DIR: value files, charts,\n" +
			"overlays, a secrets template and a Makefile. Without --config the embedded default config\n" +
			"is used. DIR must be empty unless --force is given; nothing is written when anything fails.",
		Args: base.RangeArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := project.Init(cmd.Context(), o.config, args[0], o.force)
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.ErrOut, "wrote %d files to %s\n", n, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&o.config, "config", "", "pattern-gen config file (default: the embedded default)")
	cmd.Flags().BoolVar(&o.force, "force", false, "write into a non-empty DIR, replacing generated files and keeping others")
	return cmd
}
