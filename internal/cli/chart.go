package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/fetch"
	"github.com/pattern-gen/pattern-gen/internal/project"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// chartEnv names the environment variable that replaces the default of --clustergroup-chart:
// a mirror of the chart repository for a disconnected site, set once in CI.
const chartEnv = "PATTERN_GEN_CLUSTERGROUP_CHART"

// chartFlags are render's and diff's flags for the clustergroup chart.
type chartFlags struct {
	source  string
	offline bool
}

func (f *chartFlags) add(cmd *cobra.Command) {
	def := os.Getenv(chartEnv)
	if def == "" {
		def = render.DefaultHelmRepoURL
	}
	cmd.Flags().StringVar(&f.source, "clustergroup-chart", def,
		"where the clustergroup chart comes from: a chart repository URL (the version the fork pins is resolved in its index.yaml), "+
			"a chart archive URL (.tgz), a chart folder, or \"none\" for the values only; default from $"+chartEnv)
	// Help shows the default without the credentials a mirror's URL may carry.
	cmd.Flags().Lookup("clustergroup-chart").DefValue = fetch.Redact(def)
	cmd.Flags().BoolVar(&f.offline, "offline", false, "never fetch the clustergroup chart: use the cached one, or show the values only")
}

// check refuses an empty --clustergroup-chart: "none" says no chart.
func (f *chartFlags) check() error {
	if f.source == "" {
		return base.UsageError{Err: fmt.Errorf("--clustergroup-chart is empty: give a chart repository URL, a chart archive URL, a chart folder, or none")}
	}
	return nil
}

func (f *chartFlags) options() project.ChartOptions {
	return project.ChartOptions{Source: f.source, Offline: f.offline}
}
