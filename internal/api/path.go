package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/questlog/questlog/internal/event"
)

// Handle serves the requests that match pattern ("GET /purchase/{username}/{item_type}",
// "GET /{$}") with h, and answers every other request with a JSON 404.
//
// It is the one place path parameters are checked: every parameter of
// every route (user and guild names, item types) must be an event.ValidName,
// so "." and "..", raw or percent-encoded in any case, are a 400 naming
// the parameter. The path is matched segment by segment as sent,
// percent-encoded, rather than by net/http's ServeMux, which would clean a
// raw ".." away into another route or a redirect before any check ran.
func Handle(pattern string, h http.Handler) http.Handler {
	p := parsePattern(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params, ok := p.match(r)
		if !ok {
			// API Gateway routes only this route's requests here, but the
			// adapter must still answer anything else in JSON.
			WriteError(w, http.StatusNotFound, "Not Found", "")
			return
		}
		for _, param := range params {
			if !event.ValidName(param.value) {
				WriteError(w, http.StatusBadRequest, fmt.Sprintf("%s %q must be %s", param.name, param.value, event.NameRule), param.name)
				return
			}
			r.SetPathValue(param.name, param.value)
		}
		h.ServeHTTP(w, r)
	})
}

type pathPattern struct {
	method string
	segs   []string // literal segments, or "{name}"; none for "/{$}"
}

type pathParam struct{ name, value string }

// parsePattern parses the ServeMux-style patterns of the routes; a
// malformed one is a programming error.
func parsePattern(pattern string) pathPattern {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		panic(fmt.Sprintf("api: route pattern %q is not \"METHOD /path\"", pattern))
	}
	p := pathPattern{method: method}
	if path != "/{$}" {
		p.segs = strings.Split(path[1:], "/")
	}
	return p
}

func (p pathPattern) match(r *http.Request) ([]pathParam, bool) {
	if r.Method != p.method && !(p.method == http.MethodGet && r.Method == http.MethodHead) {
		return nil, false
	}
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/")
	if !ok {
		return nil, false
	}
	if len(p.segs) == 0 {
		return nil, path == ""
	}
	segs := strings.Split(path, "/")
	if len(segs) != len(p.segs) {
		return nil, false
	}
	var params []pathParam
	for i, seg := range segs {
		value, err := url.PathUnescape(seg)
		if err != nil {
			value = seg // a malformed escape is not a valid name either
		}
		want := p.segs[i]
		if name, isParam := strings.CutPrefix(want, "{"); isParam {
			params = append(params, pathParam{strings.TrimSuffix(name, "}"), value})
		} else if value != want {
			return nil, false
		}
	}
	return params, true
}
