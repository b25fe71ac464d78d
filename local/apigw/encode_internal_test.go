package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/local/invoke"
)

// eventV2 is the reference encoding: the events type, with the
// authentication block shadowed by an omitted pointer (encoding/json
// prefers the shallower field).
type eventV2 struct {
	events.APIGatewayV2HTTPRequest
	Context eventV2Context `json:"requestContext"`
}

type eventV2Context struct {
	events.APIGatewayV2HTTPRequestContext
	Authentication *events.APIGatewayV2HTTPRequestContextAuthentication `json:"authentication,omitempty"`
}

func mapOf(pairs []kv) map[string]string {
	if len(pairs) == 0 {
		return nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m
}

// referenceEventV2 encodes in with encoding/json and the events types.
func (g *gateway) referenceEventV2(in *incoming) []byte {
	r := in.r
	var ev eventV2
	ev.APIGatewayV2HTTPRequest = events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: in.route.key, RawPath: in.rawPath, RawQueryString: r.URL.RawQuery,
		Cookies: in.cookies, Headers: mapOf(in.headers), QueryStringParameters: mapOf(in.query),
		PathParameters: mapOf(in.params),
	}
	if ev.Headers == nil {
		ev.Headers = map[string]string{}
	}
	if len(ev.Cookies) == 0 {
		ev.Cookies = nil
	}
	ev.Body, ev.IsBase64Encoded = encodeBody(in.body)
	ev.Context.APIGatewayV2HTTPRequestContext = events.APIGatewayV2HTTPRequestContext{
		RouteKey: in.route.key, AccountID: g.opts.AccountID, Stage: g.opts.Stage, RequestID: in.requestID,
		APIID: g.opts.APIID, DomainName: r.Host, DomainPrefix: domainPrefix(r.Host),
		Time: in.now.UTC().Format(timeLayout), TimeEpoch: in.now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method: r.Method, Path: in.rawPath, Protocol: "HTTP/1.1", SourceIP: in.sourceIP, UserAgent: r.UserAgent(),
		},
	}
	out, err := json.Marshal(&ev)
	if err != nil {
		panic(err)
	}
	return out
}

type nopInvoker struct{}

func (nopInvoker) Invoke(context.Context, invoke.Request) (*invoke.Result, error) { return nil, nil }

func testGateway(t testing.TB) *gateway {
	h, err := New([]Route{
		{Method: "ANY", Path: "/{a}/{proxy+}", Function: "F"},
		{Function: "D"},
	}, nopInvoker{}, Options{Logger: slog.New(slog.DiscardHandler), APIID: "<api&id>", Stage: "st\u2028age"})
	if err != nil {
		t.Fatal(err)
	}
	return h.(*gateway)
}

// checkEncoding builds the event for a request both ways and compares.
func checkEncoding(t *testing.T, g *gateway, method, target, host, ua string, hdr map[string][]string, body []byte) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.Method = method
	if u, err := r.URL.Parse(target); err == nil {
		r.URL = u
	}
	r.Host = host
	r.Header = hdr
	if ua != "" {
		r.Header["User-Agent"] = []string{ua}
	}
	in := &incoming{r: r, rawPath: r.URL.EscapedPath(), now: time.Unix(1700000000, 123456789), requestID: "id<&>",
		sourceIP: "192.0.2.1", traceID: "Root=1-x", body: body}
	path, _ := g.routePath(in.rawPath)
	if in.route = g.router.match(method, path); in.route == nil {
		in.route = g.router.def
	}
	in.params = in.route.appendParams(nil, path)
	in.collectV2()
	got := g.appendEventV2(nil, in)
	want := g.referenceEventV2(in)
	if !bytes.Equal(got, want) {
		t.Fatalf("hand-written encoding differs from encoding/json:\ngot  %s\nwant %s", got, want)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(got, &ev); err != nil {
		t.Fatalf("not decodable into events.APIGatewayV2HTTPRequest: %v", err)
	}
}

func TestAppendEventV2MatchesEncodingJSON(t *testing.T) {
	g := testGateway(t)
	weird := "a\"b\\c<d>e&f\x00\x01\x1f\x7f\b\f\n\r\t\u2028\u2029é€😀\xff\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80\xe0\x80\xaf end"
	checkEncoding(t, g, "GET", "/x/y/z?a=1&b=2&a=3&c", "h.example:1", "ua", map[string][]string{
		"Accept": {"*/*"}, "X-Multi": {"1", "2"}, "Cookie": {"a=1; b=2", "c=3"}, "X-Forwarded-For": {"10.0.0.1"},
	}, []byte(`{"json":true}`))
	checkEncoding(t, g, "POST", "/x/%E2%82%AC/%ff?q="+strings.ReplaceAll(weird, "&", "%26"), weird, weird,
		map[string][]string{"X-" + weird: {weird}, "Content-Type": {weird, weird}}, []byte(weird))
	checkEncoding(t, g, "DELETE", "/", "", "", map[string][]string{}, nil)
	checkEncoding(t, g, "PUT", "/only", "h", "", nil, []byte{0xff, 0, 1, 2})
}

func FuzzAppendEventV2(f *testing.F) {
	f.Add("GET", "/a/b?c=d", "host:1", "ua", "X-H", "v", "a=1; b=2", []byte("body"))
	f.Add("POST", "/%zz/\xff?\xfe=\x00", "\u2028", "<>&", "X-\x7f", "\xed\xa0\x80", ";;", []byte{0xff})
	g := testGateway(f)
	f.Fuzz(func(t *testing.T, method, target, host, ua, hk, hv, cookie string, body []byte) {
		if method == "" || !utf8.ValidString(method) {
			method = "GET"
		}
		hdr := map[string][]string{}
		if hk != "" {
			hdr[hk] = []string{hv, hv + hk}
		}
		if cookie != "" {
			hdr["Cookie"] = []string{cookie}
		}
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		checkEncoding(t, g, method, target, host, ua, hdr, body)
	})
}

func TestEventV2SizeEstimate(t *testing.T) {
	g := testGateway(t)
	r := httptest.NewRequest("POST", "/purchase_a_sword/bob?color=red&x=1", strings.NewReader(`{"a":"b"}`))
	r.Header.Set("User-Agent", "hey/0.0.1")
	r.Header.Set("Accept-Encoding", "gzip")
	r.Header.Set("Cookie", "a=1; b=2")
	in := &incoming{r: r, rawPath: "/purchase_a_sword/bob", now: time.Now(), requestID: "LV7fzho-PHcEJPw=",
		sourceIP: "127.0.0.1", traceID: newTraceID(time.Now()), body: []byte(`{"a":"b"}`)}
	in.route = g.router.match("POST", in.rawPath)
	in.params = in.route.appendParams(nil, in.rawPath)
	in.collectV2()
	est := g.eventV2Size(in)
	got := len(g.appendEventV2(make([]byte, 0, est), in))
	if got > est || est > 2*got {
		t.Errorf("estimate %d for an event of %d bytes", est, got)
	}
}
