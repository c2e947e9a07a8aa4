// Package pins is the table of external components a fork installs or relies on
// (values/pins.yaml): the version range the fork pins, the version the tests use, and the API
// versions that version serves. init writes its pins into forks; validate checks forks
// against it; the tests install what it names.
package pins

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is where the table lives in the product's assets.
const File = "values/pins.yaml"

// Table is every component, in the file's order.
type Table struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Components []Component `yaml:"components"`
}

// Component is one external component.
type Component struct {
	Name       string   `yaml:"name"`
	What       string   `yaml:"what"`
	Pin        string   `yaml:"pin"`   // where a fork pins it
	Chart      string   `yaml:"chart"` // the Helm chart a clusterGroup application names, if it is one
	Pinned     string   `yaml:"pinned"`
	Tested     string   `yaml:"tested"`
	TestedWith string   `yaml:"testedWith"`
	Bundles    *Bundle  `yaml:"bundles"`
	Serves     []API    `yaml:"serves"`
	Schemas    []Schema `yaml:"schemas"`
}

// Schema is a schema validate checks forks against, at the exact version the component's
// pin installs: where upstream publishes it and its SHA-256, so the fetched copy is the one
// reviewed here.
type Schema struct {
	Kind   string `yaml:"kind"` // SchemaValues, SchemaCRD or SchemaOpenAPI
	URL    string `yaml:"url"`  // https, with the exact tag or commit in the path
	SHA256 string `yaml:"sha256"`
	// CSVs are the operator versions (OLM CSV names) this schema is of; a fork is checked
	// against the one it subscribes. Empty: the only version, whatever the fork pins.
	CSVs []string `yaml:"csvs"`
}

// Kinds of Schema.
const (
	SchemaValues  = "values"  // a Helm chart's values.schema.json
	SchemaCRD     = "crd"     // a CustomResourceDefinition
	SchemaOpenAPI = "openapi" // a Kubernetes OpenAPI v3 document (core kinds)
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Schemas lists every schema of the table of the given kind, in the file's order.
func (t Table) Schemas(kind string) []Schema {
	var out []Schema
	for _, c := range t.Components {
		for _, s := range c.Schemas {
			if s.Kind == kind {
				out = append(out, s)
			}
		}
	}
	return out
}

// Bundle is an operator a chart installs, and where its CRDs are in its Go module.
type Bundle struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	Module  string `yaml:"module"` // path@version for the Go module proxy
	CRDs    string `yaml:"crds"`   // folder of the CRDs inside the module
}

// API is an API group and the versions of it the component serves; Kinds, when listed, are
// the kinds a test checks those versions for in the component's own CRDs.
type API struct {
	Group    string   `yaml:"group"`
	Kinds    []string `yaml:"kinds"`
	Versions []string `yaml:"versions"`
}

// Parse decodes the table strictly: an unknown key is a typo that would drop a pin.
func Parse(data []byte) (Table, error) {
	var t Table
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return Table{}, fmt.Errorf("%s: %w", File, err)
	}
	if t.APIVersion != "pattern-gen.io/v1alpha1" || t.Kind != "Pins" {
		return Table{}, fmt.Errorf("%s: not a pattern-gen.io/v1alpha1 Pins table", File)
	}
	groups := map[string]string{}
	for _, c := range t.Components {
		if c.Name == "" || c.Pinned == "" || c.Tested == "" {
			return Table{}, fmt.Errorf("%s: component %q: name, pinned and tested are required", File, c.Name)
		}
		for _, sc := range c.Schemas {
			if !slices.Contains([]string{SchemaValues, SchemaCRD, SchemaOpenAPI}, sc.Kind) || !strings.HasPrefix(sc.URL, "https://") || strings.Contains(sc.URL, "?") || !sha256Hex.MatchString(sc.SHA256) {
				return Table{}, fmt.Errorf("%s: component %q: schema %q: needs kind values, crd or openapi, an https url without a query, and sha256 (64 hex digits)", File, c.Name, sc.URL)
			}
		}
		for _, a := range c.Serves {
			if other, ok := groups[a.Group]; ok {
				return Table{}, fmt.Errorf("%s: API group %s is served by both %s and %s", File, a.Group, other, c.Name)
			}
			groups[a.Group] = c.Name
		}
	}
	return t, nil
}

// Chart returns the component a clusterGroup application's chart names.
func (t Table) Chart(name string) (Component, bool) {
	i := slices.IndexFunc(t.Components, func(c Component) bool { return c.Chart != "" && c.Chart == name })
	if i < 0 {
		return Component{}, false
	}
	return t.Components[i], true
}

// Named returns a component by name (an error when the table lacks it; templates call this).
func (t Table) Named(name string) (Component, error) {
	i := slices.IndexFunc(t.Components, func(c Component) bool { return c.Name == name })
	if i < 0 {
		return Component{}, fmt.Errorf("%s: no component %s", File, name)
	}
	return t.Components[i], nil
}

// ChartVersion returns the version range a fork pins a chart to (templates call this).
func (t Table) ChartVersion(chart string) (string, error) {
	c, ok := t.Chart(chart)
	if !ok {
		return "", fmt.Errorf("%s: no component with chart %s", File, chart)
	}
	return c.Pinned, nil
}

// Serving returns the component that serves an API group, and the versions it serves.
func (t Table) Serving(group string) (Component, []string, bool) {
	for _, c := range t.Components {
		for _, a := range c.Serves {
			if a.Group == group {
				return c, a.Versions, true
			}
		}
	}
	return Component{}, nil, false
}

// Describe names a component and what it runs, for messages: "golang-external-secrets 0.2.*
// (external-secrets 0.16.2)".
func (c Component) Describe() string {
	s := c.Name + " " + c.Pinned
	if c.Bundles != nil {
		s += " (" + c.Bundles.Name + " " + c.Bundles.Version + ")"
	}
	return s
}

// VersionsText lists API versions for messages.
func VersionsText(vs []string) string { return strings.Join(vs, ", ") }
