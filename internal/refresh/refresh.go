// Package refresh keeps Argo CD's renders of plugin applications as current as the cluster
// facts they were made from. Argo CD caches a render by source, revision and parameters (24 h)
// and, after three failed renders in a row, keeps returning the error for an hour
// (argo-cd v2.14 reposerver/repository getManifestCacheEntry,
// ARGOCD_REPO_SERVER_PAUSE_GEN_AFTER_FAILED_ATTEMPTS and _PAUSE_GEN_MINUTES): a new cloud-conf or
// a KBS certificate created after the first sync would reach nothing until someone
// hard-refreshes. The refresher reads the same facts cmp-plugin reads, with the same grants,
// and hard-refreshes the plugin applications whose recorded digest of those facts differs.
package refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/pattern-gen/pattern-gen/internal/cluster"
)

// Annotations the refresher reads and writes on Applications.
const (
	// DigestAnnotation holds the digest of the cluster facts when the refresher last asked
	// Argo CD to render the application again.
	DigestAnnotation = "pattern-gen.io/sync-inputs"
	// RefreshAnnotation is Argo CD's: "hard" drops the cached render and renders again; the
	// application controller removes it once done.
	RefreshAnnotation = "argocd.argoproj.io/refresh"
)

var applicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Options say where the applications are and which facts they depend on.
type Options struct {
	Namespace  string // the Argo CD namespace holding the Applications
	Plugin     string // applications whose plugin name starts with this are refreshed
	TrustedHub bool   // a spoke: the KBS facts come from the Secret the trusted hub publishes
	Logf       func(format string, args ...any)
}

// Once reads the facts and hard-refreshes every plugin application whose recorded digest
// differs, recording the new one. It refreshes nothing when a fact could not be read (a
// flaky API server must not look like a change) and returns the names it refreshed.
func Once(ctx context.Context, cfg *rest.Config, o Options) ([]string, error) {
	facts, warnings := cluster.Read(ctx, cfg, o.TrustedHub)
	if len(warnings) > 0 {
		return nil, fmt.Errorf("the cluster facts could not all be read, so nothing is refreshed this round: %s", strings.Join(warnings, "; "))
	}
	digest := facts.Digest()
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "cmp-plugin-refresher"
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	apps := dyn.Resource(applicationsGVR).Namespace(o.Namespace)
	list, err := apps.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Applications in %s: %w", o.Namespace, err)
	}
	var refreshed []string
	for i := range list.Items {
		app := &list.Items[i]
		if !usesPlugin(app, o.Plugin) || app.GetAnnotations()[DigestAnnotation] == digest {
			continue
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
			RefreshAnnotation: "hard", DigestAnnotation: digest,
		}}})
		if _, err := apps.Patch(ctx, app.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return refreshed, fmt.Errorf("hard-refresh Application %s/%s: %w", o.Namespace, app.GetName(), err)
		}
		refreshed = append(refreshed, app.GetName())
	}
	return refreshed, nil
}

// usesPlugin tells whether any source of the application is rendered by the plugin.
func usesPlugin(app *unstructured.Unstructured, plugin string) bool {
	sources, _, _ := unstructured.NestedSlice(app.Object, "spec", "sources")
	if src, ok, _ := unstructured.NestedMap(app.Object, "spec", "source"); ok {
		sources = append(sources, src)
	}
	return slices.ContainsFunc(sources, func(s any) bool {
		name, _, _ := unstructured.NestedString(map[string]any{"s": s}, "s", "plugin", "name")
		return name != "" && strings.HasPrefix(name, plugin)
	})
}

// Run refreshes once, then every interval until ctx ends (interval 0: once). A failed round is
// logged and retried at the next tick; only a first round that cannot start (no credentials)
// is an error.
func Run(ctx context.Context, cfg *rest.Config, o Options, every time.Duration) error {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	round := func() error {
		names, err := Once(ctx, cfg, o)
		if len(names) > 0 {
			logf("hard-refreshed %s: the cluster facts they render from changed", strings.Join(names, ", "))
		}
		return err
	}
	if every <= 0 {
		return round()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := round(); err != nil {
			logf("%v", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
