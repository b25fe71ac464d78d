package apigw

import (
	"github.com/questlog/questlog/local/internal/jsonenc"

	"cmp"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// timeLayout is requestContext.time / requestTime: "21/Apr/2020:15:08:21 +0000".
const timeLayout = "02/Jan/2006:15:04:05 +0000"

// incoming is what the gateway knows about one request before invoking.
type incoming struct {
	r         *http.Request
	rawPath   string // as received, percent-encoded, stage prefix included
	now       time.Time
	requestID string
	sourceIP  string
	traceID   string
	body      []byte
	route     *route
	params    []kv // path parameters, in segment order

	// scratch space reused across requests (see scratchPool)
	headers []kv
	query   []kv
	cookies []string
}

// proxyHeaderNames are the request headers API Gateway sets itself; the
// client's values are replaced (X-Forwarded-For is extended, and a client
// X-Amzn-Trace-Id is kept through incoming.traceID). Cookie goes to cookies.
func isGatewayHeader(canonical string) bool {
	switch canonical {
	case "Host", "Cookie", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Amzn-Trace-Id":
		return true
	}
	return false
}

// collectV2 fills in.headers (lower-case names, duplicates joined with ",",
// the gateway's own headers added, sorted by name), in.cookies and in.query
// (decoded, duplicate keys joined with ",", sorted by key).
func (in *incoming) collectV2() {
	r := in.r
	in.headers = in.headers[:0]
	in.cookies = in.cookies[:0]
	for k, vs := range r.Header {
		if k == "Cookie" {
			for _, v := range vs {
				in.cookies = appendCookies(in.cookies, v)
			}
			continue
		}
		if isGatewayHeader(k) {
			continue
		}
		in.headers = append(in.headers, kv{lowerHeader(k), joinValues(vs)})
	}
	in.headers = appendGatewayHeaders(in.headers, in, "host", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id")
	in.headers = sortMerge(in.headers)
	in.query = sortMerge(appendQuery(in.query[:0], r.URL.RawQuery))
}

// sortMerge sorts pairs by name (stable, so repeated names keep their
// order) and joins the values of repeated names with ",".
func sortMerge(pairs []kv) []kv {
	slices.SortStableFunc(pairs, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
	out := pairs[:0]
	for i, p := range pairs {
		if i > 0 && p.k == out[len(out)-1].k {
			out[len(out)-1].v += "," + p.v
			continue
		}
		out = append(out, p)
	}
	return out
}

// appendGatewayHeaders appends the headers API Gateway adds to every
// request under the given names (lower-case for 2.0, canonical for 1.0):
// host, x-forwarded-for (the client's value, if any, then the source IP),
// x-forwarded-port, x-forwarded-proto and x-amzn-trace-id.
func appendGatewayHeaders(dst []kv, in *incoming, host, xff, port, proto, trace string) []kv {
	r := in.r
	fwd := in.sourceIP
	if prev := r.Header["X-Forwarded-For"]; len(prev) > 0 {
		fwd = strings.Join(prev, ", ") + ", " + in.sourceIP
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return append(dst,
		kv{host, r.Host},
		kv{xff, fwd},
		kv{port, localPort(r)},
		kv{proto, scheme},
		kv{trace, in.traceID},
	)
}

// appendEventV2 encodes the HTTP API payload format 2.0 event. The bytes
// are exactly what encoding/json produces for events.APIGatewayV2HTTPRequest
// holding the same values, minus requestContext.authentication (which AWS
// omits without mutual TLS and the events type cannot omit); a test checks
// this byte for byte against encoding/json.
func (g *gateway) appendEventV2(dst []byte, in *incoming) []byte {
	r := in.r
	key := in.route.key

	dst = append(dst, `{"version":"2.0","routeKey":`...)
	dst = jsonenc.AppendString(dst, key)
	dst = append(dst, `,"rawPath":`...)
	dst = jsonenc.AppendString(dst, in.rawPath)
	dst = append(dst, `,"rawQueryString":`...)
	dst = jsonenc.AppendString(dst, r.URL.RawQuery)
	if len(in.cookies) > 0 {
		dst = append(dst, `,"cookies":[`...)
		for i, c := range in.cookies {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, c)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"headers":`...)
	dst = appendJSONObject(dst, in.headers)
	if len(in.query) > 0 {
		dst = append(dst, `,"queryStringParameters":`...)
		dst = appendJSONObject(dst, in.query)
	}
	if len(in.params) > 0 {
		dst = append(dst, `,"pathParameters":`...)
		dst = appendJSONObject(dst, in.params)
	}
	switch {
	case len(in.body) == 0:
		dst = append(dst, `,"isBase64Encoded":false`...)
	case utf8.Valid(in.body):
		dst = append(dst, `,"body":`...)
		dst = jsonenc.AppendString(dst, in.body)
		dst = append(dst, `,"isBase64Encoded":false`...)
	default:
		dst = append(dst, `,"body":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, in.body)
		dst = append(dst, `","isBase64Encoded":true`...)
	}

	dst = append(dst, `,"requestContext":{"routeKey":`...)
	dst = jsonenc.AppendString(dst, key)
	dst = append(dst, `,"accountId":`...)
	dst = jsonenc.AppendString(dst, g.opts.AccountID)
	dst = append(dst, `,"stage":`...)
	dst = jsonenc.AppendString(dst, g.opts.Stage)
	dst = append(dst, `,"requestId":`...)
	dst = jsonenc.AppendString(dst, in.requestID)
	dst = append(dst, `,"apiId":`...)
	dst = jsonenc.AppendString(dst, g.opts.APIID)
	dst = append(dst, `,"domainName":`...)
	dst = jsonenc.AppendString(dst, r.Host)
	dst = append(dst, `,"domainPrefix":`...)
	dst = jsonenc.AppendString(dst, domainPrefix(r.Host))
	dst = append(dst, `,"time":"`...)
	dst = in.now.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, `","timeEpoch":`...)
	dst = strconv.AppendInt(dst, in.now.UnixMilli(), 10)
	dst = append(dst, `,"http":{"method":`...)
	dst = jsonenc.AppendString(dst, r.Method)
	dst = append(dst, `,"path":`...)
	dst = jsonenc.AppendString(dst, in.rawPath)
	dst = append(dst, `,"protocol":"HTTP/1.1","sourceIp":`...)
	dst = jsonenc.AppendString(dst, in.sourceIP)
	dst = append(dst, `,"userAgent":`...)
	dst = jsonenc.AppendString(dst, r.UserAgent())
	return append(dst, "}}}"...)
}

// eventV2Size estimates the encoded size of the 2.0 event generously, so
// the payload is allocated once (escapes are the only way to exceed it).
func (g *gateway) eventV2Size(in *incoming) int {
	const skeleton = 400 // keys, quotes, time, epoch, protocol
	n := skeleton + 2*len(in.route.key) + 2*len(in.rawPath) + len(in.r.URL.RawQuery) + 2*len(in.r.Host) +
		len(in.r.UserAgent()) + len(in.requestID) + len(in.sourceIP) + len(g.opts.AccountID) + len(g.opts.APIID) + len(g.opts.Stage)
	for _, lists := range [...][]kv{in.headers, in.query, in.params} {
		for _, p := range lists {
			n += len(p.k) + len(p.v) + 6
		}
	}
	for _, c := range in.cookies {
		n += len(c) + 3
	}
	if len(in.body) > 0 {
		n += len(in.body)*4/3 + 16
	}
	return n + n/16
}

// buildEventV1 marshals the payload format 1.0 event (the REST-API-shaped
// events.APIGatewayProxyRequest) for routes declared with
// PayloadFormatVersion "1.0". It is off the hot path and uses
// encoding/json directly.
func (g *gateway) buildEventV1(in *incoming) ([]byte, error) {
	r := in.r
	resource := in.route.path
	if in.route.isDefault {
		resource = "$default"
	}
	ev := events.APIGatewayProxyRequest{
		Resource:          resource,
		Path:              in.rawPath,
		HTTPMethod:        r.Method,
		Headers:           make(map[string]string, len(r.Header)+6),
		MultiValueHeaders: make(map[string][]string, len(r.Header)+6),
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         g.opts.AccountID,
			ResourceID:        in.route.resourceID,
			Stage:             g.opts.Stage,
			DomainName:        r.Host,
			DomainPrefix:      domainPrefix(r.Host),
			RequestID:         in.requestID,
			ExtendedRequestID: in.requestID,
			Protocol:          "HTTP/1.1",
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  in.sourceIP,
				UserAgent: r.UserAgent(),
			},
			ResourcePath:     resource,
			Path:             in.rawPath,
			HTTPMethod:       r.Method,
			RequestTime:      in.now.UTC().Format(timeLayout),
			RequestTimeEpoch: in.now.UnixMilli(),
			APIID:            g.opts.APIID,
		},
	}
	if len(in.params) > 0 {
		ev.PathParameters = make(map[string]string, len(in.params))
		for _, p := range in.params {
			ev.PathParameters[p.k] = p.v
		}
	}
	for k, vs := range r.Header {
		if isGatewayHeader(k) && k != "Cookie" {
			continue
		}
		ev.Headers[k] = vs[len(vs)-1]
		ev.MultiValueHeaders[k] = vs
	}
	for _, h := range appendGatewayHeaders(nil, in, "Host", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Amzn-Trace-Id") {
		ev.Headers[h.k] = h.v
		ev.MultiValueHeaders[h.k] = []string{h.v}
	}
	if q := appendQuery(nil, r.URL.RawQuery); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		ev.MultiValueQueryStringParameters = make(map[string][]string, len(q))
		for _, p := range q {
			ev.QueryStringParameters[p.k] = p.v // the last value wins
			ev.MultiValueQueryStringParameters[p.k] = append(ev.MultiValueQueryStringParameters[p.k], p.v)
		}
	}
	ev.Body, ev.IsBase64Encoded = encodeBody(in.body)
	return json.Marshal(&ev)
}

