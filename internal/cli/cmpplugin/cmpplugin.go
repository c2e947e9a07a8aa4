// Package cmpplugin is cmp-plugin's command line. It links only what a sync-time render needs,
// so the plugin, which Argo CD starts once per manifest request, starts fast.
package cmpplugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
)

// clusterReadTimeout bounds discovery well inside Argo CD's default 60 s manifest deadline.
const clusterReadTimeout = 15 * time.Second

// Main runs cmp-plugin, the Argo CD config-management plugin, and returns the exit code.
// getenv is os.Getenv in production; tests pass their own.
func Main(args []string, streams base.IOStreams, getenv func(string) string) int {
	root := base.NewRoot("cmp-plugin", "Argo CD config-management plugin of the Confidential Containers pattern")
	root.SetOut(streams.ErrOut) // help and usage never go to stdout, which Argo CD parses
	root.SetErr(streams.ErrOut)
	root.AddCommand(newGenerateCmd(streams, getenv))
	root.SetArgs(args)
	return base.ExitCode(root.Execute(), "cmp-plugin", streams)
}

func newGenerateCmd(streams base.IOStreams, getenv func(string) string) *cobra.Command {
	return &cobra.Command{
		Use:   "generate",
		Short: "Render the application in the working directory to a YAML stream on stdout",
		Long: "Render the application in the working directory (Argo CD's CMP server runs the plugin in\n" +
			"the application's folder) with the fork's value files, peer-pod settings resolved from\n" +
			"plugin parameters, plugin env, the cluster and the fork's values, in that order.\n" +
			"Writes the objects to stdout only when everything succeeded.",
		Args: base.RangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := config.FromEnv(getenv)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			dir, err := os.Getwd()
			if err != nil {
				return err
			}
			logf := func(format string, a ...any) { fmt.Fprintf(streams.ErrOut, "cmp-plugin: "+format+"\n", a...) }
			out, err := generate.Run(ctx, generate.Request{
				Dir: dir, Env: env, Logf: logf,
				Cluster: func(ctx context.Context, trustedHub bool) (*peerpods.Cluster, []string) {
					cfg, err := cluster.RESTConfig(getenv)
					if err != nil {
						return nil, []string{"cluster discovery skipped: " + err.Error()}
					}
					ctx, cancel := context.WithTimeout(ctx, clusterReadTimeout)
					defer cancel()
					return cluster.Read(ctx, cfg, trustedHub)
				},
			})
			if err != nil {
				return err
			}
			// One write, only after success: Argo CD must never see partial output.
			_, err = bytes.NewReader(out).WriteTo(streams.Out)
			return err
		},
	}
}
