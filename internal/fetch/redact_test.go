package fetch

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ src, want string }{
		{"https://example.com/x.yaml?checksum=sha256:abc", "https://example.com/x.yaml?checksum=sha256:abc"},
		{"https://user:s3cret@example.com/x.yaml", "https://REDACTED@example.com/x.yaml"},
		{"https://ghp_T0KEN@example.com/x.yaml", "https://REDACTED@example.com/x.yaml"},
		{"https://user:p@ss@example.com/x.yaml", "https://REDACTED@example.com/x.yaml"},
		{"git::https://user:s3cret@example.com/r.git//f.yaml?ref=v1", "git::https://REDACTED@example.com/r.git//f.yaml?ref=v1"},
		{"git::ssh://git@example.com/r.git//f.yaml?ref=v1&sshkey=LS0tLS1CRUdJTi+/key==", "git::ssh://REDACTED@example.com/r.git//f.yaml?ref=v1&sshkey=REDACTED"},
		{"https://example.com/x.yaml?token=t0k3n&access_token=a1b2c3&X-Amz-Signature=s1gnature&sig=abcd&depth=1",
			"https://example.com/x.yaml?token=REDACTED&access_token=REDACTED&X-Amz-Signature=REDACTED&sig=REDACTED&depth=1"},
		{"s3::https://AKIAKEY:secretkey@bucket.s3.amazonaws.com/x?aws_access_key_secret=zzzz", "s3::https://REDACTED@bucket.s3.amazonaws.com/x?aws_access_key_secret=REDACTED"},
		{"http://u:pw@127.0.0.1:1/x?password=hunter22", "http://REDACTED@127.0.0.1:1/x?password=REDACTED"},
		{"hg::https://example.com/repo?Secret=x", "hg::https://example.com/repo?Secret=REDACTED"},
		{"./local/pattern-gen.yaml", "./local/pattern-gen.yaml"},
	}
	for _, tc := range tests {
		if got := Redact(tc.src); got != tc.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
}

// Whatever form a secret takes in an error (decoded, re-encoded, outside any URL), it is gone.
func TestRedactError(t *testing.T) {
	src := "git::https://oauth2:p%40ss%20w0rd@example.com/r.git//f.yaml?token=tok%2Bvalue&ref=main"
	inner := errors.New(`error downloading 'https://oauth2:p%40ss%20w0rd@example.com/r.git?token=tok%2Bvalue': ` +
		"password p@ss w0rd rejected for oauth2; token tok+value, then 'p%40ss%20w0rd'")
	err := fmt.Errorf("fetch: %w", withSentinel(inner))
	got := RedactError(src, err)
	for _, secret := range []string{"p@ss w0rd", "p%40ss%20w0rd", "tok+value", "tok%2Bvalue"} {
		if strings.Contains(got.Error(), secret) {
			t.Errorf("%q in %q", secret, got)
		}
	}
	if !errors.Is(got, errSentinel) {
		t.Error("errors.Is no longer reaches the cause")
	}
	if errors.Unwrap(got) != nil {
		t.Error("the redacted error unwraps to the original text")
	}
}

var errSentinel = errors.New("sentinel")

func withSentinel(err error) error { return fmt.Errorf("%w (%w)", err, errSentinel) }
