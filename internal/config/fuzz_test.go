package config_test

import (
	"errors"
	"strings"
	"testing"

	patterngen "github.com/pattern-gen/pattern-gen"
	"github.com/pattern-gen/pattern-gen/internal/config"
)

// FuzzLoad: any bytes give either a valid config or input problems, never a panic, and the same
// input always gives the same answer.
func FuzzLoad(f *testing.F) {
	f.Add(patterngen.DefaultConfig())
	f.Add([]byte(head))
	f.Add([]byte(head + "azure:\n  instanceSizes: [a, b]\n  tags: {k: v}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("apiVersion: pattern-gen.io/v1alpha1\nkind: Pattern\nmetadata: &m {name: x}\ngit: *m\n"))
	f.Add([]byte("{\"apiVersion\": \"pattern-gen.io/v1alpha1\", \"kind\": \"Pattern\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := config.Load("f.yaml", data)
		if err != nil {
			var ps config.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("not a list of input problems: %T %v", err, err)
			}
			for _, p := range ps {
				if p.File != "f.yaml" || strings.Contains(p.Msg, "\x00") {
					t.Fatalf("bad problem: %+v", p)
				}
			}
			if _, again := config.Load("f.yaml", data); again == nil || again.Error() != err.Error() {
				t.Fatalf("not deterministic: %v then %v", err, again)
			}
			return
		}
		if l.Pattern.Metadata.Name == "" || l.Pattern.Platform != "Azure" {
			t.Fatalf("accepted without defaults: %+v", l.Pattern)
		}
	})
}

// FuzzFromEnv: any ARGOCD_APP_PARAMETERS value is parsed or rejected, never a panic.
func FuzzFromEnv(f *testing.F) {
	f.Add(`[{"name":"azure-region","string":"eastus"}]`)
	f.Add(`[{"name":"azure-instance-sizes","array":["a","b"]},{"name":"overlay","map":{"a":"b"}}]`)
	f.Add(`{not json`)
	f.Add(`[{"name":"x"}]`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, params string) {
		e, err := config.FromEnv(func(k string) string {
			if k == config.EnvAppParameters {
				return params
			}
			return ""
		})
		if err != nil {
			return
		}
		for name := range e.Params {
			known := false
			for _, s := range config.PluginSettings {
				known = known || s.Param == name
			}
			if !known {
				t.Fatalf("accepted unknown parameter %q", name)
			}
		}
	})
}
