package manifest

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	stream := "---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: ns}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: ns}\n---\napiVersion: example.com/v1\nkind: Cluster\nmetadata: {name: c}\n"
	objs, err := Split("s.yaml", []byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	Sort(objs)
	var ids, files []string
	for _, o := range objs {
		ids = append(ids, o.ID())
		files = append(files, o.FileName())
	}
	if got := strings.Join(ids, " "); got != "apps/Deployment/ns/a core/ConfigMap/ns/b example.com/Cluster/_/c" {
		t.Errorf("ids: %s", got)
	}
	if got := strings.Join(files, " "); got != "deployment-ns-a.yaml configmap-ns-b.yaml cluster-c.yaml" {
		t.Errorf("file names: %s", got)
	}
	out, err := Stream(objs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: ns}\n" {
		t.Errorf("stream: %q", out)
	}
}

func TestSplitNamesTheBadDocument(t *testing.T) {
	_, err := Split("s.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: ConfigMap\n---\n- a list\n"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"s.yaml: document 2 (line 5): object has no apiVersion, metadata.name", "s.yaml: document 3 (line 7): not a Kubernetes object"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestSplitRefusesHugeStream: a stream over MaxStreamBytes is refused before it is parsed.
func TestSplitRefusesHugeStream(t *testing.T) {
	stream := make([]byte, MaxStreamBytes+1)
	_, err := Split("charts/big", stream)
	if err == nil || !strings.Contains(err.Error(), "charts/big: the rendered stream is 67108865 bytes, more than the 67108864 allowed") {
		t.Errorf("got %v", err)
	}
}
