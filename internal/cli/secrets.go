package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/project"
)

func newSecretsCmd(streams base.IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Make the secrets the pattern loads into Vault"}
	var o project.SecretsOptions
	gen := &cobra.Command{
		Use:   "generate [--out FILE] [--domain APPS_DOMAIN] [--rotate SECRET]... [FORK]",
		Short: "Generate the KBS keys and certificates the fork's secrets template names",
		Example: "  pattern-gen secrets generate --domain apps.mycluster.example.com && make load-secrets\n" +
			"  pattern-gen secrets generate --domain apps.mycluster.example.com --rotate kbsTLS   # a new KBS certificate, the rest kept",
		Long: "Generate, for the fork in the current directory (or FORK), the files its\n" +
			"values-secret.yaml.template points at: the KBS admin key pair (only the public key is\n" +
			"loaded; the private key stays beside it), the attestation-token signer, and the KBS\n" +
			"HTTPS key and certificate for kbs-trustee-operator-system.<apps domain>. Writes the secrets\n" +
			"file load-secrets reads (default ~/values-secret-<pattern>.yaml) unless it exists. Every\n" +
			"file is mode 0600; a secret whose files exist is kept unless it is named with --rotate.\n" +
			"Prints paths and secret names, never key material.",
		Args: base.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Fork = "."
			if len(args) == 1 {
				o.Fork = args[0]
			}
			home, err := os.UserHomeDir()
			if err != nil {
				return err
			}
			o.Home = home
			rep, err := project.GenerateSecrets(o)
			if rep != nil {
				for _, f := range rep.Written {
					fmt.Fprintf(streams.ErrOut, "wrote %s (%s %s)\n", f.Path, f.Secret, f.Field)
				}
			}
			if err != nil {
				return err
			}
			for _, s := range rep.Kept {
				fmt.Fprintf(streams.ErrOut, "kept %s: its files exist (--rotate %s replaces them)\n", s, s)
			}
			for _, s := range rep.Skipped {
				fmt.Fprintf(streams.ErrOut, "not generated: %s (give its file yourself)\n", s)
			}
			if rep.OutKept {
				fmt.Fprintf(streams.ErrOut, "kept %s as it is\n", rep.Out)
			} else {
				fmt.Fprintf(streams.ErrOut, "wrote %s: load it with load-secrets\n", rep.Out)
			}
			return nil
		},
	}
	gen.Flags().StringVar(&o.Out, "out", "", "the secrets file (default ~/values-secret-<pattern>.yaml)")
	gen.Flags().StringVar(&o.Domain, "domain", "", "the cluster's apps domain, for the KBS certificate (default: appsDomain of the fork)")
	gen.Flags().StringArrayVar(&o.Rotate, "rotate", nil, "replace the files of this secret (repeatable)")
	cmd.AddCommand(gen)
	return cmd
}
