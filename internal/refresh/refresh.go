// Package refresh keeps Argo CD's renders of plugin applications as current as the cluster
// facts they were made from. Argo CD caches a render by source, revision and parameters (24 h)
// and, after three failed renders in a row, keeps returning the error for an hour
// (argo-cd v2.14 reposerver/repository getManifestCacheEntry,
// ARGOCD_REPO_SERVER_PAUSE_GEN_AFTER_FAILED_ATTEMPTS and _PAUSE_GEN_MINUTES): a new cloud-conf or
// a KBS certificate created after the first sync would reach nothing until someone
// hard-refreshes. The refresher reads the same facts cmp-plugin reads, with the same grants,
// hard-refreshes the plugin applications whose recorded digest of those facts differs, and
// then asks for the sync automated sync would ask for had the revision changed.
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
	"github.com/pattern-gen/pattern-gen/internal/peerpods"
)

// Annotations the refresher reads and writes on Applications.
const (
	// DigestAnnotation holds the digest of the cluster facts when the refresher last asked
	// Argo CD to render the application again.
	DigestAnnotation = "pattern-gen.io/sync-inputs"
	// SyncedAnnotation holds the digest whose render the refresher last saw synced (or asked
	// Argo CD to sync).
	SyncedAnnotation = "pattern-gen.io/synced-inputs"
	// RefreshedAtAnnotation is when the refresher last asked for a hard refresh (RFC 3339).
	RefreshedAtAnnotation = "pattern-gen.io/refreshed-at"
	// RefreshAnnotation is Argo CD's: "hard" drops the cached render and renders again; the
	// application controller removes it once done.
	RefreshAnnotation = "argocd.argoproj.io/refresh"
)

var applicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// RetryEvery is how often an application whose render keeps failing is hard-refreshed again:
// after three failures Argo CD returns the cached error for an hour, so a short outage of the
// API server while the plugin read the cluster would otherwise keep it failed that long.
const RetryEvery = 5 * time.Minute

// Options say where the applications are and which facts they depend on.
type Options struct {
	Namespace string         // the Argo CD namespace holding the Applications
	Plugin    string         // applications whose plugin name starts with this are refreshed
	Scope     peerpods.Scope // the facts the plugin applications read, as cmp-plugin reads them
	Logf      func(format string, args ...any)
	Now       func() time.Time // the clock; time.Now when nil
}

// Report is what one round did.
type Report struct {
	Refreshed []string // hard-refreshed: the facts changed since their render
	Retried   []string // hard-refreshed again: their render kept failing for RetryEvery
	Synced    []string // asked to sync: regenerated at the same revision, and now OutOfSync
}

