package api

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// DefaultRecordedHeaders are the request headers an event records unless
// the function's RECORDED_HEADERS variable names others: what the datasets
// and the reference pipeline's columns use, and nothing that carries a
// credential.
var DefaultRecordedHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Content-Length", "Content-Type",
	"Dnt", "Host", "Origin", "Pragma", "Referer", "Upgrade-Insecure-Requests", "User-Agent", "Via",
	"X-Amzn-Trace-Id", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Request-Id",
}

// RecordedHeaders is an allow-list of request headers an event records.
// A deny-list of credential names always has gaps (X-Api_key, X-Pwd,
// X-Jwt, a token in a custom header…); an allow-list has none.
type RecordedHeaders struct {
	names map[string]bool // canonical names
}

// DefaultHeaders records DefaultRecordedHeaders.
var DefaultHeaders = mustParseRecordedHeaders(strings.Join(DefaultRecordedHeaders, ","))

func mustParseRecordedHeaders(list string) RecordedHeaders {
	h, err := ParseRecordedHeaders(list)
	if err != nil {
		panic(err)
	}
	return h
}

// ParseRecordedHeaders parses a comma-separated list of header names (any
// case). It refuses names that are not header names, and credential or
// hop-by-hop headers, which are never recorded whatever the configuration.
func ParseRecordedHeaders(list string) (RecordedHeaders, error) {
	h := RecordedHeaders{names: map[string]bool{}}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case !validHeaderName(name):
			return h, fmt.Errorf("recorded headers %q: %q is not a header name", list, name)
		case IsCredentialOrHopByHop(name):
			return h, fmt.Errorf("recorded headers %q: %s is a credential or hop-by-hop header and is never recorded", list, http.CanonicalHeaderKey(name))
		}
		h.names[http.CanonicalHeaderKey(name)] = true
	}
	return h, nil
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Record returns the headers of hdr an event records: those on the list,
// repeated values joined with ", ", credential-looking values scrubbed.
func (h RecordedHeaders) Record(hdr http.Header) map[string]string {
	out := make(map[string]string, len(h.names))
	for name, values := range hdr {
		canonical := http.CanonicalHeaderKey(name)
		if len(values) == 0 || !h.names[canonical] {
			continue
		}
		out[canonical] = ScrubCredentials(strings.Join(values, ", "))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Headers that are never recorded, whatever RECORDED_HEADERS says:
// credentials, and hop-by-hop headers that describe one connection rather
// than the request.
var droppedHeaders = map[string]bool{
	"Authorization":        true,
	"Proxy-Authorization":  true,
	"Cookie":               true,
	"Set-Cookie":           true,
	"X-Amz-Security-Token": true,
	"X-Amz-Date":           true,
	"X-Amz-Content-Sha256": true,
	"Connection":           true,
	"Keep-Alive":           true,
	"Proxy-Connection":     true,
	"Proxy-Authenticate":   true,
	"Te":                   true,
	"Trailer":              true,
	"Transfer-Encoding":    true,
	"Upgrade":              true,
	"Www-Authenticate":     true,
}

// IsCredentialOrHopByHop reports whether a header must never be recorded:
// a hop-by-hop header, or one whose name says it carries a credential.
func IsCredentialOrHopByHop(name string) bool {
	return droppedHeaders[http.CanonicalHeaderKey(name)] || credentialName(name)
}

// credentialName reports whether a header or URL parameter name says it
// carries a secret: X-Auth-Token, X-Api_key, access_token, X-Amz-Signature,
// sessionid, pwd, X-Sid, key…
func credentialName(name string) bool {
	lower := strings.ToLower(name)
	for _, f := range credentialFragments {
		if strings.Contains(lower, f) {
			return true
		}
	}
	for _, word := range strings.FieldsFunc(lower, func(r rune) bool { return !(r >= 'a' && r <= 'z') }) {
		if slices.Contains(credentialWords, word) {
			return true
		}
	}
	return false
}

// Fragments that mark a credential anywhere in a name, and short words
// that do only as a whole word ("key" in api_key, not in monkey).
var (
	credentialFragments = []string{"auth", "token", "secret", "passw", "passphrase", "pwd", "apikey", "signature", "credential", "session", "cookie", "jwt", "private"}
	credentialWords     = []string{"key", "sid", "pass", "sig", "otp", "pin", "code"}
)

const redacted = "[REDACTED]"

var (
	// An auth scheme and its token: "Bearer abc", "Basic dXNlcjpwdw==".
	authScheme = regexp.MustCompile(`(?i)\b(bearer|basic|digest|token|negotiate|ntlm|aws4-hmac-sha256)\s+[^\s,;]+`)
	// A JSON Web Token: base64url header (always `{"…` → "eyJ"), payload, signature.
	jwtToken = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	// name=value pairs, in URLs (query, fragment) and parameter lists.
	nameValue = regexp.MustCompile(`([A-Za-z0-9_.\-\[\]]+)=([^&#;\s,]*)`)
	// User information in a URL: scheme://user:password@host.
	urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#@\s]+@`)
	// AWS access key ids.
	awsKeyID = regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)
)

// ScrubCredentials replaces what looks like a credential in a recorded
// value with [REDACTED]: auth-scheme tokens, JWTs, URL user information,
// AWS key ids, and the values of parameters whose name says they are
// secret (token=, api_key=, password=, sig=…), keeping the rest (a
// Referer's path and other parameters).
func ScrubCredentials(s string) string {
	if !strings.ContainsAny(s, " =@.") && !strings.Contains(s, "AKIA") && !strings.Contains(s, "ASIA") {
		return s // the common short values: "*/*", "gzip", "keep-alive"
	}
	s = jwtToken.ReplaceAllLiteralString(s, redacted)
	s = authScheme.ReplaceAllString(s, "$1 "+redacted)
	s = urlUserinfo.ReplaceAllString(s, "${1}"+redacted+"@")
	s = awsKeyID.ReplaceAllLiteralString(s, redacted)
	return nameValue.ReplaceAllStringFunc(s, func(pair string) string {
		name, value, _ := strings.Cut(pair, "=")
		if value == "" || value == redacted || !credentialName(name) {
			return pair
		}
		return name + "=" + redacted
	})
}
