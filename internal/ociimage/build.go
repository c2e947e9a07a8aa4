package ociimage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Commands are the binaries the image carries, by the package that builds each.
var Commands = []struct{ Name, Package string }{
	{"cmp-plugin", "./cmd/cmp-plugin"},
	{"pattern-gen", "./cmd/pattern-gen"},
}

// CompileOptions say how to build the binaries of one platform from the module in Dir.
type CompileOptions struct {
	Dir      string   // the module's root
	Platform Platform // GOOS/GOARCH
	Out      string   // folder the binaries are written to
	// LDFlags -X settings (package.var=value) a release adds, such as the version.
	X []string
	// Only names the Commands to build; empty builds them all (a test builds the smaller one).
	Only []string
}

// BuildFlags are the go build flags that make a binary a function of the source and the
// toolchain only: no paths, no VCS stamp (a dirty tree would differ), no build ID, no cgo.
func BuildFlags(x []string) []string {
	ld := []string{"-s", "-w", "-buildid="}
	for _, v := range x {
		ld = append(ld, "-X", v)
	}
	return []string{"-trimpath", "-buildvcs=false", "-ldflags=" + strings.Join(ld, " ")}
}

// BuildEnv is the environment of a reproducible build for p: no user go.env (GOFLAGS there would
// reach the build), no experiments, the baseline instruction sets, no cgo.
func BuildEnv(p Platform) []string {
	return []string{"GOENV=off", "GOFLAGS=", "GOEXPERIMENT=", "GOAMD64=v1", "GOARM64=v8.0", "GOARM=7",
		"CGO_ENABLED=0", "GOOS=" + p.OS, "GOARCH=" + p.Arch, "GOTOOLCHAIN=local"}
}

// Compile builds Commands for o.Platform into o.Out and returns them as image files.
func Compile(ctx context.Context, o CompileOptions) ([]File, error) {
	var files []File
	for _, c := range Commands {
		if len(o.Only) > 0 && !slices.Contains(o.Only, c.Name) {
			continue
		}
		out := filepath.Join(o.Out, c.Name)
		args := append([]string{"build"}, BuildFlags(o.X)...)
		args = append(args, "-o", out, c.Package)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = o.Dir
		cmd.Env = append(os.Environ(), BuildEnv(o.Platform)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s for %s: %w\n%s", c.Package, o.Platform, err, stderr.String())
		}
		data, err := os.ReadFile(out)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: c.Name, Data: data})
	}
	return files, nil
}
