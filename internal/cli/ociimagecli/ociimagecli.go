// Package ociimagecli is the command line of oci-image: flags only; the work is package
// ociimage's.
package ociimagecli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pattern-gen/pattern-gen/internal/cli/base"
	"github.com/pattern-gen/pattern-gen/internal/ociimage"
)

// Main runs oci-image and returns the exit code.
func Main(args []string, streams base.IOStreams) int {
	root := base.NewRoot("oci-image", "Build, push and unpack the cmp-plugin sidecar image, without a container engine")
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.AddCommand(newBuildCmd(streams), newPushCmd(streams), newExtractCmd(streams), newNotesCmd(streams))
	root.SetArgs(args)
	return base.Execute(root, "oci-image", streams)
}

type buildOptions struct {
	out, version, revision, source string
	platforms                      []string
	createdUnix                    int64
	x                              []string
}

func newBuildCmd(streams base.IOStreams) *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build --out DIR",
		Short: "Compile the binaries per platform and write the image index as an OCI layout in DIR/oci; print its digest",
		Args:  base.RangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var platforms []ociimage.Platform
			for _, p := range o.platforms {
				goos, goarch, ok := strings.Cut(p, "/")
				if !ok || goos == "" || goarch == "" {
					return base.UsageError{Err: fmt.Errorf("--platform %q: want os/arch, such as linux/arm64", p)}
				}
				platforms = append(platforms, ociimage.Platform{OS: goos, Arch: goarch})
			}
			root, err := os.Getwd()
			if err != nil {
				return err
			}
			files := map[ociimage.Platform][]ociimage.File{}
			for _, p := range platforms {
				bin := filepath.Join(o.out, "bin", p.OS+"-"+p.Arch)
				fs, err := ociimage.Compile(cmd.Context(), ociimage.CompileOptions{Dir: root, Platform: p, Out: bin, X: o.x})
				if err != nil {
					return err
				}
				files[p] = fs
			}
			idx, err := ociimage.Build(ociimage.Options{Files: files, Created: time.Unix(o.createdUnix, 0), Labels: map[string]string{
				"org.opencontainers.image.title":    "cmp-plugin",
				"org.opencontainers.image.source":   o.source,
				"org.opencontainers.image.version":  o.version,
				"org.opencontainers.image.revision": o.revision,
			}})
			if err != nil {
				return err
			}
			digest, err := ociimage.WriteLayout(filepath.Join(o.out, "oci"), o.version, idx)
			if err != nil {
				return err
			}
			// What release-binaries and image-push check they are given the image of their version.
			for file, content := range map[string]string{"digest": digest.String(), "version": o.version} {
				if err := os.WriteFile(filepath.Join(o.out, file), []byte(content+"\n"), 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintln(streams.Out, digest)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "folder for the binaries (bin/), the OCI layout (oci/) and the digest (digest)")
	cmd.Flags().StringSliceVar(&o.platforms, "platform", []string{"linux/amd64", "linux/arm64"}, "os/arch to build, repeatable")
	cmd.Flags().StringVar(&o.version, "version", "devel", "the version the image is labelled with")
	cmd.Flags().StringVar(&o.revision, "revision", "", "the git commit the image is built from")
	cmd.Flags().StringVar(&o.source, "source", "https://github.com/pattern-gen/pattern-gen", "the repository the image is built from")
	cmd.Flags().Int64Var(&o.createdUnix, "created-unix", 0, "the image's creation time in Unix seconds: the commit's time (SOURCE_DATE_EPOCH), so rebuilds match")
	cmd.Flags().StringArrayVar(&o.x, "ldflags-x", nil, "a -X package.var=value the binaries are linked with, repeatable")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func newPushCmd(streams base.IOStreams) *cobra.Command {
	var layoutDir, to string
	cmd := &cobra.Command{
		Use:   "push --layout DIR --to REGISTRY/REPOSITORY:TAG",
		Short: "Push the image index of an OCI layout; print the pushed reference by digest",
		Args:  base.RangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			idx, err := ociimage.ReadLayout(layoutDir)
			if err != nil {
				return err
			}
			ref, err := ociimage.Push(cmd.Context(), idx, to)
			if err != nil {
				return err
			}
			fmt.Fprintln(streams.Out, ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&layoutDir, "layout", "", "the OCI layout folder (make image writes out/image/oci)")
	cmd.Flags().StringVar(&to, "to", "", "where to push, with the tag")
	_ = cmd.MarkFlagRequired("layout")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func newExtractCmd(streams base.IOStreams) *cobra.Command {
	var layoutDir, platform, out string
	cmd := &cobra.Command{
		Use:   "extract --layout DIR --out DIR",
		Short: "Write one platform's binaries and image config (config.json) from an OCI layout, for a harness that runs them as the image does",
		Args:  base.RangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			goos, goarch, ok := strings.Cut(platform, "/")
			if !ok {
				return base.UsageError{Err: fmt.Errorf("--platform %q: want os/arch", platform)}
			}
			idx, err := ociimage.ReadLayout(layoutDir)
			if err != nil {
				return err
			}
			img, err := ociimage.PlatformImage(idx, ociimage.Platform{OS: goos, Arch: goarch})
			if err != nil {
				return err
			}
			if err := ociimage.WriteBinaries(img, filepath.Join(out, ociimage.BinDir)); err != nil {
				return err
			}
			cf, err := img.ConfigFile()
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(cf.Config, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(streams.Out, filepath.Join(out, ociimage.BinDir))
			return os.WriteFile(filepath.Join(out, "config.json"), append(data, '\n'), 0o644)
		},
	}
	cmd.Flags().StringVar(&layoutDir, "layout", "", "the OCI layout folder")
	cmd.Flags().StringVar(&platform, "platform", "linux/amd64", "which variant")
	cmd.Flags().StringVar(&out, "out", "", "root folder to write usr/local/bin/* and config.json into")
	_ = cmd.MarkFlagRequired("layout")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func newNotesCmd(streams base.IOStreams) *cobra.Command {
	var o ociimage.NotesOptions
	var digestFile, sumsFile string
	cmd := &cobra.Command{
		Use:   "notes --digest-file FILE --repo REPOSITORY --version V --sums FILE",
		Short: "Print the release notes: the image by digest, how to pin and mirror it, the binaries' checksums",
		Args:  base.RangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			digest, err := os.ReadFile(digestFile)
			if err != nil {
				return err
			}
			sums, err := os.ReadFile(sumsFile)
			if err != nil {
				return err
			}
			o.Digest, o.Sums = strings.TrimSpace(string(digest)), string(sums)
			notes, err := ociimage.Notes(o)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(streams.Out, notes)
			return err
		},
	}
	cmd.Flags().StringVar(&digestFile, "digest-file", "", "the digest make image wrote")
	cmd.Flags().StringVar(&sumsFile, "sums", "", "the SHA256SUMS of the binaries")
	cmd.Flags().StringVar(&o.Repo, "repo", "", "the image repository")
	cmd.Flags().StringVar(&o.Version, "version", "", "the release version")
	for _, f := range []string{"digest-file", "sums", "repo", "version"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
