package render

import (
	"path"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// OverlayInput is the file, beside an overlay's kustomization.yaml, in which the renderer puts
// the chart's output; the overlay lists it under resources.
const OverlayInput = "chart.yaml"

func kustomizeBuild(t Tree, overlay string, chartOutput []byte) ([]byte, error) {
	fsys := filesys.MakeFsInMemory()
	for p, data := range t { // order does not matter in a filesystem; no sort on this hot path
		if err := fsys.MkdirAll(path.Join("/", path.Dir(p))); err != nil {
			return nil, err
		}
		if err := fsys.WriteFile(path.Join("/", p), data); err != nil {
			return nil, err
		}
	}
	if err := fsys.WriteFile(path.Join("/", overlay, OverlayInput), chartOutput); err != nil {
		return nil, err
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, path.Join("/", overlay))
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}
