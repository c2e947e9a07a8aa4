package project

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/chartrepo"
	"github.com/pattern-gen/pattern-gen/internal/config"
	"github.com/pattern-gen/pattern-gen/internal/generate"
	"github.com/pattern-gen/pattern-gen/internal/gitrev"
	"github.com/pattern-gen/pattern-gen/internal/render"
	"github.com/pattern-gen/pattern-gen/internal/review"
)

// DiffOptions says which two revisions of a fork to compare.
type DiffOptions struct {
	Fork string
	Base string // a git revision; "" = the merge base with the default branch, or HEAD
	Head string // a git revision; "" = the working tree
	Env  config.PluginEnv
	// Chart says where the clustergroup chart comes from: its objects are rendered for the
	// hub's clusterGroup, instead of the values they come from.
	Chart ChartOptions
	Logf  func(format string, args ...any) // notes for the user; may be nil
}

// side is one revision of the fork, read.
type side struct {
	label    string // how the user named it, and its commit
	tree     render.Tree
	patterns []*render.Pattern
}

// Diff renders the fork at two revisions, offline but for the clustergroup chart, and compares
// them object by object.
func Diff(ctx context.Context, o DiffOptions) (*review.Result, error) {
	repo, err := gitrev.Open(o.Fork)
	if err != nil {
		return nil, err
	}
	// What the chart source has to say belongs to the result: a pull-request comment shows it.
	var notes []string
	charts, err := openChartSource(ctx, o.Chart, func(format string, a ...any) {
		notes = append(notes, strings.TrimPrefix(fmt.Sprintf(format, a...), "note: "))
	})
	if err != nil {
		return nil, err
	}
	// Both sides are read with the same bound on each file, so they can only differ in content.
	repo.MaxFileSize = generate.MaxForkFileSize
	var baseSHA string
	baseLabel := o.Base
	if o.Base == "" {
		if baseSHA, err = repo.DefaultBase(); err != nil {
			return nil, err
		}
		baseLabel = baseSHA[:12]
	} else if baseSHA, err = repo.Resolve(o.Base); err != nil {
		return nil, err
	}
	base, err := readRevision(repo, baseLabel, baseSHA)
	if err != nil {
		return nil, err
	}
	var head *side
	headLabel := o.Head
	if o.Head == "" {
		headLabel = "working tree"
		t, err := generate.ReadFork(o.Fork)
		if err != nil {
			return nil, err
		}
		if head, err = readSide("the working tree", t); err != nil {
			return nil, err
		}
	} else {
		sha, err := repo.Resolve(o.Head)
		if err != nil {
			return nil, err
		}
		if head, err = readRevision(repo, o.Head, sha); err != nil {
			return nil, err
		}
	}
	bc, hc, err := sideCharts(ctx, charts, base, head)
	if err != nil {
		return nil, err
	}
	baseObjs, err := base.objects(o.Env, bc)
	if err != nil {
		return nil, err
	}
	headObjs, err := head.objects(o.Env, hc)
	if err != nil {
		return nil, err
	}
	res, err := review.Compare(baseLabel, headLabel, baseObjs, headObjs)
	if err != nil {
		return nil, err
	}
	if bc != nil {
		res.Chart = review.NewChartSides(bc.ref, hc.ref)
	}
	res.Notes = notes
	return res, nil
}

// readRevision reads the fork as git stores it at sha; label is how the user named it.
func readRevision(repo *gitrev.Repo, label, sha string) (*side, error) {
	files, err := repo.Files(sha)
	if err != nil {
		return nil, fmt.Errorf("revision %s (%s): %w", label, sha[:12], err)
	}
	name := fmt.Sprintf("revision %s (%s)", label, sha[:12])
	if label == sha[:12] {
		name = "revision " + label
	}
	return readSide(name, render.Tree(files))
}

// readSide reads the clusterGroups of a fork tree.
func readSide(label string, t render.Tree) (*side, error) {
	patterns, err := render.ReadPatterns(t)
	if err != nil {
		return nil, fmt.Errorf("%s does not render: %w", label, err)
	}
	return &side{label: label, tree: t, patterns: patterns}, nil
}

// objects renders the side as review compares it.
func (s *side) objects(env config.PluginEnv, chart *clusterGroupChart) ([]review.Object, error) {
	objs, err := renderObjects(s.tree, s.patterns, env, chart)
	if err != nil {
		return nil, fmt.Errorf("%s does not render: %w", s.label, err)
	}
	return objs, nil
}

// sideCharts resolves the chart each side pins. When either cannot be had, neither side gets
// one: a chart on one side only would show every clustergroup object as changed.
func sideCharts(ctx context.Context, charts *chartSource, base, head *side) (*clusterGroupChart, *clusterGroupChart, error) {
	if charts == nil {
		return nil, nil, nil
	}
	bc, err := charts.forTree(ctx, base.tree, base.patterns, base.label)
	if err == nil {
		var hc *clusterGroupChart
		if hc, err = charts.forTree(ctx, head.tree, head.patterns, head.label); err == nil {
			return bc, hc, nil
		}
	}
	if errors.Is(err, chartrepo.ErrUnavailable) {
		charts.logf("%s", unavailableNote(err))
		return nil, nil, nil
	}
	return nil, nil, err
}

// renderObjects is what review compares of a fork: every rendered object, and the clustergroup
// chart's objects (chart given, the hub's group) or what it makes objects of in the values.
func renderObjects(t render.Tree, patterns []*render.Pattern, env config.PluginEnv, chart *clusterGroupChart) ([]review.Object, error) {
	res, err := renderPatterns(t, patterns, env)
	if err != nil {
		return nil, err
	}
	valuesOnly := patterns
	if chart != nil {
		apps, err := clusterGroupChartApps(t, patterns, patterns, env, chart)
		if err != nil {
			return nil, err
		}
		res.Applications = append(apps, res.Applications...)
		valuesOnly = slices.DeleteFunc(slices.Clone(patterns), func(p *render.Pattern) bool {
			return slices.ContainsFunc(apps, func(a render.App) bool { return a.Plan.Group == p.ClusterGroup })
		})
	}
	out := clusterGroupObjects(valuesOnly)
	for _, app := range res.Applications {
		for _, o := range app.Objects {
			data, err := o.Decode()
			if err != nil {
				return nil, err
			}
			name := o.Name
			if o.Namespace != "" {
				name = o.Namespace + "/" + o.Name
			}
			out = append(out, review.Object{Group: app.Plan.Group, App: app.Plan.Name, ID: o.ID(), Kind: o.Kind, Name: name, Data: data})
		}
	}
	return out, nil
}
