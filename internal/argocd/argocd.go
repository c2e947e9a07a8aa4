// Package argocd reads and drives a pattern's Argo CD Applications through the Kubernetes API
// (the user's kubeconfig), as unstructured objects: the product does not link argo-cd.
package argocd

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// ApplicationGVR is argoproj.io/v1alpha1 applications.
var ApplicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// PatternLabel is the label the clustergroup chart puts on every Application of a pattern.
const PatternLabel = "validatedpatterns.io/pattern"

// App is the state of one Application.
type App struct {
	Name      string `json:"name"`
	Wave      int    `json:"syncWave"`
	Sync      string `json:"sync"`   // Synced, OutOfSync, Unknown
	Health    string `json:"health"` // Healthy, Progressing, Degraded, Missing, Suspended, Unknown
	Revision  string `json:"revision"`
	Operation string `json:"operation,omitempty"` // phase of the last operation: Running, Succeeded, Failed, Error
	Message   string `json:"message,omitempty"`   // the first condition or operation message
	// FinishedAt is when the last operation ended (zero while it runs or when there is none).
	FinishedAt time.Time `json:"operationFinishedAt,omitzero"`
}

// Done reports whether the app reached the wanted state: "synced" (the live objects match the
// rendered ones and no operation still runs its hooks) or "healthy" (synced and healthy).
func (a App) Done(want string) bool {
	if want == "synced" {
		return a.Sync == "Synced" && a.Operation != "Running"
	}
	return a.Sync == "Synced" && a.Health == "Healthy" && a.Operation != "Running"
}

// Client reads and changes the Applications of one pattern in one namespace.
type Client struct {
	Dyn       dynamic.Interface
	Namespace string
	Pattern   string
}

// List returns the pattern's Applications sorted by sync wave, then name.
func (c *Client) List(ctx context.Context) ([]App, error) {
	list, err := c.Dyn.Resource(ApplicationGVR).Namespace(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: PatternLabel + "=" + c.Pattern})
	if err != nil {
		return nil, describe(err, c.Namespace)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no Argo CD applications of pattern %s in namespace %s (label %s=%s); is the pattern installed, and is -n right?", c.Pattern, c.Namespace, PatternLabel, c.Pattern)
	}
	apps := make([]App, 0, len(list.Items))
	for i := range list.Items {
		apps = append(apps, fromObject(&list.Items[i]))
	}
	sort.SliceStable(apps, func(i, j int) bool {
		if apps[i].Wave != apps[j].Wave {
			return apps[i].Wave < apps[j].Wave
		}
		return apps[i].Name < apps[j].Name
	})
	return apps, nil
}

func fromObject(u *unstructured.Unstructured) App {
	s := func(path ...string) string { v, _, _ := unstructured.NestedString(u.Object, path...); return v }
	a := App{
		Name:      u.GetName(),
		Sync:      or(s("status", "sync", "status"), "Unknown"),
		Health:    or(s("status", "health", "status"), "Unknown"),
		Revision:  s("status", "sync", "revision"),
		Operation: s("status", "operationState", "phase"),
	}
	if t, err := time.Parse(time.RFC3339, s("status", "operationState", "finishedAt")); err == nil {
		a.FinishedAt = t
	}
	a.Wave, _ = strconv.Atoi(u.GetAnnotations()["argocd.argoproj.io/sync-wave"])
	if conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); len(conds) > 0 {
		if m, ok := conds[0].(map[string]any); ok {
			a.Message = fmt.Sprintf("%v: %v", m["type"], m["message"])
		}
	}
	if a.Message == "" && (a.Operation == "Failed" || a.Operation == "Error") {
		a.Message = s("status", "operationState", "message")
	}
	if a.Message == "" && a.Health != "Healthy" {
		a.Message = s("status", "health", "message")
	}
	// Whoever can write an Application, or the status of an object it manages, writes these
	// strings; they reach a terminal. Control characters (escape sequences that retitle the
	// window, move the cursor or clear the screen) are shown as escapes, and a message is one line.
	for _, f := range []*string{&a.Sync, &a.Health, &a.Revision, &a.Operation, &a.Message} {
		*f = Printable(*f)
	}
	return a
}

