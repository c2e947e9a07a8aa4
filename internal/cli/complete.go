package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

// oneOf makes flag take one of values (or its default): the shell completes them, and the
// returned check is the usage error for anything else. One list serves both.
func oneOf(cmd *cobra.Command, flag string, values ...string) func() error {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	return func() error {
		f := cmd.Flag(flag)
		if v := f.Value.String(); v != f.DefValue && !slices.Contains(values, v) || f.DefValue != "" && v == "" {
			name := "--" + flag
			if f.Shorthand != "" {
				name = "-" + f.Shorthand
			}
			return base.UsageError{Err: fmt.Errorf("%s %q: use %s", name, v, orList(values))}
		}
		return nil
	}
}

// orList is "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// completeForks completes the FORK (or DIR) argument with folders.
func completeForks(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeClusterGroups completes --cluster-group with the clusterGroups of the fork the
// command names (or the current directory).
func completeClusterGroups(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	groups, err := project.ClusterGroups(forkArg(args))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return groups, cobra.ShellCompDirectiveNoFileComp
}

// completeApps completes --app with the applications of the fork's clusterGroup (the one
// --cluster-group names, else the hub's), as Argo CD names them.
func completeApps(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	group, _ := cmd.Flags().GetString("cluster-group")
	apps, err := project.ApplicationNames(forkArg(args), group)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return apps, cobra.ShellCompDirectiveNoFileComp
}

// addCompletions gives every command that takes a fork folder completion, and
// --cluster-group the fork's clusterGroups.
func addCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if strings.HasSuffix(c.Use, "[FORK]") || strings.HasSuffix(c.Use, " DIR") {
			c.ValidArgsFunction = completeForks
		}
		if c.Flags().Lookup("cluster-group") != nil {
			_ = c.RegisterFlagCompletionFunc("cluster-group", completeClusterGroups)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
