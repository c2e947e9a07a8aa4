package config

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// Schema returns the JSON Schema of the config, generated from the Go types so that it can
// never drift from what Load accepts. Unknown fields are rejected, as Load does.
func Schema() ([]byte, error) {
	r := jsonschema.Reflector{
		ExpandedStruct:             true,
		DoNotReference:             true,
		AllowAdditionalProperties:  false,
		RequiredFromJSONSchemaTags: true,
	}
	s := r.Reflect(&Pattern{})
	s.ID = jsonschema.ID("https://pattern-gen.io/schemas/" + APIVersion + "/pattern.json")
	s.Title = "pattern-gen Pattern config"
	s.Description = "Typed config from which pattern-gen scaffolds a fork of the Confidential Containers pattern."
	s.Required = []string{"apiVersion", "kind", "git"}
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode config schema: %w", err)
	}
	return append(out, '\n'), nil
}
