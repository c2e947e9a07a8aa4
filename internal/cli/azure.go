package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/azure"
	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

// azureCheckExit is the exit code when the check cannot run (no cluster, no credentials).
const azureCheckExit = 2

func newAzureCmd(streams base.IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "azure", Short: "Check and prepare the Azure subscription peer pods run in"}
	var kubeconfig, kubeContext, output, subnetID, location, pattern string
	var checkOutput func() error
	flags := func(c *cobra.Command) {
		c.Flags().StringVar(&kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
		c.Flags().StringVar(&kubeContext, "context", "", "kubeconfig context to use")
	}
	prepare := func(ctx context.Context, args []string) (project.AzureOptions, error) {
		return project.PrepareAzure(ctx, project.AzureSource{Kubeconfig: kubeconfig, Context: kubeContext, Fork: forkArg(args),
			SubnetID: subnetID, Location: location, Pattern: pattern,
			Logf: func(f string, a ...any) { fmt.Fprintf(streams.ErrOut, f+"\n", a...) }})
	}
	check := &cobra.Command{
		Use:   "check [--kubeconfig FILE] [--context NAME] [-o table|json] [FORK]",
		Short: "Check, read-only, what peer pods need of the cluster's Azure subscription",
		Example: "  az login && oc login ... && pattern-gen azure check\n" +
			"  pattern-gen azure check -o json | jq '.[] | select(.status != \"ok\")'",
		Long: "Read cloud-conf, peer-pods-cm and the worker nodes of the cluster in your kubeconfig, and,\n" +
			"with the Azure credentials the Azure SDK finds (az login, environment, workload or managed\n" +
			"identity), check: each instance size of the fork in the current directory (or FORK; else\n" +
			"of peer-pods-cm) offered in the region and not restricted; vCPU quota for\n" +
			"PEERPODS_LIMIT_PER_NODE pod VMs on every worker; the worker subnet's outbound path (a NAT\n" +
			"gateway); the NSG letting the VXLAN and agent ports through; the pod VM image. Changes\n" +
			"nothing. Exit 0: ready; 1: problems, each with its fix; 2: it could not check.",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			o, err := prepare(cmd.Context(), args)
			var findings []azure.Finding
			if err == nil {
				findings, err = project.AzureCheck(cmd.Context(), o)
			}
			if errors.Is(err, project.ErrCannotCheck) {
				return base.ExitErr{Code: azureCheckExit, Err: err}
			}
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(findings); err != nil {
					return err
				}
			} else {
				printFindings(streams.Out, findings)
			}
			var problems []string
			for _, f := range findings {
				if f.Status == azure.Problem {
					problems = append(problems, fmt.Sprintf("%s %s: %s; %s", f.Check, f.Subject, f.Detail, f.Fix))
				}
			}
			if len(problems) > 0 {
				return base.ExitErr{Code: base.ExitError, Err: fmt.Errorf("%d problem(s):\n%s", len(problems), strings.Join(problems, "\n"))}
			}
			return nil
		},
	}
	flags(check)
	check.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	checkOutput = oneOf(check, "output", "table", "json")
	egress := &cobra.Command{
		Use:     "egress [--kubeconfig FILE] [--context NAME] [FORK]",
		Short:   "Give the worker subnet a NAT gateway for pod VMs when it has none",
		Example: "  pattern-gen azure egress    # what the fork's egress hook Job runs at each sync",
		Long: "Make sure the worker subnet of the cluster in your kubeconfig has an outbound path for pod\n" +
			"VMs: with any NAT gateway nothing changes; otherwise a Standard static public IP and a NAT\n" +
			"gateway (<pattern>-podvm-egress, idle timeout 10 min, tagged pattern-gen.io/pattern) are\n" +
			"created in the VNet's resource group, or completed after an interrupted run, and associated\n" +
			"with the subnet. Safe to run again. Needs Network Contributor on that resource group.",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if subnetID == "" && (location != "" || cmd.Flags().Changed("subnet-id")) {
				return base.UsageError{Err: errors.New("--subnet-id: give the worker subnet's resource ID with --location, or neither to read them from the cluster")}
			}
			if subnetID != "" && len(args) > 0 {
				return base.UsageError{Err: errors.New("give either FORK or --subnet-id, not both")}
			}
			o, err := prepare(cmd.Context(), args)
			if errors.Is(err, project.ErrCannotCheck) {
				return base.ExitErr{Code: azureCheckExit, Err: err}
			}
			if err != nil {
				return err
			}
			res, err := project.AzureEgress(cmd.Context(), o)
			if res != nil && len(res.Changed) > 0 {
				fmt.Fprintf(streams.ErrOut, "changed: %s\n", strings.Join(res.Changed, "; "))
			}
			return err
		},
	}
	flags(egress)
	egress.Flags().StringVar(&subnetID, "subnet-id", "", "the worker subnet's resource ID; with --location, no cluster is read (the sync's egress Job)")
	egress.Flags().StringVar(&location, "location", "", "the cluster's Azure region, with --subnet-id")
	egress.Flags().StringVar(&pattern, "pattern", "", "the pattern whose NAT gateway it is (default: the fork's name, else coco-pattern)")
	cmd.AddCommand(check, egress)
	return cmd
}

// printFindings writes the findings as a table, problems with their fix below it.
func printFindings(w io.Writer, findings []azure.Finding) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSUBJECT\tSTATUS\tDETAIL")
	for _, f := range findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Check, f.Subject, f.Status, f.Detail)
	}
	tw.Flush()
}