// Printable shows s's control and format characters (escapes, bidi overrides, zero-width and
// line separators) as Go escapes (a newline as "; "), so that text from the cluster prints as
// what it is on a terminal.
func Printable(s string) string {
	if !strings.ContainsFunc(s, hidden) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD") {
		switch {
		case r == '\n':
			b.WriteString("; ")
		case hidden(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// hidden says whether r changes how text around it shows rather than showing itself.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// SyncRequest is what Sync asked Argo CD for.
type SyncRequest struct {
	Wave    int
	Apps    []string
	Skipped map[string]string // app -> why
}

// Sync sets a sync operation on the named Applications (all of the pattern's when names is
// empty), wave by wave: an application's wave starts when every earlier wave's operations ended.
// report is called as each wave is requested.
func (c *Client) Sync(ctx context.Context, names []string, prune bool, report func(SyncRequest)) error {
	apps, err := c.List(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var picked []App
	for _, a := range apps {
		if len(names) == 0 || want[a.Name] {
			picked = append(picked, a)
			delete(want, a.Name)
		}
	}
	if len(want) > 0 {
		var missing []string
		for n := range want {
			missing = append(missing, n)
		}
		sort.Strings(missing)
		return fmt.Errorf("no application %s in pattern %s (namespace %s)", strings.Join(missing, ", "), c.Pattern, c.Namespace)
	}
	op, _ := json.Marshal(map[string]any{"operation": map[string]any{
		"initiatedBy": map[string]any{"username": "pattern-gen"},
		"sync":        map[string]any{"prune": prune, "syncStrategy": map[string]any{"hook": map[string]any{}}},
	}})
	for i := 0; i < len(picked); {
		wave := picked[i].Wave
		req := SyncRequest{Wave: wave, Skipped: map[string]string{}}
		for ; i < len(picked) && picked[i].Wave == wave; i++ {
			a := picked[i]
			if a.Operation == "Running" {
				req.Skipped[a.Name] = "an operation is already running"
				continue
			}
			_, err := c.Dyn.Resource(ApplicationGVR).Namespace(c.Namespace).Patch(ctx, a.Name, types.MergePatchType, op, metav1.PatchOptions{})
			if err != nil {
				return fmt.Errorf("request sync of %s: %w", a.Name, describe(err, c.Namespace))
			}
			req.Apps = append(req.Apps, a.Name)
		}
		report(req)
		if i < len(picked) {
			if err := c.waitOperations(ctx, req.Apps); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitOperations waits until Argo CD has taken and finished the operations set on names.
func (c *Client) waitOperations(ctx context.Context, names []string) error {
	for {
		pending := 0
		for _, n := range names {
			u, err := c.Dyn.Resource(ApplicationGVR).Namespace(c.Namespace).Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return describe(err, c.Namespace)
			}
			_, requested, _ := unstructured.NestedMap(u.Object, "operation")
			if requested || fromObject(u).Operation == "Running" {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the sync of %s: %w", strings.Join(names, ", "), ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// refreshAnnotation is what `argocd app get --refresh` sets; Argo CD's application controller
// removes it when it persists the refreshed status (persistAppStatus in controller/appcontroller.go).
const refreshAnnotation = "argocd.argoproj.io/refresh"

// Refresh asks Argo CD to compare the named Applications of the pattern (every one when names
// is empty) again, as `argocd app get --refresh` (normal) or `--hard-refresh` (hard: render
// again instead of using the cached manifests) do, by setting the annotation Argo CD removes
// once it has.
func (c *Client) Refresh(ctx context.Context, kind string, names ...string) error {
	if kind != "normal" && kind != "hard" {
		return fmt.Errorf("--refresh %q: use normal or hard", kind)
	}
	apps, err := c.List(ctx)
	if err != nil {
		return err
	}
	for _, n := range names { // refresh nothing when a name is wrong: sync would refuse it anyway
		if !slices.ContainsFunc(apps, func(a App) bool { return a.Name == n }) {
			return fmt.Errorf("no application %s in pattern %s (namespace %s)", n, c.Pattern, c.Namespace)
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{refreshAnnotation: kind}}})
	for _, a := range apps {
		if len(names) > 0 && !slices.Contains(names, a.Name) {
			continue
		}
		if _, err := c.Dyn.Resource(ApplicationGVR).Namespace(c.Namespace).Patch(ctx, a.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("refresh %s: %w", a.Name, describe(err, c.Namespace))
		}
	}
	return nil
}

// WaitRefreshed waits until Argo CD has done the refresh Refresh asked for on the named
// Applications (every one when names is empty): the annotation is gone. A sync requested
// before that could apply what Argo CD compared before the refresh.
func (c *Client) WaitRefreshed(ctx context.Context, interval time.Duration, names ...string) error {
	for {
		list, err := c.Dyn.Resource(ApplicationGVR).Namespace(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: PatternLabel + "=" + c.Pattern})
		if err != nil {
			return describe(err, c.Namespace)
		}
		var pending []string
		for _, u := range list.Items {
			if _, ok := u.GetAnnotations()[refreshAnnotation]; ok && (len(names) == 0 || slices.Contains(names, u.GetName())) {
				pending = append(pending, u.GetName())
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Argo CD did not finish refreshing %s in time; is its application controller running?", strings.Join(pending, ", "))
		case <-time.After(interval):
		}
	}
}

// WaitOptions say what Wait waits for.
type WaitOptions struct {
	For      string        // "synced" or "healthy" (see App.Done)
	Interval time.Duration // between looks
	// DegradedGrace is how long an application may stay Degraded before the wait fails: a
	// rollout passes through Degraded briefly, a broken one stays there. Zero: never fail on it.
	DegradedGrace time.Duration
	Progress      func([]App) // gets each new state; may be nil
}

// Wait polls until every Application is done or ctx ends. On timeout it names the applications
// that did not get there. It fails at once, as argocd app wait does, when an operation ends
// Failed or Error while it waits (Argo CD does not retry it by itself), and when an application
// has been Degraded for longer than the grace.
func (c *Client) Wait(ctx context.Context, o WaitOptions) ([]App, error) {
	began := time.Now().Truncate(time.Second) // finishedAt has second precision
	degradedSince := map[string]time.Time{}
	for {
		apps, err := c.List(ctx)
		if err != nil {
			return nil, err
		}
		if o.Progress != nil {
			o.Progress(apps)
		}
		if err := failure(apps, began); err != nil {
			return apps, err
		}
		if err := stuckDegraded(apps, degradedSince, o.DegradedGrace, time.Now()); err != nil {
			return apps, err
		}
		var notDone []string
		for _, a := range apps {
			if !a.Done(o.For) {
				notDone = append(notDone, fmt.Sprintf("%s (%s/%s)", a.Name, a.Sync, a.Health))
			}
		}
		if len(notDone) == 0 {
			return apps, nil
		}
		timeout := fmt.Errorf("not %s in time: %s", o.For, strings.Join(notDone, ", "))
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(o.Interval).After(dl) {
			return apps, timeout // the next look would come too late: say what is not done now
		}
		select {
		case <-ctx.Done():
			return apps, timeout
		case <-time.After(o.Interval):
		}
	}
}

// failure is the error for operations that ended Failed or Error since the wait began.
func failure(apps []App, began time.Time) error {
	var failed []string
	for _, a := range apps {
		if (a.Operation == "Failed" || a.Operation == "Error") && !a.FinishedAt.Before(began) {
			failed = append(failed, fmt.Sprintf("%s (%s: %s)", a.Name, a.Operation, a.Message))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("sync failed: %s", strings.Join(failed, "; "))
	}
	return nil
}

// stuckDegraded tracks since when each application has been Degraded (since is updated) and
// is the error for those Degraded for longer than grace.
func stuckDegraded(apps []App, since map[string]time.Time, grace time.Duration, now time.Time) error {
	var stuck []string
	for _, a := range apps {
		if a.Health != "Degraded" {
			delete(since, a.Name)
			continue
		}
		if _, ok := since[a.Name]; !ok {
			since[a.Name] = now
		}
		if grace > 0 && now.Sub(since[a.Name]) >= grace {
			stuck = append(stuck, fmt.Sprintf("%s (%s)", a.Name, cmp.Or(a.Message, "no message")))
		}
	}
	if len(stuck) > 0 {
		return fmt.Errorf("degraded for %s or more: %s", grace, strings.Join(stuck, "; "))
	}
	return nil
}

// describe turns API errors into one actionable line.
func describe(err error, ns string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, _ := url.Parse(ue.URL)
		host := ue.URL
		if u != nil {
			host = u.Scheme + "://" + u.Host
		}
		return fmt.Errorf("cannot reach the Kubernetes API at %s: %v (check oc login, --kubeconfig or --context)", host, errors.Unwrap(ue))
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("forbidden: your user may not read or change Argo CD applications in namespace %s (%v)", ns, apierrors.ReasonForError(err))
	case apierrors.IsNotFound(err):
		return fmt.Errorf("not found in namespace %s: %v", ns, err)
	}
	return err
}
