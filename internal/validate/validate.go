// Package validate checks a rendered fork against schemas and against the rules that hold
// between files: the clustergroup values schema, the CRD schemas of the kinds the charts use,
// and cross-file rules no schema states. It reports every problem at once.
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pattern-gen/pattern-gen/internal/manifest"
	"github.com/pattern-gen/pattern-gen/internal/render"
)

// Problem is one finding: where (a file of the fork or of the render) and what.
type Problem struct {
	File, Path, Msg string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Path + ": " + p.Msg
}

// Problems is several problems reported as one error, one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// CRDs holds the schemas of custom resources, by group/version/kind.
type CRDs map[string]*jsonschema.Schema

// LoadCRDs compiles the openAPIV3Schema of every served version of the given
// CustomResourceDefinition documents. Objects get additionalProperties: false unless the CRD
// preserves unknown fields, so a misspelt field is reported instead of silently pruned.
// Kubernetes forbids $ref in a CRD schema: each one is a Problem, and all of them come back
// together as Problems, with the schemas of the other CRDs. Nothing outside the documents is
// ever loaded.
func LoadCRDs(docs map[string][]byte) (CRDs, error) {
	out := CRDs{}
	from := map[string]string{}
	set := render.NewSchemaSet()
	var refs Problems
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		objs, err := manifest.Split(name, docs[name])
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if o.Kind != "CustomResourceDefinition" {
				continue
			}
			// Decoded in linear time like every other input; yaml.v3's own decode into a map
			// compares every pair of keys.
			m, err := o.Decode()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			def := crdOf(m)
			for i, v := range def.Spec.Versions {
				if !v.Served || v.Schema.OpenAPIV3Schema == nil {
					continue
				}
				at := fmt.Sprintf("spec.versions[%d].schema.openAPIV3Schema", i)
				if found := crdRefs(name, at, v.Schema.OpenAPIV3Schema); len(found) > 0 {
					refs = append(refs, found...)
					continue
				}
				strict(v.Schema.OpenAPIV3Schema, true)
				raw, err := json.Marshal(v.Schema.OpenAPIV3Schema)
				if err != nil {
					return nil, err
				}
				doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
				if err != nil {
					return nil, err
				}
				key := def.Spec.Group + "/" + v.Name + "/" + def.Spec.Names.Kind
				if first, dup := from[key]; dup {
					return nil, fmt.Errorf("%s and %s both define %s; give only the CRDs of the operator versions the fork pins", first, name, key)
				}
				from[key] = name
				url := "crd://" + strings.ReplaceAll(key, "/", "_") + ".json"
				if err := set.Add(name, url, doc); err != nil {
					return nil, err
				}
				s, err := set.Compile(name, url)
				if err != nil {
					return nil, schemaError(name, "schema of "+key, err)
				}
				out[key] = s
			}
		}
	}
	if len(refs) > 0 { // the other CRDs still check objects: validate lists every problem at once
		return out, refs
	}
	return out, nil
}

// crdRefs lists the $ref keywords of a CRD schema, walking only where schemas sit (so a
// property named "$ref" is no keyword).
func crdRefs(file, at string, s map[string]any) []Problem {
	var ps []Problem
	if _, ok := s["$ref"]; ok {
		ps = append(ps, Problem{File: file, Path: at + ".$ref", Msg: "$ref is not allowed in a CRD schema (Kubernetes rejects it); inline the referenced schema"})
	}
	sub := func(where string, v any) {
		if m, ok := v.(map[string]any); ok {
			ps = append(ps, crdRefs(file, where, m)...)
		}
	}
	for _, k := range []string{"properties", "patternProperties", "definitions", "dependencies"} {
		m, _ := s[k].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(m)) {
			sub(at+"."+k+"."+name, m[name])
		}
	}
	for _, k := range []string{"items", "additionalProperties", "additionalItems", "not"} {
		sub(at+"."+k, s[k])
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf", "items"} {
		l, _ := s[k].([]any)
		for i, x := range l {
			sub(fmt.Sprintf("%s.%s[%d]", at, k, i), x)
		}
	}
	return ps
}

