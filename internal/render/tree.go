// Package render is pattern-gen's pure core: it turns a validated config into the file tree of
// a fork (Scaffold) and a fork's file tree into the Kubernetes objects Argo CD would apply
// (Render), running Helm and kustomize in-process. It reads and writes no disk and no network.
package render

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Tree is a file tree in memory: slash-separated relative paths to contents.
type Tree map[string][]byte

// Paths returns the file paths in lexical order.
func (t Tree) Paths() []string {
	ps := make([]string, 0, len(t))
	for p := range t {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// AddFS copies every file below dir of fsys into the tree at the same paths.
func (t Tree) AddFS(fsys fs.FS, dir string) error {
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		t[p] = data
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", dir, err)
	}
	return nil
}

// Sub returns the files below dir, with paths relative to dir.
func (t Tree) Sub(dir string) Tree {
	dir = strings.TrimSuffix(path.Clean(dir), "/") + "/"
	out := Tree{}
	for p, data := range t {
		if rest, ok := strings.CutPrefix(p, dir); ok {
			out[rest] = data
		}
	}
	return out
}

// Has reports whether the tree holds the file.
func (t Tree) Has(p string) bool {
	_, ok := t[p]
	return ok
}

// IsDir reports whether the tree holds a file below dir ("." or "" is the root).
func (t Tree) IsDir(dir string) bool {
	if dir == "" || dir == "." {
		return len(t) > 0
	}
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for p := range t {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// ReadFile returns a file's contents, or an error naming the missing file.
func (t Tree) ReadFile(p string) ([]byte, error) {
	data, ok := t[p]
	if !ok {
		return nil, fmt.Errorf("%s: not in the fork", p)
	}
	return data, nil
}
