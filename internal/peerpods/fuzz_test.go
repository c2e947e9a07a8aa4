package peerpods

import (
	"strings"
	"testing"
)

// FuzzParseCloudConf: any cloud.conf is parsed or rejected without a panic, and an error never
// quotes the input (cloud.conf can hold a client secret).
func FuzzParseCloudConf(f *testing.F) {
	f.Add([]byte(cloudConf))
	f.Add([]byte(`{"aadClientSecret": "CANARY-SECRET",`))
	f.Add([]byte(`{"location": 7}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCloudConf(data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "cloud.conf is not valid JSON (at byte ") && msg != "cloud.conf does not have the expected fields" {
				t.Fatalf("unexpected error text %q", msg)
			}
			return
		}
		_ = c.SubnetID()
		_ = c.NSGID()
	})
}
