package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/review"
)

// markdownLimit keeps a Markdown diff under GitHub's 65,536-character comment limit.
const markdownLimit = 60000

type diffOptions struct {
	base, head, format string
	chart              chartFlags
	color              string
	env                []string
}

func newDiffCmd(streams base.IOStreams) *cobra.Command {
	var o diffOptions
	var checks []func() error
	cmd := &cobra.Command{
		Use:   "diff [--base REV] [--head REV] [--format text|markdown|json] [--set-env KEY=VALUE] [FORK]",
		Short: "Compare the rendered objects of a fork at two git revisions, without a cluster",
		Long: "Render the fork (default: the current directory) at two git revisions as render and\n" +
			"cmp-plugin would, and compare them object by object. --base defaults to the merge base\n" +
			"with the remote's default branch (or HEAD), --head to the working tree. Secret values are\n" +
			"redacted. The hub's clusterGroup includes the objects of the clustergroup chart each side\n" +
			"pins (see render; the header names the release and its digest, and says first when the\n" +
			"sides' charts differ); without the chart, the values those objects come from.\n" +
			"Exit code 0: no difference; 1: differences; 2: error.",
		Args: base.RangeArgs(0, 1),
		Example: "  # what the working tree changes, against the merge base with the default branch\n" +
			"  pattern-gen diff\n\n" +
			"  # a pull request's comment, in CI\n" +
			"  pattern-gen diff --base origin/main --head HEAD --format markdown > diff.md",
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, check := range checks {
				if err := check(); err != nil {
					return err
				}
			}
			if err := o.chart.check(); err != nil {
				return err
			}
			env, err := config.EnvFromPairs(o.env)
			if err != nil {
				return base.UsageError{Err: err}
			}
			ctx := cmd.Context()
			res, err := base.Await(ctx, func() (*review.Result, error) {
				return project.Diff(ctx, project.DiffOptions{Fork: forkArg(args), Base: o.base, Head: o.head, Env: env, Chart: o.chart.options(),
					Logf: func(format string, a ...any) { fmt.Fprintf(streams.ErrOut, format+"\n", a...) }})
			})
			if err != nil {
				return base.ExitErr{Code: 2, Err: err}
			}
			if o.head == "" {
				warnDrift(streams.ErrOut, forkArg(args))
			}
			var out string
			switch o.format {
			case "markdown":
				out = res.Markdown(markdownLimit)
			case "json":
				if out, err = res.JSON(); err != nil {
					return base.ExitErr{Code: 2, Err: err}
				}
			default:
				out = res.Text()
				if useColor(o.color, streams.Out) {
					out = review.Colorize(out)
				}
			}
			if err := base.Stopped(ctx); err != nil {
				return err
			}
			if _, err := io.WriteString(streams.Out, out); err != nil {
				return base.ExitErr{Code: 2, Err: err}
			}
			if !res.Empty() {
				return base.ExitErr{Code: 1} // like diff(1): differences found
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.base, "base", "", "base revision (default: merge base with the default branch, or HEAD)")
	cmd.Flags().StringVar(&o.head, "head", "", "head revision (default: the working tree)")
	cmd.Flags().StringVar(&o.format, "format", "text", "text, markdown or json")
	cmd.Flags().StringVar(&o.color, "color", "auto", "colour the text format: auto (on a terminal, unless NO_COLOR is set), always or never")
	cmd.Flags().StringArrayVar(&o.env, "set-env", nil, "plugin env of the Applications, KEY=VALUE (e.g. AZURE_REGION=eastus); repeatable")
	o.chart.add(cmd)
	checks = append(checks, oneOf(cmd, "color", "auto", "always", "never"), oneOf(cmd, "format", "text", "markdown", "json"))
	return cmd
}

// useColor decides colour as git and kubectl do: always, never, or auto (w is a terminal and
// NO_COLOR, https://no-color.org, is unset or empty).
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := w.(*os.File)
	return ok && os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(f.Fd()))
}
