package apigw

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Defaults applied by New.
const (
	// DefaultTimeoutInMillis is the integration timeout of a route whose
	// TimeoutInMillis is zero; it is also the maximum HTTP APIs allow.
	DefaultTimeoutInMillis = 30000
	// MinTimeoutInMillis is the smallest integration timeout HTTP APIs allow.
	MinTimeoutInMillis = 50
	// MaxRequestBodyBytes is the HTTP API request payload limit (10 MB).
	MaxRequestBodyBytes = 10 * 1024 * 1024

	defaultStage     = "$default"
	defaultAccountID = "123456789012"
	defaultAPIID     = "local"
)

// ErrInvalidRoute is wrapped by every route validation error New returns.
var ErrInvalidRoute = errors.New("invalid route")

// Route is one HttpApi event of a function in the SAM template.
type Route struct {
	// Method is GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY (case is
	// ignored). Empty together with an empty Path declares the $default route.
	Method string
	// Path is the route path, e.g. "/purchase_a_sword/{username}" or
	// "/{proxy+}". Variables are whole segments; a greedy {name+} variable is
	// only allowed as the last segment. Empty together with an empty Method
	// (or the literal "$default") declares the $default route.
	Path string
	// Function is the logical ID of the function in template.yaml, passed to
	// the Invoker as invoke.Request.Function.
	Function string
	// PayloadFormatVersion is "2.0" (the default when empty) or "1.0".
	PayloadFormatVersion string
	// TimeoutInMillis is the integration timeout, 50–30000.
	// Default: 30000 (DefaultTimeoutInMillis).
	TimeoutInMillis int
}

// Options configure the emulated HTTP API. The zero value is usable.
type Options struct {
	// Logger receives one access-log record per request (Info) and the
	// details of failed integrations (Warn). Default: slog.Default().
	Logger *slog.Logger
	// Stage is the stage name. "$default" serves paths as they are; any
	// other name serves only paths under "/<stage>", which the route
	// selection strips and rawPath keeps, as AWS does. Default: "$default".
	Stage string
	// APIID is requestContext.apiId. Default: "local".
	APIID string
	// AccountID is requestContext.accountId. Default: "123456789012".
	AccountID string
	// AccessLog, if set, also receives one line per request in a
	// Common-Log-like format ($context.requestId, sourceIp, time, method,
	// path, protocol, status, responseLength). Default: none.
	AccessLog io.Writer
	// Limits bound what one client can hold; give the same to Server.
	Limits Limits
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Stage == "" {
		o.Stage = defaultStage
	}
	if o.APIID == "" {
		o.APIID = defaultAPIID
	}
	if o.AccountID == "" {
		o.AccountID = defaultAccountID
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// validMethods are the methods an HttpApi route may declare.
var validMethods = map[string]bool{
	"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true,
	"HEAD": true, "OPTIONS": true, "ANY": true,
}

// routeKey renders a validated route as API Gateway's routeKey.
func routeKey(method, path string) string {
	if method == "" {
		return "$default"
	}
	return method + " " + path
}

// isDefaultRoute reports whether r declares the $default route.
func isDefaultRoute(r Route) bool {
	return r.Method == "" && (r.Path == "" || r.Path == "$default")
}

// compileRoute validates r and turns it into a matcher. index is r's
// position in the list New received, used in error messages.
func compileRoute(index int, r Route) (*route, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("route %d (%s %q): %s: %w", index, r.Method, r.Path, fmt.Sprintf(format, args...), ErrInvalidRoute)
	}
	cr := &route{index: index, function: r.Function}

	switch r.PayloadFormatVersion {
	case "", "2.0":
		cr.payloadV1 = false
	case "1.0":
		cr.payloadV1 = true
	default:
		return nil, fail("payload format version %q is not 1.0 or 2.0", r.PayloadFormatVersion)
	}
	switch {
	case r.TimeoutInMillis == 0:
		cr.timeoutMillis = DefaultTimeoutInMillis
	case r.TimeoutInMillis < MinTimeoutInMillis || r.TimeoutInMillis > DefaultTimeoutInMillis:
		return nil, fail("timeout %d ms is outside %d–%d", r.TimeoutInMillis, MinTimeoutInMillis, DefaultTimeoutInMillis)
	default:
		cr.timeoutMillis = r.TimeoutInMillis
	}
	if r.Function == "" {
		return nil, fail("no function")
	}

	if isDefaultRoute(r) {
		cr.isDefault = true
		cr.key = "$default"
		return cr, nil
	}
	method := strings.ToUpper(r.Method)
	if method == "" {
		return nil, fail("path without method (omit both for the $default route)")
	}
	if !validMethods[method] {
		return nil, fail("unsupported method %q", r.Method)
	}
	if r.Path == "" {
		return nil, fail("method without path (omit both for the $default route)")
	}
	if r.Path[0] != '/' {
		return nil, fail("path must start with /")
	}
	cr.method = method
	cr.path = r.Path
	cr.key = routeKey(method, r.Path)

	if r.Path != "/" {
		raw := strings.Split(r.Path[1:], "/")
		names := make(map[string]bool, len(raw))
		for i, s := range raw {
			switch {
			case s == "":
				return nil, fail("empty path segment")
			case s[0] == '{' && s[len(s)-1] == '}':
				name := s[1 : len(s)-1]
				greedy := strings.HasSuffix(name, "+")
				if greedy {
					name = name[:len(name)-1]
					if i != len(raw)-1 {
						return nil, fail("greedy variable {%s+} must be the last segment", name)
					}
				}
				if name == "" || strings.ContainsAny(name, "{}+/") {
					return nil, fail("bad variable %q", s)
				}
				if names[name] {
					return nil, fail("variable {%s} declared twice", name)
				}
				names[name] = true
				kind := segVar
				if greedy {
					kind = segGreedy
					cr.greedy = true
				}
				cr.segs = append(cr.segs, segment{kind: kind, value: name})
			case strings.ContainsAny(s, "{}"):
				return nil, fail("segment %q mixes a variable with literal text", s)
			default:
				cr.segs = append(cr.segs, segment{kind: segLiteral, value: s})
			}
		}
	}
	return cr, nil
}

// shape is the route's identity for duplicate detection: the method plus
// the path with variable names erased, so "GET /a/{x}" and "GET /a/{y}"
// collide as they would be ambiguous.
func (r *route) shape() string {
	if r.isDefault {
		return "$default"
	}
	var b strings.Builder
	b.WriteString(r.method)
	b.WriteByte(' ')
	if len(r.segs) == 0 {
		b.WriteByte('/')
	}
	for _, s := range r.segs {
		b.WriteByte('/')
		switch s.kind {
		case segLiteral:
			b.WriteString(s.value)
		case segVar:
			b.WriteString("{}")
		case segGreedy:
			b.WriteString("{+}")
		}
	}
	return b.String()
}
