package cli

import (
	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/config"
)

func newSchemaCmd(streams base.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "schema",
		Short:   "Print the JSON Schema of the pattern-gen config",
		Example: "  pattern-gen schema > pattern-gen.schema.json   # for an editor's YAML language server",
		Args:    base.RangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := config.Schema()
			if err != nil {
				return err
			}
			_, err = streams.Out.Write(s)
			return err
		},
	}
}
