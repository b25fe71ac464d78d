package apigw

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

type segKind uint8

// Segment kinds, in order of preference: a literal segment is more specific
// than a variable, a variable more specific than a greedy variable.
const (
	segLiteral segKind = iota
	segVar
	segGreedy
)

type segment struct {
	kind  segKind
	value string // the literal text, or the variable name
}

// route is a validated, compiled Route.
type route struct {
	index         int // position in the list given to New
	method        string
	path          string
	key           string // routeKey, e.g. "GET /pets/{id}" or "$default"
	function      string
	segs          []segment
	greedy        bool
	isDefault     bool
	payloadV1     bool
	timeoutMillis int
	resourceID    string // stable short id, used as requestContext.resourceId in 1.0 events
}

// router selects the route of a request. Candidate lists are sorted once, in
// New, so that the first route that matches a path is the one API Gateway
// would pick; a lookup is then a short linear scan without allocation.
type router struct {
	byMethod map[string][]*route // routes of that method plus ANY routes
	anyOnly  []*route            // ANY routes, for methods no route names
	def      *route              // the $default route, or nil
}

// compareRoutes orders routes from most to least specific:
//
//  1. routes without a greedy variable before routes with one (a full
//     match beats a greedy match);
//  2. segment by segment from the left, literal before {var} before
//     {proxy+} (so a longer literal prefix wins between greedy routes);
//  3. an explicit method before ANY for the same path shape ("ANY only
//     covers methods without an explicit route for that path").
//
// Two routes that can both match one request path have the same number of
// segments (or are both greedy), so this order is the preference order.
func compareRoutes(a, b *route) int {
	if a.greedy != b.greedy {
		if a.greedy {
			return 1
		}
		return -1
	}
	for i := range min(len(a.segs), len(b.segs)) {
		if c := cmp.Compare(a.segs[i].kind, b.segs[i].kind); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(b.segs), len(a.segs)); c != 0 {
		return c
	}
	if (a.method == "ANY") != (b.method == "ANY") {
		if a.method == "ANY" {
			return 1
		}
		return -1
	}
	return cmp.Compare(a.index, b.index)
}

func newRouter(routes []*route) (*router, error) {
	rt := &router{byMethod: map[string][]*route{}}
	seen := map[string]*route{}
	var errs []error
	var all []*route
	for _, r := range routes {
		shape := r.shape()
		if prev, ok := seen[shape]; ok {
			errs = append(errs, fmt.Errorf("duplicate route: route %d %q conflicts with route %d %q: %w",
				r.index, r.key, prev.index, prev.key, ErrInvalidRoute))
			continue
		}
		seen[shape] = r
		if r.isDefault {
			rt.def = r
			continue
		}
		all = append(all, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(all, compareRoutes)
	for _, r := range all {
		if r.method == "ANY" {
			rt.anyOnly = append(rt.anyOnly, r)
		}
	}
	for _, r := range all {
		if r.method == "ANY" {
			continue
		}
		if _, ok := rt.byMethod[r.method]; ok {
			continue
		}
		var list []*route
		for _, c := range all {
			if c.method == r.method || c.method == "ANY" {
				list = append(list, c)
			}
		}
		rt.byMethod[r.method] = list
	}
	return rt, nil
}

// match returns the route for method and path (the percent-encoded path,
// stage prefix removed), or nil.
func (rt *router) match(method, path string) *route {
	list, ok := rt.byMethod[method]
	if !ok {
		list = rt.anyOnly
	}
	for _, r := range list {
		if r.matches(path) {
			return r
		}
	}
	return rt.def
}

// pathSegments iterates over the segments of an escaped path without
// allocating: "/" has none, "/a/" has "a" and "".
type pathSegments struct {
	rest string
	more bool
}

func newPathSegments(path string) pathSegments {
	if path == "/" || path == "" {
		return pathSegments{}
	}
	return pathSegments{rest: path[1:], more: true}
}

func (p *pathSegments) next() (string, bool) {
	if !p.more {
		return "", false
	}
	if i := strings.IndexByte(p.rest, '/'); i >= 0 {
		s := p.rest[:i]
		p.rest = p.rest[i+1:]
		return s, true
	}
	s := p.rest
	p.rest, p.more = "", false
	return s, true
}

// matches reports whether the escaped path matches r. It does not allocate
// unless a literal segment must be compared with a percent-encoded one.
func (r *route) matches(path string) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	ps := newPathSegments(path)
	for _, seg := range r.segs {
		if seg.kind == segGreedy {
			return ps.more && ps.rest != ""
		}
		s, ok := ps.next()
		if !ok {
			return false
		}
		switch seg.kind {
		case segLiteral:
			if s != seg.value && !(strings.IndexByte(s, '%') >= 0 && unescapePath(s) == seg.value) {
				return false
			}
		case segVar:
			if s == "" {
				return false
			}
		}
	}
	return !ps.more
}

// kv is one name/value pair of a header, query or path-parameter list.
type kv struct{ k, v string }

// appendParams appends the URL-decoded path parameters of a path r matches
// to dst, in segment order.
func (r *route) appendParams(dst []kv, path string) []kv {
	ps := newPathSegments(path)
	for _, seg := range r.segs {
		if seg.kind == segGreedy {
			return append(dst, kv{seg.value, unescapePath(ps.rest)})
		}
		s, _ := ps.next()
		if seg.kind == segVar {
			dst = append(dst, kv{seg.value, unescapePath(s)})
		}
	}
	return dst
}

// unescapePath decodes %XX escapes (not '+'); malformed input is kept as is.
func unescapePath(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}