// LoadOpenAPI compiles the schemas of the Kubernetes kinds in OpenAPI v3 documents (such as
// api/openapi-spec/v3/*.json of k8s.io/kubernetes), keyed like CRDs by group/version/kind,
// closed the same way.
func LoadOpenAPI(docs map[string][]byte) (CRDs, error) {
	out := CRDs{}
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var doc map[string]any
		if err := json.Unmarshal(docs[name], &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		comps, _ := render.Dig(doc, "components", "schemas").(map[string]any)
		if len(comps) == 0 {
			continue
		}
		for _, c := range comps {
			if m, ok := c.(map[string]any); ok {
				strict(m, false)
			}
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		// In-document references (#/components/schemas/...) resolve; nothing else loads.
		url := "openapi://" + filepath.Base(name)
		set := render.NewSchemaSet()
		if err := set.Add(name, url, inst); err != nil {
			return nil, err
		}
		compNames := make([]string, 0, len(comps))
		for n := range comps {
			compNames = append(compNames, n)
		}
		sort.Strings(compNames)
		for _, cn := range compNames {
			gvks, _ := comps[cn].(map[string]any)["x-kubernetes-group-version-kind"].([]any)
			for _, g := range gvks {
				gm, _ := g.(map[string]any)
				key := fmt.Sprintf("%v/%v/%v", gm["group"], gm["version"], gm["kind"])
				if _, dup := out[key]; dup {
					continue
				}
				s, err := set.Compile(name, url+"#/components/schemas/"+strings.ReplaceAll(cn, "/", "~1"))
				if err != nil {
					return nil, schemaError(name, cn, err)
				}
				out[key] = s
			}
		}
	}
	return out, nil
}

// schemaError puts a compile error in context: a reference out of the document names its file
// already; any other error gets the file and what was compiled.
func schemaError(file, what string, err error) error {
	var re *render.ReachError
	switch {
	case errors.As(err, &re):
		return re
	case what == "":
		return fmt.Errorf("%s: %w", file, err)
	}
	return fmt.Errorf("%s: %s: %w", file, what, err)
}

// strict closes objects that list their properties; metadata stays open (the API server owns
// its schema).
func strict(s map[string]any, root bool) {
	if props, ok := s["properties"].(map[string]any); ok {
		if _, has := s["additionalProperties"]; !has && s["x-kubernetes-preserve-unknown-fields"] != true {
			s["additionalProperties"] = false
		}
		for k, p := range props {
			if pm, ok := p.(map[string]any); ok {
				if root && k == "metadata" {
					continue
				}
				strict(pm, false)
			}
		}
		if root {
			// apiVersion, kind and metadata are always allowed at the top.
			for _, k := range []string{"apiVersion", "kind", "metadata"} {
				if _, ok := props[k]; !ok {
					props[k] = map[string]any{}
				}
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if m, ok := s[k].(map[string]any); ok {
			strict(m, false)
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if l, ok := s[k].([]any); ok {
			for _, x := range l {
				if m, ok := x.(map[string]any); ok {
					strict(m, false)
				}
			}
		}
	}
}

// Objects checks each rendered object whose kind has a CRD schema.
func Objects(apps []render.App, crds CRDs) []Problem {
	var ps []Problem
	for _, app := range apps {
		for _, o := range app.Objects {
			s, ok := crds[groupVersion(o.APIVersion)+"/"+o.Kind]
			if !ok {
				continue
			}
			m, err := o.Decode()
			if err != nil {
				ps = append(ps, Problem{File: app.Plan.ObjectPath(o), Msg: err.Error()})
				continue
			}
			inst, err := toJSONValue(m)
			if err != nil {
				ps = append(ps, Problem{File: app.Plan.ObjectPath(o), Msg: err.Error()})
				continue
			}
			if err := s.Validate(inst); err != nil {
				ps = append(ps, schemaProblems(app.Plan.ObjectPath(o), o.Kind+" schema", err)...)
			}
		}
	}
	return ps
}

// Covers says whether the schemas hold the kind at apiVersion.
func (c CRDs) Covers(apiVersion, kind string) bool {
	_, ok := c[groupVersion(apiVersion)+"/"+kind]
	return ok
}

func groupVersion(apiVersion string) string {
	if !strings.Contains(apiVersion, "/") {
		return "/" + apiVersion
	}
	return apiVersion
}

func toJSONValue(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// schemaProblems flattens a validation error into one problem per failing leaf.
func schemaProblems(file, what string, err error) []Problem {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{File: file, Msg: err.Error()}}
	}
	var ps []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			// SchemaMessage never quotes the value: a Secret's data or a password may fail.
			ps = append(ps, Problem{File: file, Path: "/" + strings.Join(e.InstanceLocation, "/"), Msg: what + ": " + render.SchemaMessage(e.ErrorKind)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return ps
}

// ClusterGroupValues checks values-global.yaml merged with each clusterGroup file of the fork
// (patterns, from render.ReadPatterns: the main group and every spoke group) against the
// clustergroup chart's values.schema.json, as the clustergroup chart sees them on each cluster.
func ClusterGroupValues(patterns []*render.Pattern, schema []byte) ([]Problem, error) {
	const file, url = "clustergroup schema", "clustergroup://values.schema.json"
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// Only in-document references (#/definitions/...) resolve; nothing else loads.
	set := render.NewSchemaSet()
	if err := set.Add(file, url, doc); err != nil {
		return nil, err
	}
	s, err := set.Compile(file, url)
	if err != nil {
		return nil, schemaError(file, "", err)
	}
	var ps []Problem
	for _, p := range patterns {
		inst, err := toJSONValue(p.Values())
		if err != nil {
			return nil, err
		}
		if err := s.Validate(inst); err != nil {
			ps = append(ps, schemaProblems("values-global.yaml + values-"+p.ClusterGroup+".yaml", "clustergroup schema", err)...)
		}
	}
	return ps, nil
}

// CrossFile checks what no schema states, for the clusterGroup of p and its applications among
// apps: every Route targets a Service of the same application and namespace; every namespace an
// object uses is declared in the clusterGroup; subscriptions are pinned with csv: and never with
// OLMv1's version:; the plugin sidecar can read the cluster (PluginCredentials).
func CrossFile(p *render.Pattern, apps []render.App) []Problem {
	ps := PluginCredentials(p, apps)
	group := p.ClusterGroup
	groupFile := "values-" + group + ".yaml"
	declared := map[string]bool{}
	namespaces, _ := p.Dig("clusterGroup", "namespaces").([]any)
	for _, n := range namespaces {
		switch v := n.(type) {
		case string:
			declared[v] = true
		case map[string]any:
			for k := range v {
				declared[k] = true
			}
		}
	}
	for _, sub := range p.Subscriptions() {
		s, path := sub.Spec, sub.Path
		if _, ok := s["version"]; ok {
			ps = append(ps, Problem{File: groupFile, Path: path + ".version", Msg: "version: makes the clustergroup chart install an OLMv1 ClusterExtension; pin the operator with csv: instead"})
		}
		if _, ok := s["csv"]; !ok {
			ps = append(ps, Problem{File: groupFile, Path: path, Msg: "no csv: pin; OLM would install whatever the channel offers"})
		}
	}
	for _, app := range apps {
		if app.Plan.Group != group {
			continue
		}
		services := map[string]bool{}
		for _, o := range app.Objects {
			if o.Kind == "Service" && o.APIVersion == "v1" {
				services[o.Namespace+"/"+o.Name] = true
			}
		}
		reported := map[string]bool{}
		for _, o := range app.Objects {
			file := app.Plan.ObjectPath(o)
			// The clustergroup chart makes the group's Argo CD namespace itself (its ArgoCD CR lives there).
			argoNS := o.Namespace == p.Name+"-"+group
			if o.Namespace != "" && !declared[o.Namespace] && !platformNamespace(o.Namespace) && !argoNS && !reported[o.Namespace] {
				reported[o.Namespace] = true // once per application and namespace
				ps = append(ps, Problem{File: file, Path: "metadata.namespace", Msg: fmt.Sprintf("namespace %s is not declared in %s clusterGroup.namespaces", o.Namespace, groupFile)})
			}
			if o.Kind == "Route" {
				to := o.String("spec", "to", "name")
				// The KBS Service is created by the Trustee operator from the KbsConfig.
				if to != "" && !services[o.Namespace+"/"+to] && !(to == "kbs-service" && hasKind(app, "KbsConfig")) {
					ps = append(ps, Problem{File: file, Path: "spec.to.name", Msg: fmt.Sprintf("Service %s/%s is not rendered by application %s", o.Namespace, to, app.Plan.Name)})
				}
			}
		}
	}
	return ps
}

func hasKind(app render.App, kind string) bool {
	for _, o := range app.Objects {
		if o.Kind == kind {
			return true
		}
	}
	return false
}

// platformNamespace tells the namespaces every OpenShift cluster has: a pattern may put objects
// there (RBAC to read cloud-conf) but must not declare them, or the clustergroup chart would
// manage them (labels, an OperatorGroup).
func platformNamespace(ns string) bool {
	switch ns {
	case "default", "openshift", "openshift-config", "openshift-config-managed", "openshift-cloud-controller-manager", "openshift-cloud-credential-operator",
		"openshift-operators", "openshift-marketplace", "openshift-gitops", "openshift-ingress", "openshift-machine-api":
		return true
	}
	return strings.HasPrefix(ns, "kube-")
}

// crdDef is what LoadCRDs reads of a CustomResourceDefinition.
type crdDef struct {
	Spec struct {
		Group    string
		Names    struct{ Kind string }
		Versions []crdVersion
	}
}

type crdVersion struct {
	Name   string
	Served bool
	Schema struct{ OpenAPIV3Schema map[string]any }
}

func crdOf(m map[string]any) crdDef {
	var c crdDef
	str := func(v any) string { s, _ := v.(string); return s }
	c.Spec.Group = str(render.Dig(m, "spec", "group"))
	c.Spec.Names.Kind = str(render.Dig(m, "spec", "names", "kind"))
	versions, _ := render.Dig(m, "spec", "versions").([]any)
	for _, x := range versions {
		v, _ := x.(map[string]any)
		cv := crdVersion{Name: str(v["name"])}
		cv.Served, _ = v["served"].(bool)
		cv.Schema.OpenAPIV3Schema, _ = render.Dig(v, "schema", "openAPIV3Schema").(map[string]any)
		c.Spec.Versions = append(c.Spec.Versions, cv)
	}
	return c
}
