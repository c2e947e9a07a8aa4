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
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("a config must be a YAML mapping starting with apiVersion and kind")
	}
	root := doc.Content[0]
	git := mappingValue(root, "git")
	if git == nil {
		git = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "git"}, git)
	}
	if git.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("git: must be a mapping")
	}
	value := &yaml.Node{Kind: yaml.ScalarNode, Value: repoURL}
	if n := mappingValue(git, "repoURL"); n != nil {
		*n = *value
	} else {
		git.Content = append([]*yaml.Node{{Kind: yaml.ScalarNode, Value: "repoURL"}, value}, git.Content...)
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
