package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

func newUpdateCmd(streams base.IOStreams) *cobra.Command {
	var o project.UpdateOptions
	cmd := &cobra.Command{
		Use:   "update [--dry-run] [FORK]",
		Short: "Regenerate the fork from its pattern-gen.yaml, keeping your edits",
		Long: "Regenerate the fork in the current directory (or FORK) from its pattern-gen.yaml with this\n" +
			"pattern-gen, merging file by file as git does: the base is what pattern-gen last generated\n" +
			"(recorded in pattern-gen.lock), yours is the file now, theirs is what it generates now.\n" +
			"A file you never edited is replaced; your edits are kept where they do not overlap a\n" +
			"change; where they do, the file is left with conflict markers (<<<<<<< yours, =======,\n" +
			">>>>>>> pattern-gen), listed, and update exits 1. Files pattern-gen does not generate are\n" +
			"never touched; a generated file you edited that is no longer generated is kept.",
		Example: "  # change a VM size, then regenerate and review\n" +
			"  $EDITOR pattern-gen.yaml\n" +
			"  pattern-gen update\n" +
			"  git diff\n\n" +
			"  # see what update would do, writing nothing\n" +
			"  pattern-gen update --dry-run",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Fork = forkArg(args)
			res, err := project.Update(cmd.Context(), o)
			if err != nil {
				return err
			}
			printUpdate(streams.Out, res)
			if len(res.NoBase) > 0 {
				fmt.Fprintf(streams.ErrOut, "note: what pattern-gen last generated in %s is unknown (no record in pattern-gen.lock): every difference from the new output is a conflict\n", strings.Join(res.NoBase, ", "))
			}
			verb := "updated"
			if o.DryRun {
				verb = "would update"
			}
			switch {
			case len(res.Conflicts) > 0:
				what := fmt.Sprintf("%d conflicts", len(res.Conflicts))
				if len(res.Conflicts) == 1 {
					what = "1 conflict"
				}
				return fmt.Errorf("%s %s with %s (%s): resolve the conflict markers, run pattern-gen validate, then commit", verb, o.Fork, what, strings.Join(res.Conflicts, ", "))
			case !res.Changed:
				fmt.Fprintf(streams.ErrOut, "%s is up to date with its pattern-gen.yaml (%s)\n", o.Fork, res.To)
			default:
				fmt.Fprintf(streams.ErrOut, "%s %s from its pattern-gen.yaml (%s); review with git diff and commit\n", verb, o.Fork, res.To)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "say what update would do, write nothing")
	return cmd
}

// printUpdate lists what update did to each file, one per line, like git's merge output.
func printUpdate(w io.Writer, res *project.UpdateResult) {
	for _, g := range []struct {
		what  string
		files []string
	}{
		{"written", res.Written},
		{"merged (your edits kept)", res.Merged},
		{"CONFLICT", res.Conflicts},
		{"removed (no longer generated)", res.Removed},
		{"kept (no longer generated; you edited it, or pattern-gen cannot tell it made it)", res.Kept},
		{"left deleted (you deleted it)", res.Deleted},
	} {
		for _, f := range g.files {
			fmt.Fprintf(w, "%s: %s\n", g.what, f)
		}
	}
}

// warnDrift warns when the generated files of the fork no longer match its pattern-gen.yaml
// (render and diff still work on the files as they are; validate fails on it).
func warnDrift(w io.Writer, fork string) {
	d := project.CheckDrift(fork)
	for _, m := range []string{d.Problem(project.UpdateCommand(fork)), d.Warning(project.UpdateCommand(fork))} {
		if m != "" {
			fmt.Fprintf(w, "warning: %s\n", m)
		}
	}
}
