package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"golang.org/x/text/width"
	"k8s.io/client-go/dynamic"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/pattern-gen/pattern-gen/internal/argocd"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/cluster"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

// clusterFlags are kubectl's flags for reaching a cluster and the pattern's namespace.
type clusterFlags struct {
	kubeconfig, context, namespace, group string
}

func (f *clusterFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context to use")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "namespace of the pattern's Argo CD applications (default: <pattern>-<clusterGroup> from the fork)")
	cmd.Flags().StringVar(&f.group, "cluster-group", "", "clusterGroup the cluster runs (default: main.clusterGroupName, the hub); with a split topology, a spoke's group with a spoke's kubeconfig context")
}

// client builds the Applications client for the fork in args (default ".").
func (f *clusterFlags) client(args []string) (*argocd.Client, error) {
	fork := forkArg(args)
	p, err := project.ReadPatternOf(fork, f.group)
	if err != nil {
		return nil, err
	}
	ns := f.namespace
	if ns == "" {
		ns = p.Name + "-" + p.ClusterGroup
	}
	cfg, err := cluster.UserConfig(f.kubeconfig, f.context)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &argocd.Client{Dyn: dyn, Namespace: ns, Pattern: p.Name}, nil
}

func newStatusCmd(streams base.IOStreams) *cobra.Command {
	var f clusterFlags
	var output, refresh string
	var checks []func() error
	cmd := &cobra.Command{
		Use:   "status [-o table|wide|json|yaml] [--refresh normal|hard] [FORK]",
		Short: "Show the sync status and health of the pattern's Argo CD applications",
		Example: "  pattern-gen status\n" +
			"  pattern-gen status -o wide --cluster-group spoke --context spoke-admin\n" +
			"  # after a change on the cluster the plugin reads (cloud-conf, the KBS certificate)\n" +
			"  pattern-gen status --refresh hard",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, check := range checks {
				if err := check(); err != nil {
					return err
				}
			}
			c, err := f.client(args)
			if err != nil {
				return err
			}
			if refresh != "" {
				if err := c.Refresh(cmd.Context(), refresh); err != nil {
					return err
				}
			}
			apps, err := c.List(cmd.Context())
			if err != nil {
				return err
			}
			switch output {
			case "json":
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(apps)
			case "yaml":
				data, err := sigsyaml.Marshal(apps)
				if err != nil {
					return err
				}
				_, err = streams.Out.Write(data)
				return err
			}
			writeTable(streams.Out, apps, output == "wide")
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, wide, json or yaml")
	cmd.Flags().StringVar(&refresh, "refresh", "", "first ask Argo CD to compare again: normal, or hard (render again, bypassing its manifest cache)")
	checks = append(checks, oneOf(cmd, "output", "table", "wide", "json", "yaml"), oneOf(cmd, "refresh", "normal", "hard"))
	return cmd
}

// writeTable prints the applications; wide adds the last operation and shows the full
// revision and message, as kubectl's -o wide adds columns.
func writeTable(w io.Writer, apps []argocd.App, wide bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if wide {
		fmt.Fprintln(tw, "APPLICATION\tWAVE\tSYNC\tHEALTH\tOPERATION\tFINISHED\tREVISION\tMESSAGE")
	} else {
		fmt.Fprintln(tw, "APPLICATION\tWAVE\tSYNC\tHEALTH\tREVISION\tMESSAGE")
	}
	for _, a := range apps {
		rev, msg := a.Revision, firstLine(a.Message)
		if !wide {
			if len(rev) > 8 {
				rev = rev[:8]
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", a.Name, a.Wave, a.Sync, a.Health, rev, msg)
			continue
		}
		finished := ""
		if !a.FinishedAt.IsZero() {
			finished = a.FinishedAt.UTC().Format(time.RFC3339)
		}
		msg = strings.ReplaceAll(a.Message, "\n", " ")
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Wave, a.Sync, a.Health, a.Operation, finished, rev, msg)
	}
	tw.Flush()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > 100 {
		s = string(r[:97]) + "..."
	}
	return s
}

func newSyncCmd(streams base.IOStreams) *cobra.Command {
	var f clusterFlags
	var prune bool
	var apps []string
	var timeout time.Duration
	var refresh string
	var checkRefresh func() error
	cmd := &cobra.Command{
		Use: "sync [--prune] [--refresh normal|hard] [--app NAME]... [FORK]",
		Example: "  pattern-gen sync && pattern-gen wait\n" +
			"  pattern-gen sync --app trustee --refresh hard",
		Short: "Ask Argo CD to sync the pattern's applications, wave by wave",
		Long: "Set a sync operation on the pattern's applications (or those named with --app), in the\n" +
			"order of their sync waves: a wave is requested once the operations of the waves before it\n" +
			"have ended. Use `pattern-gen wait` to wait for the result.",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRefresh(); err != nil {
				return err
			}
			c, err := f.client(args)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if refresh != "" {
				// The sync is requested only once Argo CD has compared again, so a hard refresh
				// syncs what the plugin renders now (cluster inputs read afresh), not its cache.
				if err := c.Refresh(ctx, refresh, apps...); err != nil {
					return err
				}
				if err := c.WaitRefreshed(ctx, time.Second, apps...); err != nil {
					return err
				}
			}
			return c.Sync(ctx, apps, prune, func(r argocd.SyncRequest) {
				if len(r.Apps) > 0 {
					fmt.Fprintf(streams.Out, "wave %d: sync requested for %s\n", r.Wave, strings.Join(r.Apps, ", "))
				}
				for app, why := range r.Skipped {
					fmt.Fprintf(streams.Out, "wave %d: %s skipped: %s\n", r.Wave, app, why)
				}
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&prune, "prune", false, "delete resources Argo CD manages that are no longer rendered")
	cmd.Flags().StringArrayVar(&apps, "app", nil, "sync only this application (repeatable)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long to wait for Argo CD's refresh and for earlier waves")
	cmd.Flags().StringVar(&refresh, "refresh", "", "first ask Argo CD to compare again: normal, or hard (render again, bypassing its manifest cache)")
	checkRefresh = oneOf(cmd, "refresh", "normal", "hard")
	_ = cmd.RegisterFlagCompletionFunc("app", completeApps)
	return cmd
}

func newWaitCmd(streams base.IOStreams) *cobra.Command {
	var f clusterFlags
	var timeout, grace time.Duration
	var want string
	var checkFor func() error
	cmd := &cobra.Command{
		Use:   "wait [--timeout 30m] [--for synced|healthy] [--degraded-grace 5m] [FORK]",
		Short: "Wait until every application of the pattern is synced (and healthy)",
		Long: "Wait until every application of the pattern is synced (--for synced) or synced and healthy\n" +
			"(the default), showing their state: a table redrawn in place on a terminal, a line per\n" +
			"change (with its message) otherwise. It fails at once when an operation ends Failed or\n" +
			"Error while it waits, and when an application stays Degraded for --degraded-grace (a\n" +
			"rollout passes through Degraded; a broken one stays). Exit 0: done; 1: failed, degraded or\n" +
			"timed out.",
		Example: "  pattern-gen wait --timeout 45m\n" +
			"  pattern-gen wait --for synced --cluster-group spoke --context spoke-admin",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFor(); err != nil {
				return err
			}
			c, err := f.client(args)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			apps, err := c.Wait(ctx, argocd.WaitOptions{For: want, Interval: 2 * time.Second, DegradedGrace: grace, Progress: progressPrinter(streams.ErrOut)})
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "all %d applications are %s\n", len(apps), want)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up after this long")
	cmd.Flags().StringVar(&want, "for", "healthy", "synced, or healthy (synced and healthy)")
	cmd.Flags().DurationVar(&grace, "degraded-grace", 5*time.Minute, "fail when an application stays Degraded this long (0: never)")
	checkFor = oneOf(cmd, "for", "synced", "healthy")
	return cmd
}

// progressPrinter redraws the table in place on a terminal, each line cut to the terminal's
// width so that none wraps (a wrapped line would make the redraw miscount and repeat the
// header); elsewhere it prints a line for each application whose state changed, with its
// message, so a log or CI job shows why.
func progressPrinter(w io.Writer) func([]argocd.App) {
	f, isFile := w.(*os.File)
	tty := isFile && term.IsTerminal(int(f.Fd()))
	last := map[string]string{}
	drawn := 0
	return func(apps []argocd.App) {
		if tty {
			width, _, err := term.GetSize(int(f.Fd()))
			if err != nil || width <= 0 {
				width = 80
			}
			var b strings.Builder
			writeTable(&b, apps, false)
			if drawn > 0 {
				fmt.Fprintf(w, "\033[%dA\033[J", drawn)
			}
			table := fitWidth(b.String(), width)
			io.WriteString(w, table)
			drawn = strings.Count(table, "\n")
			return
		}
		for _, a := range apps {
			state := a.Sync + "/" + a.Health + "/" + a.Operation + "/" + a.Message
			if last[a.Name] != state {
				last[a.Name] = state
				fmt.Fprintf(w, "%s %s: %s, %s%s%s\n", time.Now().UTC().Format("15:04:05"), a.Name, a.Sync, a.Health, opSuffix(a), messageSuffix(a))
			}
		}
	}
}

// fitWidth cuts every line of text to at most width-1 terminal columns (the last column would
// make some terminals wrap), counting wide characters as two, and marks a cut line with "...".
// The text is already printable (argocd.Printable): no escape sequence is cut in half.
func fitWidth(text string, width int) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		if columns(body) <= width-1 || width <= 4 {
			continue
		}
		cols, cut := 0, 0
		for j, r := range body {
			if cols+runeColumns(r) > width-4 {
				cut = j
				break
			}
			cols += runeColumns(r)
		}
		lines[i] = body[:cut] + "..." + l[len(body):]
	}
	return strings.Join(lines, "")
}

// columns is how many terminal columns s takes.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n += runeColumns(r)
	}
	return n
}

func runeColumns(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

func messageSuffix(a argocd.App) string {
	if a.Message == "" {
		return ""
	}
	return ": " + strings.ReplaceAll(a.Message, "\n", " ")
}

func opSuffix(a argocd.App) string {
	if a.Operation == "" {
		return ""
	}
	return " (operation " + a.Operation + ")"
}
