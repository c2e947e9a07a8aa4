package project

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/measurements/pull"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/treewriter"
)

// MeasurementsOptions say for which fork to pull the pod VM image's measurements, and from where.
type MeasurementsOptions struct {
	Fork      string
	Image     string // "" for measurements.Repository tagged with the fork's OSC version
	AuthFile  string // pull secret; "" pulls anonymously
	ExpiresIn time.Duration
	Now       time.Time
	Transport http.RoundTripper // nil for Go's default
	Logf      func(format string, args ...any)
}

// PullMeasurements reads the measurements of the pod VM image for the OSC version the fork pins
// and writes them to the fork's measurements file. Nothing is written unless every step worked.
func PullMeasurements(ctx context.Context, o MeasurementsOptions) (*measurements.Set, error) {
	t, err := generate.ReadFork(o.Fork)
	if err != nil {
		return nil, err
	}
	osc, err := pinnedOSC(t)
	if err != nil {
		return nil, fmt.Errorf("fork %s: %w", o.Fork, err)
	}
	if o.ExpiresIn <= 0 {
		return nil, fmt.Errorf("--expires-in %s: give a positive duration such as 8760h", o.ExpiresIn)
	}
	if !measurements.Version(osc) {
		return nil, fmt.Errorf("fork %s: global.coco.versions.sandboxedContainers %q is not an OSC version x.y.z", o.Fork, osc)
	}
	po := pull.Options{Image: o.Image, Version: osc, Transport: o.Transport, Logf: o.Logf}
	if po.Image == "" {
		po.Image = measurements.Repository + ":" + osc
	}
	if o.AuthFile != "" {
		if po.Auth, err = pull.ReadAuthFile(o.AuthFile); err != nil {
			return nil, err
		}
	}
	res, err := pull.Pull(ctx, po)
	if err != nil {
		return nil, err
	}
	set := &measurements.Set{OSC: osc, Image: res.Image, Digest: res.Digest, SHA256: res.SHA256,
		Expires: o.Now.UTC().Add(o.ExpiresIn).Truncate(time.Second).Format(time.RFC3339)}
	data, err := set.Encode()
	if err != nil {
		return nil, err
	}
	// The file is read back as render reads it, so what is written is what the chart gets.
	if _, err := measurements.Read(measurements.File, data, osc); err != nil {
		return nil, fmt.Errorf("internal error: the measurements file does not read back: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	if err := treewriter.Write(o.Fork, map[string][]byte{measurements.File: data}, treewriter.Overlay); err != nil {
		return nil, err
	}
	return set, nil
}

// pinnedOSC is the OSC version the fork's main clusterGroup pins
// (global.coco.versions.sandboxedContainers).
func pinnedOSC(t render.Tree) (string, error) {
	p, err := render.ReadPattern(t)
	if err != nil {
		return "", err
	}
	osc := p.Coco().Versions.SandboxedContainers
	if osc == "" {
		return "", fmt.Errorf("no OSC version (global.coco.versions.sandboxedContainers in values-global.yaml)")
	}
	return osc, nil
}
