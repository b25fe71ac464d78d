package api

import (
	"net/http"
	"strings"
)

// Headers that never leave the handler: credentials, and hop-by-hop
// headers that describe one connection rather than the request.
var droppedHeaders = map[string]bool{
	"Authorization":        true,
	"Proxy-Authorization":  true,
	"Cookie":               true,
	"Set-Cookie":           true,
	"X-Api-Key":            true,
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

// Name fragments that mark a header as a credential whatever its exact name
// (X-Auth-Token, X-Csrf-Token, X-Client-Secret, X-Upstream-Api-Key, …).
var credentialFragments = []string{"auth", "token", "secret", "password", "passwd", "api-key", "apikey", "session", "signature", "credential", "cookie"}

// IsCredentialOrHopByHop reports whether a header must not be recorded.
func IsCredentialOrHopByHop(name string) bool {
	name = http.CanonicalHeaderKey(name)
	if droppedHeaders[name] {
		return true
	}
	lower := strings.ToLower(name)
	for _, f := range credentialFragments {
		if strings.Contains(lower, f) {
			return true
		}
	}
	return false
}

// RecordedHeaders returns the headers an event records: every header but
// credentials and hop-by-hop ones, repeated values joined with ", ".
func RecordedHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		if len(values) == 0 || IsCredentialOrHopByHop(name) {
			continue
		}
		out[http.CanonicalHeaderKey(name)] = strings.Join(values, ", ")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
