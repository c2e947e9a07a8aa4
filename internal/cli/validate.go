package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

func newValidateCmd(streams base.IOStreams) *cobra.Command {
	var o project.ValidateOptions
	cmd := &cobra.Command{
		Use:   "validate [--clustergroup-schema FILE] [--crds DIR] [FORK]",
		Short: "Check a fork offline: config, clusterGroup values, rendered objects, cross-file rules",
		Long: "Check the fork (default: the current directory) and report every problem at once: its\n" +
			"pattern-gen.yaml, values-global.yaml + each clusterGroup file against the clustergroup\n" +
			"chart's values.schema.json, every rendered custom resource against its CRD schema (unknown\n" +
			"fields included), and the rules between files: Routes target rendered Services, objects\n" +
			"use declared namespaces, subscriptions are pinned with csv:.",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Fork, o.Now = forkArg(args), time.Now()
			ctx := cmd.Context()
			rep, err := base.Await(ctx, func() (*project.ValidateReport, error) { return project.Validate(ctx, o) })
			if err != nil {
				return err
			}
			if err := base.Stopped(ctx); err != nil {
				return err
			}
			for _, s := range rep.Skipped {
				fmt.Fprintf(streams.ErrOut, "not checked: %s\n", s)
			}
			if p := rep.Drift.Problem(updateCommand(o.Fork)); p != "" {
				rep.Problems = append(rep.Problems, p)
			}
			if w := rep.Drift.Warning(updateCommand(o.Fork)); w != "" {
				rep.Warnings = append(rep.Warnings, w)
			}
			for _, w := range rep.Warnings {
				fmt.Fprintf(streams.ErrOut, "warning: %s\n", w)
			}
			if len(rep.Problems) > 0 {
				return fmt.Errorf("%d problem(s):\n%s", len(rep.Problems), strings.Join(rep.Problems, "\n"))
			}
			fmt.Fprintf(streams.Out, "valid: %s\n", strings.Join(rep.Checked, "; "))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.ClusterGroupSchema, "clustergroup-schema", "", "values.schema.json of the clustergroup chart the fork pins")
	cmd.Flags().StringVar(&o.CRDDir, "crds", "", "directory of CustomResourceDefinition YAML files of the kinds the charts render")
	cmd.Flags().StringVar(&o.KubeOpenAPIDir, "kube-openapi", "", "directory of Kubernetes OpenAPI v3 JSON files (api/openapi-spec/v3 of k8s.io/kubernetes)")
	return cmd
}
