package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

func newMeasurementsCmd(streams base.IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "measurements", Short: "Keep the pod VM image's reference values in the fork"}
	var o project.MeasurementsOptions
	pull := &cobra.Command{
		Use:   "pull [--authfile FILE] [--image REF] [--expires-in DURATION] [FORK]",
		Short: "Read the pod VM image's PCR measurements into " + measurements.File,
		Example: "  pattern-gen measurements pull --authfile ~/pull-secret.json\n" +
			"  pattern-gen measurements pull --image mirror.example.com/osc/osc-dm-verity-image:1.13.0",
		Long: "Read /" + measurements.ImagePath + " from the dm-verity pod VM image of the OSC version the\n" +
			"fork in the current directory (or FORK) pins, " + measurements.Repository + ":<version>,\n" +
			"and write its PCR03, 09, 11 and 12 with the image's digest to " + measurements.File + ".\n" +
			"The trustee chart puts them into RVPS as snp_/tdx_pcrNN. Commit the file: a pull request\n" +
			"then shows every change of what the KBS trusts.\n\n" +
			"registry.redhat.io needs a pull secret: --authfile FILE (default $REGISTRY_AUTH_FILE), the\n" +
			"{\"auths\": ...} JSON of podman, docker and OpenShift. Only that file is read. For a\n" +
			"disconnected cluster, mirror the image and pass --image.",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Fork = forkArg(args)
			if o.AuthFile == "" {
				o.AuthFile = os.Getenv("REGISTRY_AUTH_FILE")
			}
			o.Now = time.Now()
			o.Logf = func(format string, a ...any) { fmt.Fprintf(streams.ErrOut, format+"\n", a...) }
			set, err := project.PullMeasurements(cmd.Context(), o)
			if err != nil {
				return err
			}
			var pcrs []string
			for _, p := range measurements.PCRs {
				pcrs = append(pcrs, p+" "+set.SHA256[p])
			}
			fmt.Fprintf(streams.ErrOut, "wrote %s: OSC %s, %s (%s), expires %s\n  %s\ncommit it; the trustee application applies it at the next sync\n",
				measurements.File, set.OSC, set.Image, set.Digest, set.Expires, strings.Join(pcrs, "\n  "))
			return nil
		},
	}
	pull.Flags().StringVar(&o.AuthFile, "authfile", "", "pull secret for the registry (default $REGISTRY_AUTH_FILE)")
	pull.Flags().StringVar(&o.Image, "image", "", "image to read (default "+measurements.Repository+":<the fork's OSC version>)")
	pull.Flags().DurationVar(&o.ExpiresIn, "expires-in", 365*24*time.Hour, "how long RVPS accepts the values")
	cmd.AddCommand(pull)
	return cmd
}
