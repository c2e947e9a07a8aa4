// Package cmpplugin is cmp-plugin's command line. It links only what a sync-time render needs,
// so the plugin, which Argo CD starts once per manifest request, starts fast.
package cmpplugin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
	"github.com/pattern-gen/pattern-gen/internal/refresh"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// clusterReadTimeout bounds discovery well inside Argo CD's default 60 s manifest deadline.
const clusterReadTimeout = 15 * time.Second

// MaxManifestBytes bounds the YAML stream cmp-plugin writes. Argo CD buffers a plugin's whole
// stdout, converts every object to JSON and passes them all in one gRPC message from the CMP
// server to the repo server and another to the application controller, each limited to
// 100 MiB by default (ARGOCD_GRPC_MAX_SIZE_MB; argo-cd v2.14 cmpserver/apiclient and
// reposerver/apiclient). JSON can be larger than its YAML (escaped long strings), so 64 MiB of
// YAML stays clear of that limit, and of the repo server's memory, while being thousands of
// times what a real application renders (sandboxed-containers: about 20 KiB).
const MaxManifestBytes = 64 << 20

// Main runs cmp-plugin, the Argo CD config-management plugin, and returns the exit code.
// getenv is os.Getenv in production; tests pass their own.
func Main(args []string, streams base.IOStreams, getenv func(string) string) int {
	root := base.NewRoot("cmp-plugin", "Argo CD config-management plugin of the Confidential Containers pattern")
	root.SetOut(streams.ErrOut) // help and usage never go to stdout, which Argo CD parses
	root.SetErr(streams.ErrOut)
	root.AddCommand(newGenerateCmd(streams, getenv), newRefreshCmd(streams, getenv))
	base.AddVersion(root)
	root.SetArgs(args)
	return base.Execute(root, "cmp-plugin", streams)
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
			return runGenerate(cmd.Context(), streams, getenv)
		},
	}
}

// runGenerate renders the application in the working directory and writes it to stdout, once,
// only when the render succeeded, fits MaxManifestBytes and no signal has come: Argo CD must
// never see partial output.
func runGenerate(ctx context.Context, streams base.IOStreams, getenv func(string) string) error {
	env, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	logf := base.Logger(ctx, streams.ErrOut, "cmp-plugin")
	out, err := base.Await(ctx, func() ([]byte, error) {
		return generate.Run(ctx, generate.Request{
			Dir: dir, Env: env, Logf: logf,
			Cluster: func(ctx context.Context, scope peerpods.Scope) (*peerpods.Cluster, []string) {
				cfg, err := cluster.RESTConfig(getenv)
				if err != nil {
					return nil, []string{"cluster discovery skipped: " + err.Error()}
				}
				ctx, cancel := context.WithTimeout(ctx, clusterReadTimeout)
				defer cancel()
				return cluster.Read(ctx, cfg, scope)
			},
		})
	})
	if err != nil {
		return err
	}
	return writeManifests(ctx, streams.Out, out, MaxManifestBytes)
}

func writeManifests(ctx context.Context, w io.Writer, out []byte, limit int) error {
	if len(out) > limit {
		return fmt.Errorf("the application renders %d bytes of manifests, more than the %d cmp-plugin passes to Argo CD (its gRPC messages hold 100 MiB by default); split the application or render fewer or smaller objects", len(out), limit)
	}
	if err := base.Stopped(ctx); err != nil {
		return err
	}
	_, err := bytes.NewReader(out).WriteTo(w)
	return err
}

func newRefreshCmd(streams base.IOStreams, getenv func(string) string) *cobra.Command {
	o := refresh.Options{Plugin: render.PluginBase}
	var every time.Duration
	var noPeerPods bool
	cmd := &cobra.Command{
		Use:   "refresh --namespace NS [--every DURATION] [--trusted-hub]",
		Short: "Hard-refresh the plugin applications whose cluster facts changed since their render",
		Long: "Read the cluster facts cmp-plugin renders from (cloud-conf on Azure, the Infrastructure and\n" +
			"worker MachineSets on AWS, the apps domain, the KBS\n" +
			"certificate, the live peer-pods-cm) and hard-refresh every Application in NS rendered by\n" +
			"the plugin whose recorded digest of those facts differs, so Argo CD renders it again.\n" +
			"Once, or every DURATION until stopped (the cmp-plugin-refresher Deployment).",
		Args: base.RangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Namespace == "" {
				return base.UsageError{Err: fmt.Errorf("--namespace is required: the Argo CD namespace of the plugin applications")}
			}
			cfg, err := cluster.RESTConfig(getenv)
			if err != nil {
				return err
			}
			o.Scope.PeerPods = !noPeerPods
			if _, ok := peerpods.ProviderOf(o.Scope.Platform); !ok && o.Scope.PeerPods {
				return base.UsageError{Err: fmt.Errorf("--platform %q: peer pods run on Azure or AWS; a cluster without them takes --no-peer-pods", o.Scope.Platform)}
			}
			o.Logf = base.Logger(cmd.Context(), streams.ErrOut, "cmp-plugin refresh")
			return refresh.Run(cmd.Context(), cfg, o, every)
		},
	}
	cmd.Flags().StringVar(&o.Namespace, "namespace", "", "the Argo CD namespace of the plugin applications")
	cmd.Flags().DurationVar(&every, "every", 0, "refresh every DURATION until stopped (0: once)")
	cmd.Flags().BoolVar(&o.Scope.TrustedHub, "trusted-hub", false, "a spoke of a split topology: read the KBS facts the trusted hub publishes")
	cmd.Flags().StringVar(&o.Scope.Platform, "platform", config.DefaultPlatform, "the cluster's platform (Azure or AWS): which cloud objects hold the peer-pods settings")
	cmd.Flags().BoolVar(&noPeerPods, "no-peer-pods", false, "the cluster runs no sandboxed containers (a trusted hub): do not read peer-pods-cm")
	return cmd
}
