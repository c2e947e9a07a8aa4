package project

import (
	"fmt"
	"slices"

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
	// ClusterGroupChart is a folder holding the clustergroup chart: its objects are rendered
	// for the hub's clusterGroup, instead of the values they come from. "" = values only.
	ClusterGroupChart string
	Logf              func(format string, args ...any) // notes for the user; may be nil
}

// Diff renders the fork at two revisions, offline, and compares them object by object.
func Diff(o DiffOptions) (*review.Result, error) {
	repo, err := gitrev.Open(o.Fork)
	if err != nil {
		return nil, err
	}
	chart, err := readChartOption(o.ClusterGroupChart, o.Logf)
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
	base, err := renderRevision(repo, baseLabel, baseSHA, o.Env, chart)
	if err != nil {
		return nil, err
	}
	var head []review.Object
	headLabel := o.Head
	if o.Head == "" {
		headLabel = "working tree"
		t, err := generate.ReadFork(o.Fork)
		if err != nil {
			return nil, err
		}
		if head, err = renderObjects(t, o.Env, chart); err != nil {
			return nil, fmt.Errorf("the working tree does not render: %w", err)
		}
	} else {
		sha, err := repo.Resolve(o.Head)
		if err != nil {
			return nil, err
		}
		if head, err = renderRevision(repo, o.Head, sha, o.Env, chart); err != nil {
			return nil, err
		}
	}
	return review.Compare(baseLabel, headLabel, base, head)
}

// renderRevision renders the fork as git stores it at sha; label is how the user named it.
func renderRevision(repo *gitrev.Repo, label, sha string, env config.PluginEnv, chart render.Tree) ([]review.Object, error) {
	files, err := repo.Files(sha)
	if err != nil {
		return nil, fmt.Errorf("revision %s (%s): %w", label, sha[:12], err)
	}
	objs, err := renderObjects(render.Tree(files), env, chart)
	if err != nil {
		return nil, fmt.Errorf("revision %s (%s) does not render: %w", label, sha[:12], err)
	}
	return objs, nil
}

// renderObjects is what review compares of a fork: every rendered object, and the clustergroup
// chart's objects (chart given, the hub's group) or what it makes objects of in the values.
func renderObjects(t render.Tree, env config.PluginEnv, chart render.Tree) ([]review.Object, error) {
	patterns, err := render.ReadPatterns(t)
	if err != nil {
		return nil, err
	}
	res, err := renderPatterns(t, patterns, env)
	if err != nil {
		return nil, err
	}
	valuesOnly := patterns
	if chart != nil {
		apps, err := clusterGroupChartApps(t, patterns, env, chart)
		if err != nil {
			return nil, err
		}
		res.Applications = append(apps, res.Applications...)
		valuesOnly = slices.DeleteFunc(slices.Clone(patterns), func(p *render.Pattern) bool { return !p.Spoke() })
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
