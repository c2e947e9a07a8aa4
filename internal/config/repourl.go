package config

import (
	"bytes"
	"fmt"
	"net/url"

	"gopkg.in/yaml.v3"
)

// RepoURLOf returns git.repoURL as a config document spells it, or "" when the document does
// not set it (or is not a config at all: Load reports that, with the line).
func RepoURLOf(data []byte) string {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) != 1 {
		return ""
	}
	if n := mappingValue(mappingValue(doc.Content[0], "git"), "repoURL"); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// SetRepoURL returns the config document with git.repoURL set to repoURL, re-encoded by the
// YAML encoder (comments and key order kept), so the fork's copy of its config names the
// repository its bootstrap points at.
func SetRepoURL(data []byte, repoURL string) ([]byte, error) {
	return setScalar(data, "git", "repoURL", repoURL, true)
}

// SetPluginImage returns the config with plugin.image set to image: init writes the image it
// chose into the embedded default's copy in the fork, so the fork names it and an update by
// another pattern-gen keeps it.
func SetPluginImage(data []byte, image string) ([]byte, error) {
	return setScalar(data, "plugin", "image", image, false)
}

// setScalar sets section.key in a config document through the YAML encoder (comments and order
// kept), first in the section when first is true, else last.
func setScalar(data []byte, section, key, v string, first bool) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("a config must be a YAML mapping starting with apiVersion and kind")
	}
	root := doc.Content[0]
	m := mappingValue(root, section)
	if m == nil {
		m = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: section}, m)
	}
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: must be a mapping", section)
	}
	value := &yaml.Node{Kind: yaml.ScalarNode, Value: v}
	switch n := mappingValue(m, key); {
	case n != nil:
		*n = *value
	case first:
		m.Content = append([]*yaml.Node{{Kind: yaml.ScalarNode, Value: key}, value}, m.Content...)
	default:
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, value)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WithoutCredentials returns a repository URL without the password of its user information
// (a clone made with a token keeps it in origin's URL), and whether there was one. Argo CD
// takes credentials from a repository Secret; a URL in values-global.yaml is public.
func WithoutCredentials(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, false
	}
	if _, ok := u.User.Password(); !ok && u.Scheme != "https" && u.Scheme != "http" {
		return raw, false // ssh://git@host/...: a user name, no secret
	}
	u.User = nil
	return u.String(), true
}
