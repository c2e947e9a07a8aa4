package generate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/contract"
	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/measurements"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/rvps"
)

// readMeasurements reads the fork's measurements file when plan's values include it, so a
// broken or stale one fails with its line and field instead of as a chart schema error; at sync
// time it also says what RVPS gets from it. nil when the plan does not list the file.
func (s *Renderer) readMeasurements(plan render.AppPlan) (*measurements.Set, error) {
	if !slices.Contains(plan.ValueFiles, measurements.File) {
		return nil, nil
	}
	osc := s.pattern.Coco().Versions.SandboxedContainers
	set, err := measurements.Read(measurements.File, s.tree[measurements.File], osc)
	if err != nil {
		return nil, err
	}
	if s.strict {
		if set.Expired(time.Now()) {
			s.logf("warning: %s: the pod VM measurements expired at %s; the RVPS of Trustee 1.1 and 1.2 does not enforce the expiration, so they are still accepted: run pattern-gen measurements pull and commit %s", plan.Name, set.Expires, measurements.File)
		} else {
			s.logf("%s: pod VM measurements of OSC %s (%s), expire %s", RVPSConfigMap, set.OSC, set.Digest, set.Expires)
		}
	}
	return set, nil
}

// checkRVPS holds the pod VM measurements in a rendered RVPS to the measurements file (set, nil
// when the application does not list it): the values any other source gave (another values
// file, the chart's defaults, a parameter) would bypass the file's checks and its review.
func checkRVPS(app string, objs []manifest.Object, set *measurements.Set, trusteeVersion string) error {
	for _, o := range objs {
		if o.Kind != "ConfigMap" || o.Name != RVPSConfigMap {
			continue
		}
		key, err := rvps.KeyFor(trusteeVersion)
		if err != nil {
			return fmt.Errorf("application %s: %s: %w", app, RVPSConfigMap, err)
		}
		obj, err := o.Decode() // aliases resolved, as Argo CD reads the object
		if err != nil {
			return fmt.Errorf("application %s: %w", app, err)
		}
		entries, err := rvps.Decode(obj, key)
		if err != nil {
			return fmt.Errorf("application %s: %s: %w", app, RVPSConfigMap, err)
		}
		for _, e := range entries {
			_, pcr, tee := strings.Cut(e.Name, "_")
			if !tee {
				pcr = e.Name
			}
			if !slices.Contains(measurements.PCRs, pcr) {
				continue
			}
			if set == nil || e.Expiration != set.Expires || !slices.Equal(e.Values, []string{set.SHA256[pcr]}) {
				return fmt.Errorf("application %s: %s entry %s is not the pod VM measurement of %s; keep global.coco.trustee.measurements only in that file (pattern-gen measurements pull writes it), listed in the application's extraValueFiles", app, RVPSConfigMap, e.Name, measurements.File)
			}
		}
	}
	return nil
}

// MissingFirmware lists the bare-metal launch reference values a rendered RVPS ConfigMap lacks for
// the fork's hardware profile.
func MissingFirmware(o manifest.Object, coco contract.Coco) ([]string, error) {
	profile, ok := config.HardwareProfileOf(coco.Hardware.Profile)
	if !ok {
		return nil, nil
	}
	key, err := rvps.KeyFor(coco.Versions.Trustee)
	if err != nil {
		return nil, err
	}
	obj, err := o.Decode()
	if err != nil {
		return nil, err
	}
	entries, err := rvps.Decode(obj, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", RVPSConfigMap, err)
	}
	return rvps.MissingFirmware(entries, profile.TEEs), nil
}
