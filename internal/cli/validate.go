package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

type validateOptions struct {
	project.ValidateOptions
	schemaCache    string
	offline        bool
	allowUnchecked bool
	output         string
}

func newValidateCmd(streams base.IOStreams) *cobra.Command {
	var o validateOptions
	var checkOutput func() error
	cmd := &cobra.Command{
		Use:   "validate [-o text|json] [--offline] [--allow-unchecked] [FORK]",
		Short: "Check a fork: config, clusterGroup values, rendered objects against the pinned schemas, cross-file rules",
		Long: "Check the fork (default: the current directory) and report every problem at once: its\n" +
			"pattern-gen.yaml and whether the generated files still match it (pattern-gen.lock),\n" +
			"values-global.yaml + each clusterGroup file against the values.schema.json of the\n" +
			"clustergroup chart version the fork pins, every rendered custom resource against the CRD\n" +
			"of the operator version the fork pins and every core object against the Kubernetes\n" +
			"OpenAPI (unknown fields included), and the rules between files: Routes target rendered\n" +
			"Services, objects use declared namespaces, subscriptions are pinned with csv:.\n\n" +
			"The schemas are those values/pins.yaml names, by URL and SHA-256: fetched once (go-getter,\n" +
			"checksum verified) into --schema-cache, then used offline. A check that cannot run (no\n" +
			"network and not cached) makes validate exit 2, naming the flag or cache that would supply\n" +
			"it, unless --allow-unchecked. --clustergroup-schema, --crds and --kube-openapi replace the\n" +
			"pinned schemas (air-gapped use). Exit 0: valid; 1: problems (or a fork that does not\n" +
			"render); 2: checks that could not run.",
		Example: "  pattern-gen validate\n" +
			"  pattern-gen validate -o json | jq '.problems[] | \"\\(.file): \\(.message)\"'\n" +
			"  pattern-gen validate --offline --allow-unchecked   # CI without network: what can be checked",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			o.Fork, o.Now = forkArg(args), time.Now()
			var notes []string // what the cache could not keep: said after the report
			o.Schemas = project.SchemaCache(o.schemaCache, o.offline, func(format string, a ...any) { notes = append(notes, fmt.Sprintf(format, a...)) })
			ctx := cmd.Context()
			rep, err := base.Await(ctx, func() (*project.ValidateReport, error) { return project.Validate(ctx, o.ValidateOptions) })
			if err != nil && o.output == "json" && base.Stopped(ctx) == nil {
				// The fork could not be checked at all: still one JSON document, as promised.
				rep = &project.ValidateReport{Problems: []project.Problem{{File: o.Fork, Message: err.Error()}}}
				if perr := printValidateJSON(streams, rep, o.allowUnchecked); perr != nil && !errors.As(perr, new(base.ExitErr)) {
					return perr
				}
				return base.ExitErr{Code: 1}
			}
			if err != nil {
				return err
			}
			rep.Warnings = append(rep.Warnings, notes...)
			if err := base.Stopped(ctx); err != nil {
				return err
			}
			if p := rep.Drift.Problem(project.UpdateCommand(o.Fork)); p != "" {
				rep.Problems = append(rep.Problems, project.Problem{File: "pattern-gen.lock", Message: p})
			}
			if w := rep.Drift.Warning(project.UpdateCommand(o.Fork)); w != "" {
				rep.Warnings = append(rep.Warnings, w)
			}
			if o.output == "json" {
				return printValidateJSON(streams, rep, o.allowUnchecked)
			}
			for _, s := range rep.Unchecked {
				fmt.Fprintf(streams.ErrOut, "not checked: %s\n", s)
			}
			if len(rep.NoSchema) > 0 {
				fmt.Fprintf(streams.ErrOut, "note: no schema checked %s; only the cross-file rules did\n", strings.Join(rep.NoSchema, ", "))
			}
			for _, w := range rep.Warnings {
				fmt.Fprintf(streams.ErrOut, "warning: %s\n", w)
			}
			if len(rep.Problems) > 0 {
				lines := make([]string, len(rep.Problems))
				for i, p := range rep.Problems {
					lines[i] = p.String()
				}
				return fmt.Errorf("%d problem(s):\n%s", len(rep.Problems), strings.Join(lines, "\n"))
			}
			if err := uncheckedError(rep, o.allowUnchecked); err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "valid: %s\n", strings.Join(rep.Checked, "; "))
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "text, or json: {valid, problems: [{file, line, path, message}] (line and path when known), warnings, checked, unchecked, noSchema}")
	cmd.Flags().StringVar(&o.schemaCache, "schema-cache", "", "folder of the pinned schemas (default: <user cache dir>/pattern-gen/schemas)")
	cmd.Flags().BoolVar(&o.offline, "offline", false, "never fetch a schema; use only what --schema-cache holds")
	cmd.Flags().BoolVar(&o.allowUnchecked, "allow-unchecked", false, "exit 0 even when some checks could not run (they are still listed)")
	cmd.Flags().StringVar(&o.ClusterGroupSchema, "clustergroup-schema", "", "values.schema.json of the clustergroup chart, instead of the pinned one (file or go-getter source)")
	cmd.Flags().StringVar(&o.CRDDir, "crds", "", "directory of CustomResourceDefinition YAML files, instead of the pinned CRDs")
	checkOutput = oneOf(cmd, "output", "text", "json")
	cmd.Flags().StringVar(&o.KubeOpenAPIDir, "kube-openapi", "", "directory of Kubernetes OpenAPI v3 JSON files (api/openapi-spec/v3 of k8s.io/kubernetes), instead of the pinned ones")
	return cmd
}

// uncheckedError is the exit-2 error for checks that could not run, unless they are allowed.
func uncheckedError(rep *project.ValidateReport, allow bool) error {
	if len(rep.Unchecked) == 0 || allow {
		return nil
	}
	what := fmt.Sprintf("%d checks", len(rep.Unchecked))
	if len(rep.Unchecked) == 1 {
		what = "1 check"
	}
	return base.ExitErr{Code: 2, Err: fmt.Errorf("%s could not run (listed above as not checked): connect once so validate caches the pinned schemas, pass the flags named, or pass --allow-unchecked", what)}
}

// printValidateJSON prints the report as one JSON document on stdout and exits as the text form
// does, without repeating the problems on stderr.
func printValidateJSON(streams base.IOStreams, rep *project.ValidateReport, allow bool) error {
	r := *rep // empty lists print as [], not null
	for _, l := range []*[]string{&r.Warnings, &r.Checked, &r.Unchecked, &r.NoSchema} {
		if *l == nil {
			*l = []string{}
		}
	}
	if r.Problems == nil {
		r.Problems = []project.Problem{}
	}
	doc := struct {
		Valid bool `json:"valid"`
		*project.ValidateReport
	}{len(rep.Problems) == 0 && (allow || len(rep.Unchecked) == 0), &r}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return base.ExitErr{Code: 2, Err: err}
	}
	if _, err := fmt.Fprintf(streams.Out, "%s\n", out); err != nil {
		return base.ExitErr{Code: 2, Err: err}
	}
	switch {
	case len(rep.Problems) > 0:
		return base.ExitErr{Code: 1}
	case !allow && len(rep.Unchecked) > 0:
		return base.ExitErr{Code: 2}
	}
	return nil
}
