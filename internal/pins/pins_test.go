package pins_test

import (
	"os"
	"strings"
	"testing"

	"github.com/pattern-gen/pattern-gen/internal/pins"
)

func TestParse(t *testing.T) {
	data, err := os.ReadFile("../../" + pins.File)
	if err != nil {
		t.Fatal(err)
	}
	table, err := pins.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := table.ChartVersion("golang-external-secrets"); err != nil || v != "0.2.*" {
		t.Errorf("golang-external-secrets pin %q, %v", v, err)
	}
	if c, vs, ok := table.Serving("external-secrets.io"); !ok || c.Name != "golang-external-secrets" || strings.Join(vs, ",") != "v1,v1beta1" {
		t.Errorf("external-secrets.io served by %q %v %v", c.Name, vs, ok)
	}
	head := "apiVersion: pattern-gen.io/v1alpha1\nkind: Pins\ncomponents:\n"
	for _, bad := range []string{
		head + "  - {name: a, pinned: '1', tested: '1', pinnd: '2'}\n", // a typo would drop a pin
		head + "  - {name: a, pinned: '1'}\n",
		head + "  - {name: a, pinned: '1', tested: '1', serves: [{group: g, versions: [v1]}]}\n  - {name: b, pinned: '1', tested: '1', serves: [{group: g, versions: [v2]}]}\n",
		"apiVersion: v1\nkind: ConfigMap\n",
	} {
		if _, err := pins.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse accepted:\n%s", bad)
		}
	}
}
