package fetch

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// redacted stands in for every secret removed from a message.
const redacted = "REDACTED"

// safeQueryKeys are the query parameters whose values are shown: they steer the download and
// carry no credential. Every other value is redacted, whatever its name (token, sshkey, sig,
// X-Amz-Signature, ...), since a list of secret names can never be complete.
var safeQueryKeys = []string{"ref", "depth", "checksum"}

var (
	// userinfoRE matches the user (and password) of any URL in a text, whatever its scheme. The
	// greedy class backtracks to the last "@" before the host, as net/url splits it.
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s'"]*@`)
	// queryRE matches one query parameter of any URL in a text. A value does not end in ":",
	// so the colon of "fetch <url>: <cause>" stays in the message.
	queryRE = regexp.MustCompile(`([?&])([^=&#\s'"?]+)=([^&#\s'"]*[^&#\s'":]|)`)
)

// minSecretLen keeps very short values (a "1" or "x") from being replaced everywhere in a
// message, where they would garble it; inside a URL they are redacted whatever their length.
const minSecretLen = 4

// Redact returns src with its secrets replaced by REDACTED: URL userinfo (user:password@ becomes
// REDACTED@) and the value of every query parameter but ref, depth and checksum. Use it wherever
// a source string is printed.
func Redact(src string) string {
	return scrubber(src).scrub(src)
}

// RedactError returns err with every secret of src scrubbed from its text. The result does not
// unwrap to err, whose text may hold them (go-getter and git print the URL); errors.Is still
// reaches sentinels such as context.DeadlineExceeded.
func RedactError(src string, err error) error {
	if err == nil {
		return nil
	}
	return &sourceError{msg: scrubber(src).scrub(err.Error()), err: err}
}

type sourceError struct {
	msg string
	err error
}

func (e *sourceError) Error() string        { return e.msg }
func (e *sourceError) Is(target error) bool { return errors.Is(e.err, target) }

// secrets is the list of secret strings one source carries, longest first.
type secrets []string

// scrubber collects the secrets of src in every form a message may show them: as written,
// decoded, and encoded again for a query or a path.
func scrubber(src string) secrets {
	_, rest := splitForced(src)
	raw := rawUserinfo(rest)
	if u, err := url.Parse(rest); err == nil {
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				raw = append(raw, p)
			}
			raw = append(raw, u.User.String())
		}
		raw = append(raw, unsafeValues(u.RawQuery)...)
	} else if _, query, ok := strings.Cut(rest, "?"); ok {
		raw = append(raw, unsafeValues(query)...)
	}
	var s secrets
	for _, v := range raw {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), unescape(v)} {
			if len(form) >= minSecretLen && !slices.Contains(s, form) {
				s = append(s, form)
			}
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}

// rawUserinfo returns the userinfo of a URL as written (escapes kept), and its password part.
// A user name alone counts too: a token is often given that way (https://TOKEN@host/...).
func rawUserinfo(u string) []string {
	_, after, ok := strings.Cut(u, "://")
	if !ok {
		return nil
	}
	authority := after
	if i := strings.IndexAny(after, "/?#"); i >= 0 {
		authority = after[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return nil
	}
	info := authority[:at]
	if _, password, ok := strings.Cut(info, ":"); ok {
		return []string{info, password}
	}
	return []string{info}
}

// unsafeValues returns the raw values of the query parameters not known to be safe.
func unsafeValues(rawQuery string) []string {
	var out []string
	for kv := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if !isSafeKey(k) && v != "" {
			out = append(out, v)
		}
	}
	return out
}

func isSafeKey(k string) bool {
	return slices.Contains(safeQueryKeys, strings.ToLower(unescape(k)))
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// scrub removes from msg the userinfo and unsafe query values of every URL it shows, then every
// known secret of the source wherever it appears.
func (s secrets) scrub(msg string) string {
	msg = userinfoRE.ReplaceAllString(msg, "${1}"+redacted+"@")
	msg = queryRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := queryRE.FindStringSubmatch(m)
		if isSafeKey(sub[2]) {
			return m
		}
		return sub[1] + sub[2] + "=" + redacted
	})
	for _, secret := range s {
		msg = strings.ReplaceAll(msg, secret, redacted)
	}
	return msg
}
