package render

import (
	"slices"

	"github.com/pattern-gen/pattern-gen/internal/manifest"
)

// Pod-level initdata. A chart marks the pod templates that need the allow-all agent policy with
// AgentPolicyMarker; every pod template that runs on a confidential runtime class gets its own
// initdata annotation, so the policy travels in the measured initdata rather than in an
// annotation the host could change.
const (
	AgentPolicyMarker = "coco.pattern-gen.io/agent-policy"
	AllowAllPolicy    = "allow-all"
	// PlaceholderInitdata stands where only the cluster can give the initdata (the KBS route
	// host and certificate); the sandboxed-containers chart uses the same words.
	PlaceholderInitdata = "<cluster-provided: initdata with the KBS route host and certificate>"
)

// ConfidentialRuntimeClasses are the runtime classes whose pods run in a TEE and attest: peer
// pods (kata-remote, Azure and AWS) and bare-metal TDX or SNP (kata-cc, which OSC creates for the
// nodes' TEE). A kata-cc pod without its own initdata has no KBS to ask (peer pods fall back to
// peer-pods-cm's INITDATA).
var ConfidentialRuntimeClasses = []string{"kata-remote", "kata-cc"}

// podTemplatePaths is where each workload kind keeps its pod template.
var podTemplatePaths = map[string][]string{
	"Pod":         nil,
	"Deployment":  {"spec", "template"},
	"StatefulSet": {"spec", "template"},
	"DaemonSet":   {"spec", "template"},
	"ReplicaSet":  {"spec", "template"},
	"Job":         {"spec", "template"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template"},
}

// InjectPodInitdata sets the annotations annotate(allowAll) gives, name and value in order, on
// every pod template of objs that runs on a confidential runtime class, and returns how many
// it changed.
func InjectPodInitdata(objs []manifest.Object, annotate func(allowAll bool) [][2]string) int {
	n := 0
	for _, o := range objs {
		base, ok := podTemplatePaths[o.Kind]
		if !ok {
			continue
		}
		at := func(p ...string) []string { return append(append([]string{}, base...), p...) }
		if !slices.Contains(ConfidentialRuntimeClasses, o.String(at("spec", "runtimeClassName")...)) {
			continue
		}
		allowAll := o.String(at("metadata", "annotations", AgentPolicyMarker)...) == AllowAllPolicy
		for _, a := range annotate(allowAll) {
			o.SetString(a[1], at("metadata", "annotations", a[0])...)
		}
		n++
	}
	return n
}
