package config

import (
	"errors"
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// decoder fills a config value from a YAML node as yaml.v3's Node.Decode does, in time linear
// in the number of keys. yaml.v3 compares every pair of keys of every mapping it decodes to
// find duplicates, whatever the target type, so a 1 MiB config of 40,000 tags (or unknown
// fields) took 9 to 13 s. Here the walk has already rejected duplicates and reported unknown
// fields; mappings are matched to struct fields and map entries here, and only scalars go to
// yaml.v3, so every scalar means exactly what it means to yaml.v3.
type decoder struct {
	typeErrs []string // yaml.v3's TypeError lines: decoding goes on after them
	fatal    error    // an error that stops yaml.v3 (e.g. a value that contradicts its tag)
}

var stringType = reflect.TypeOf("")

func (d *decoder) err() error {
	if d.fatal != nil {
		return d.fatal
	}
	if len(d.typeErrs) > 0 {
		return &yaml.TypeError{Errors: d.typeErrs}
	}
	return nil
}

// decode fills v from n and reports whether yaml.v3 would have set v (a list drops the items
// it could not set, as yaml.v3 does).
func (d *decoder) decode(n *yaml.Node, v reflect.Value) bool {
	if d.fatal != nil {
		return false
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode {
		return d.scalar(n, v)
	}
	if v.Kind() == reflect.Pointer && n.ShortTag() != "!!null" { // yaml.v3 leaves a pointer nil for "!!null {...}"
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && v.Kind() == reflect.Struct:
		// A merge key (<<) is an unknown field to the walk, so it is not followed here.
		fields := yamlFields(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			var name string
			if !d.decode(n.Content[i], reflect.ValueOf(&name).Elem()) {
				continue
			}
			if f, ok := fields[name]; ok {
				d.decode(n.Content[i+1], v.FieldByIndex(f.Index))
			}
		}
		return true
	case n.Kind == yaml.MappingNode && v.Kind() == reflect.Map:
		d.mapping(n, v)
		return true
	case n.Kind == yaml.SequenceNode && v.Kind() == reflect.Slice:
		out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
		for _, c := range n.Content {
			e := reflect.New(v.Type().Elem()).Elem()
			if d.decode(c, e) {
				out = reflect.Append(out, e)
			}
		}
		v.Set(out)
		return true
	}
	// Aliases never get here: the walk refuses them.
	d.typeErrs = append(d.typeErrs, fmt.Sprintf("line %d: cannot unmarshal %s into %s", n.Line, n.ShortTag(), v.Type()))
	return false
}

func (d *decoder) mapping(n *yaml.Node, m reflect.Value) {
	isNew := m.IsNil()
	if isNew {
		m.Set(reflect.MakeMapWithSize(m.Type(), len(n.Content)/2))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := reflect.New(m.Type().Key()).Elem()
		if !d.decode(n.Content[i], k) {
			continue
		}
		e := reflect.New(m.Type().Elem()).Elem()
		vn := n.Content[i+1]
		// yaml.v3 keeps a null value only where it sets nothing else.
		if d.decode(vn, e) || vn.ShortTag() == "!!null" && (isNew || !m.MapIndex(k).IsValid()) {
			m.SetMapIndex(k, e)
		}
	}
}

// scalar decodes a scalar with yaml.v3 itself. A null sets only what can be nil, as in yaml.v3.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value) bool {
	if n.Tag == "!!str" && v.Type() == stringType {
		v.SetString(n.Value) // what yaml.v3 does, without a decoder per key
		return true
	}
	err := n.Decode(v.Addr().Interface())
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		d.typeErrs = append(d.typeErrs, te.Errors...)
		return false
	case err != nil:
		d.fatal = err
		return false
	case n.ShortTag() == "!!null":
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			return true
		}
		return false
	}
	return true
}
