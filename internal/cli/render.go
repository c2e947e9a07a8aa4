package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

type renderOptions struct {
	chart  chartFlags
	out    string
	config string
	check  bool
	env    []string
	group  string
}

func newRenderCmd(streams base.IOStreams) *cobra.Command {
	var o renderOptions
	cmd := &cobra.Command{
		Use:   "render [--out DIR] [--config FILE] [FORK]",
		Short: "Render every application of a fork into Kubernetes objects, without a cluster",
		Example: "  pattern-gen render --out rendered            # the fork in the current directory\n" +
			"  pattern-gen render --check --out rendered    # in CI: fail when rendered/ is stale\n" +
			"  pattern-gen render --cluster-group spoke --set-env AZURE_REGION=eastus | less\n" +
			"  pattern-gen render --config my-config.yaml   # preview a config, no fork needed\n" +
			"  pattern-gen render --clustergroup-chart ../clustergroup-chart   # a chart you are changing",
		Long: "Render every application of every clusterGroup of the fork (the hub's and, with a split\n" +
			"topology, the spokes') that points at a chart in the fork, with Helm and kustomize\n" +
			"in-process and the value files the clustergroup chart passes: the fork in the current\n" +
			"directory, or FORK; with --config FILE, the fork that config would scaffold (a preview,\n" +
			"no fork needed). Values only the cluster knows render as <cluster-provided: ...>\n" +
			"placeholders.\n" +
			"The hub's clusterGroup also renders the clustergroup chart the fork pins (its Namespaces,\n" +
			"Subscriptions, Applications, the ArgoCD CR) as the patterns operator has it rendered, as\n" +
			"application clustergroup: resolved in the chart repository (--clustergroup-chart) and\n" +
			"cached under the user cache directory. Offline with nothing cached, it is left out with a\n" +
			"note, and --out keeps the committed clustergroup folder as it is.\n" +
			"Without --out, one YAML stream goes to stdout (a comment heads each clusterGroup's part\n" +
			"when there are several; --cluster-group keeps one); with --out, one file per object is\n" +
			"written to DIR/<clusterGroup>/<application>/<kind>-<namespace>-<name>.yaml, replacing an\n" +
			"earlier render there.",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && o.config != "" {
				return base.UsageError{Err: fmt.Errorf("give either FORK or --config, not both")}
			}
			if o.check && o.out == "" {
				return base.UsageError{Err: fmt.Errorf("--check needs --out DIR, the committed render to check")}
			}
			if o.group != "" && o.out != "" {
				return base.UsageError{Err: fmt.Errorf("--cluster-group selects what goes to stdout; --out always holds every clusterGroup")}
			}
			if err := o.chart.check(); err != nil {
				return err
			}
			env, err := config.EnvFromPairs(o.env)
			if err != nil {
				return base.UsageError{Err: err}
			}
			// The fork in the current directory unless one is named; --config previews a
			// config without a fork.
			src := project.Source{Config: o.config, Env: env, Group: o.group, Chart: o.chart.options(),
				Logf: func(format string, a ...any) { fmt.Fprintf(streams.ErrOut, format+"\n", a...) }}
			if o.config == "" {
				src.Fork = forkArg(args)
			}
			// The Helm engine cannot be stopped: the render runs aside and a signal ends the
			// command at once (base.Await); nothing is printed or written after that.
			ctx := cmd.Context()
			res, err := base.Await(ctx, func() (*project.Rendered, error) { return project.Render(ctx, src) })
			if err != nil {
				return err
			}
			if src.Fork != "" {
				warnDrift(streams.ErrOut, src.Fork)
			}
			if o.check {
				report, err := base.Await(ctx, func() (string, error) { return project.CheckRendered(o.out, res) })
				if err == nil {
					err = base.Stopped(ctx)
				}
				if err != nil {
					return err
				}
				if report != "" {
					_, _ = io.WriteString(streams.Out, report)
					fix := "pattern-gen render --out " + o.out
					if len(args) == 1 {
						fix += " " + args[0]
					}
					why := ""
					if c := res.Chart; c != nil {
						// A range pin follows new chart releases: say which one this render used.
						why = fmt.Sprintf(" (the clustergroup chart pinned %q resolved to %s)", c.Pin, c.Version)
					}
					return fmt.Errorf("%s is out of date%s: run %s and commit the result", o.out, why, fix)
				}
				fmt.Fprintf(streams.ErrOut, "%s is up to date (%d objects of %d applications)\n", o.out, res.Objects, len(res.Applications))
				return nil
			}
			if err := base.Stopped(ctx); err != nil {
				return err
			}
			if o.out == "" {
				if len(res.Groups) > 1 {
					fmt.Fprintf(streams.ErrOut, "note: the stream holds %d clusterGroups (%s), each part headed by a comment; apply each part on its own clusters, or pass --cluster-group\n", len(res.Groups), strings.Join(res.Groups, ", "))
				}
				_, err = streams.Out.Write(res.Stream)
				return err
			}
			// Once started, the write (staged, then renamed) is finished even if a signal comes.
			if err := project.WriteRendered(o.out, res); err != nil {
				return err
			}
			fmt.Fprintf(streams.ErrOut, "rendered %d objects of %d applications to %s\n", res.Objects, len(res.Applications), o.out)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "write one file per object into this directory")
	cmd.Flags().StringVar(&o.config, "config", "", "render the fork this config would scaffold (default: the embedded default)")
	cmd.Flags().BoolVar(&o.check, "check", false, "compare with the render committed in --out instead of writing; exit 1 when it is stale")
	o.chart.add(cmd)
	cmd.Flags().StringVar(&o.group, "cluster-group", "", "print only this clusterGroup's objects (e.g. a split fork's spoke)")
	cmd.Flags().StringArrayVar(&o.env, "set-env", nil, "plugin env of the Applications, KEY=VALUE (e.g. AZURE_REGION=eastus); repeatable")
	return cmd
}