// encodeBody returns the event body: empty when there is none, the text
// when it is valid UTF-8, base64 otherwise (HTTP APIs have no
// binaryMediaTypes).
func encodeBody(b []byte) (string, bool) {
	switch {
	case len(b) == 0:
		return "", false
	case utf8.Valid(b):
		return string(b), false
	default:
		return base64.StdEncoding.EncodeToString(b), true
	}
}

// appendCookies splits one Cookie header value into its "name=value" parts.
func appendCookies(dst []string, header string) []string {
	for part := range strings.SplitSeq(header, ";") {
		if part = strings.TrimSpace(part); part != "" {
			dst = append(dst, part)
		}
	}
	return dst
}

func joinValues(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs, ",")
}

// appendQuery appends the decoded pairs of a raw query string in order.
// A key without "=" has an empty value; malformed escapes are kept
// verbatim; "+" decodes to a space.
func appendQuery(dst []kv, raw string) []kv {
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		dst = append(dst, kv{unescapeQuery(k), unescapeQuery(v)})
	}
	return dst
}

func unescapeQuery(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// domainPrefix is the first label of the host name, without the port.
func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if i := strings.IndexByte(host, '.'); i >= 0 {
		return host[:i]
	}
	return host
}

// sourceIP is the client address without its port.
func sourceIP(remoteAddr string) string {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return h
	}
	return remoteAddr
}

// localPort is the port the request arrived on: from the listener's address
// when the server recorded it, else from the Host header, else the scheme's.
func localPort(r *http.Request) string {
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
	case *net.TCPAddr:
		return strconv.Itoa(a.Port)
	case net.Addr:
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil && p != "" {
		return p
	}
	if r.TLS != nil {
		return "443"
	}
	return "80"
}

// commonHeaders maps canonical header names to their lower-case form so the
// usual headers cost no allocation.
var commonHeaders = func() map[string]string {
	names := []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Encoding", "Content-Length",
		"Content-Type", "If-Match", "If-None-Match", "If-Modified-Since",
		"Origin", "Pragma", "Referer", "User-Agent", "X-Request-Id", "X-Api-Key",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = strings.ToLower(n)
	}
	return m
}()

func lowerHeader(k string) string {
	if l, ok := commonHeaders[k]; ok {
		return l
	}
	return strings.ToLower(k)
}
