package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

type initOptions struct {
	config, repoURL string
	force           bool
}

func newInitCmd(streams base.IOStreams) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init [--config FILE] [--repo-url URL] [--force] DIR",
		Short: "Write a complete fork of the pattern into DIR",
		Example: "  # the natural flow: create the repository on your hosting service, clone it, init in it\n" +
			"  git clone git@github.com:example-org/coco-pattern.git && cd coco-pattern\n" +
			"  pattern-gen init .\n\n" +
			"  # from your own config, read from standard input\n" +
			"  my-config-generator | pattern-gen init --config - --repo-url https://github.com/example-org/coco.git coco",
		Long: "Write a complete fork of the Confidential Containers pattern into DIR: value files, charts,\n" +
			"overlays, a secrets template and a Makefile. Without --config the embedded default config\n" +
			"is used. The fork's repository URL (git.repoURL, which the cluster deploys from) comes from\n" +
			"--repo-url, else the config, else DIR's origin remote when DIR is a clone of your fork.\n" +
			"DIR may be missing, empty, or a clone whose files init replaces are committed unchanged (a\n" +
			"README the hosting service made); other files are kept. --force overwrites generated files\n" +
			"whatever their state. Nothing is written when anything fails.",
		Args: base.RangeArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := project.Init(cmd.Context(), project.InitOptions{
				Config: o.config, Stdin: streams.In, Dir: args[0], RepoURL: o.repoURL, Force: o.force,
				Logf: func(format string, a ...any) { fmt.Fprintf(streams.ErrOut, format+"\n", a...) },
			})
			if err != nil {
				return err
			}
			for _, r := range res.Removed {
				fmt.Fprintf(streams.ErrOut, "removed (no longer generated): %s\n", r)
			}
			fmt.Fprintf(streams.ErrOut, "wrote %d files to %s\n", res.Written, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&o.config, "config", "", "pattern-gen config file, URL, or - for standard input (default: the embedded default)")
	cmd.Flags().StringVar(&o.repoURL, "repo-url", "", "URL of the fork's git repository (default: the config's git.repoURL, else DIR's origin remote)")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite generated files even when git does not hold them; other files are kept")
	return cmd
}