// Once reads the facts and, for every plugin application:
//   - whose recorded digest differs, sets the hard-refresh annotation and records the digest;
//   - once Argo CD has rendered it again, if it is OutOfSync and its sync policy is automated,
//     asks for a sync, as automated sync would for a new revision. Argo CD does not do this
//     itself: it syncs a revision automatically once, and new manifests at the same revision
//     wait for selfHeal, which the clustergroup chart does not set (argo-cd v2.14
//     controller/appcontroller.go autoSync, alreadyAttemptedSync).
//
// Each happens once per digest. Nothing happens when a fact could not be read: a flaky API
// server must not look like a change.
func Once(ctx context.Context, cfg *rest.Config, o Options) (Report, error) {
	var rep Report
	facts, warnings := cluster.Read(ctx, cfg, o.Scope)
	if len(warnings) > 0 {
		return rep, fmt.Errorf("the cluster facts could not all be read, so nothing is refreshed this round: %s", strings.Join(warnings, "; "))
	}
	digest := facts.Digest()
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "cmp-plugin-refresher"
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return rep, err
	}
	apps := dyn.Resource(applicationsGVR).Namespace(o.Namespace)
	list, err := apps.List(ctx, metav1.ListOptions{})
	if err != nil {
		return rep, fmt.Errorf("list Applications in %s: %w", o.Namespace, err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	for i := range list.Items {
		app := &list.Items[i]
		if !usesPlugin(app, o.Plugin) {
			continue
		}
		patch, did := nextStep(app, digest, now())
		if patch == nil {
			continue
		}
		data, _ := json.Marshal(patch)
		if _, err := apps.Patch(ctx, app.GetName(), types.MergePatchType, data, metav1.PatchOptions{}); err != nil {
			return rep, fmt.Errorf("update Application %s/%s: %w", o.Namespace, app.GetName(), err)
		}
		switch did {
		case "refresh":
			rep.Refreshed = append(rep.Refreshed, app.GetName())
		case "retry":
			rep.Retried = append(rep.Retried, app.GetName())
		case "sync":
			rep.Synced = append(rep.Synced, app.GetName())
		}
	}
	return rep, nil
}

// nextStep is the merge patch that takes app one step towards having synced what the facts
// of digest render, and what it does ("refresh", "sync", "" for only recording), or nil.
func nextStep(app *unstructured.Unstructured, digest string, now time.Time) (map[string]any, string) {
	ann := app.GetAnnotations()
	annotate := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return map[string]any{"metadata": map[string]any{"annotations": m}}
	}
	stamp := now.UTC().Format(time.RFC3339)
	status, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status")
	switch {
	case ann[DigestAnnotation] != digest:
		return annotate(RefreshAnnotation, "hard", DigestAnnotation, digest, RefreshedAtAnnotation, stamp), "refresh"
	case ann[RefreshAnnotation] != "":
		return nil, "" // Argo CD has not rendered it again yet
	case status == "Unknown": // the render failed (a ComparisonError), whatever the digest
		if last, err := time.Parse(time.RFC3339, ann[RefreshedAtAnnotation]); err == nil && now.Sub(last) < RetryEvery {
			return nil, ""
		}
		return annotate(RefreshAnnotation, "hard", RefreshedAtAnnotation, stamp), "retry"
	case ann[SyncedAnnotation] == digest:
		return nil, "" // done
	}
	phase, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "phase")
	_, pending, _ := unstructured.NestedMap(app.Object, "operation")
	automated, isAuto, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
	switch {
	case status == "Synced" || (status == "OutOfSync" && !isAuto):
		return annotate(SyncedAnnotation, digest), "" // nothing to apply, or the user syncs by hand
	case status != "OutOfSync" || pending || phase == "Running":
		return nil, "" // no sync status yet, or an operation is under way: next round
	}
	prune, _ := automated["prune"].(bool)
	sync := map[string]any{"prune": prune}
	if rev, _, _ := unstructured.NestedString(app.Object, "status", "sync", "revision"); rev != "" {
		sync["revision"] = rev
	}
	if opts, ok, _ := unstructured.NestedStringSlice(app.Object, "spec", "syncPolicy", "syncOptions"); ok {
		sync["syncOptions"] = opts
	}
	op := map[string]any{"initiatedBy": map[string]any{"username": "cmp-plugin-refresher"}, "sync": sync}
	if retry, ok, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "retry"); ok {
		op["retry"] = retry
	}
	patch := annotate(SyncedAnnotation, digest)
	patch["operation"] = op
	return patch, "sync"
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
		rep, err := Once(ctx, cfg, o)
		if len(rep.Refreshed) > 0 {
			logf("hard-refreshed %s: the cluster facts they render from changed", strings.Join(rep.Refreshed, ", "))
		}
		if len(rep.Retried) > 0 {
			logf("hard-refreshed %s again: their render has been failing for %v", strings.Join(rep.Retried, ", "), RetryEvery)
		}
		if len(rep.Synced) > 0 {
			logf("asked Argo CD to sync %s: rendered again from the changed facts, and OutOfSync", strings.Join(rep.Synced, ", "))
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
