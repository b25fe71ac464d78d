package apigw_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/local/apigw"
)

var eventRoutes = []apigw.Route{
	{Method: "GET", Path: "/purchase_a_sword/{username}", Function: "PurchaseSwordFunction"},
	{Method: "POST", Path: "/items", Function: "ItemsFunction"},
	{Method: "GET", Path: "/static/{proxy+}", Function: "StaticFunction"},
	{Method: "ANY", Path: "/legacy/{id}", Function: "LegacyFunction", PayloadFormatVersion: "1.0"},
	{Function: "DefaultFunction"},
}

// TestEventGolden builds 2.0 (and one 1.0) events from representative
// requests and compares them with testdata/*.json. Run with -update to
// rewrite the files after an intended change.
func TestEventGolden(t *testing.T) {
	tests := []struct {
		name  string
		build func() *http.Request
	}{
		{"event-v2-path-params-query-cookies.json", func() *http.Request {
			r := httptest.NewRequest("GET", "/purchase_a_sword/al%20ice?x=1&x=2&y=a+b&z=%26&flag", nil)
			r.Header.Set("User-Agent", "questlog-test/1.0")
			r.Header.Set("Accept", "application/json")
			r.Header.Add("X-Multi", "one")
			r.Header.Add("X-Multi", "two")
			r.Header.Add("Cookie", "session=abc; theme=dark")
			r.Header.Add("Cookie", "lang=en")
			return r
		}},
		{"event-v2-text-body.json", func() *http.Request {
			r := httptest.NewRequest("POST", "/items", strings.NewReader(`{"name":"sword","price":"12€"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("User-Agent", "questlog-test/1.0")
			r.Header.Set("X-Forwarded-For", "203.0.113.7")
			r.Header.Set("X-Amzn-Trace-Id", "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c")
			return r
		}},
		{"event-v2-binary-body.json", func() *http.Request {
			r := httptest.NewRequest("POST", "/items", strings.NewReader("\x89PNG\r\n\x1a\n\x00\xff"))
			r.Header.Set("Content-Type", "image/png")
			return r
		}},
		{"event-v2-greedy.json", func() *http.Request {
			return httptest.NewRequest("GET", "/static/css/site%2Fmain.css", nil)
		}},
		{"event-v2-default-route.json", func() *http.Request {
			return httptest.NewRequest("DELETE", "/nowhere/else", nil)
		}},
		{"event-v1-http-api.json", func() *http.Request {
			r := httptest.NewRequest("PUT", "/legacy/42?a=1&a=2&b=3", strings.NewReader("plain text"))
			r.Header.Set("Content-Type", "text/plain")
			r.Header.Add("X-Multi", "one")
			r.Header.Add("X-Multi", "two")
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{}
			h := newGateway(t, eventRoutes, inv)
			req := tt.build()
			req.Host = "localhost:3000"
			req.RemoteAddr = "192.0.2.10:54321"
			rec := serve(h, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			golden(t, tt.name, normalizeEvent(t, inv.last(t).Payload))
		})
	}
}

// TestEventV2Fields checks the rules behind the golden files one by one, on
// the decoded events struct handlers receive.
func TestEventV2Fields(t *testing.T) {
	inv := &fakeInvoker{}
	h := newGateway(t, eventRoutes, inv)
	r := httptest.NewRequest("GET", "/purchase_a_sword/al%20ice?x=1&x=2", nil)
	r.Host = "api.example.com:3000"
	r.RemoteAddr = "[2001:db8::1]:6000"
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Set("User-Agent", "ua/1")
	rec := serve(h, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	req := inv.last(t)
	if req.Function != "PurchaseSwordFunction" {
		t.Errorf("Function = %q", req.Function)
	}
	ev := decodeV2(t, req.Payload)
	checks := []struct{ name, got, want string }{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "GET /purchase_a_sword/{username}"},
		{"rawPath", ev.RawPath, "/purchase_a_sword/al%20ice"},
		{"rawQueryString", ev.RawQueryString, "x=1&x=2"},
		{"queryStringParameters[x]", ev.QueryStringParameters["x"], "1,2"},
		{"pathParameters[username]", ev.PathParameters["username"], "al ice"},
		{"headers[x-multi]", ev.Headers["x-multi"], "one,two"},
		{"headers[host]", ev.Headers["host"], "api.example.com:3000"},
		{"headers[x-forwarded-for]", ev.Headers["x-forwarded-for"], "2001:db8::1"},
		{"headers[x-forwarded-port]", ev.Headers["x-forwarded-port"], "3000"},
		{"headers[x-forwarded-proto]", ev.Headers["x-forwarded-proto"], "http"},
		{"requestContext.domainName", ev.RequestContext.DomainName, "api.example.com:3000"},
		{"requestContext.domainPrefix", ev.RequestContext.DomainPrefix, "api"},
		{"requestContext.routeKey", ev.RequestContext.RouteKey, "GET /purchase_a_sword/{username}"},
		{"requestContext.stage", ev.RequestContext.Stage, "$default"},
		{"requestContext.accountId", ev.RequestContext.AccountID, "123456789012"},
		{"requestContext.http.method", ev.RequestContext.HTTP.Method, "GET"},
		{"requestContext.http.path", ev.RequestContext.HTTP.Path, "/purchase_a_sword/al%20ice"},
		{"requestContext.http.protocol", ev.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		{"requestContext.http.sourceIp", ev.RequestContext.HTTP.SourceIP, "2001:db8::1"},
		{"requestContext.http.userAgent", ev.RequestContext.HTTP.UserAgent, "ua/1"},
		{"requestContext.requestId", ev.RequestContext.RequestID, rec.Header().Get("Apigw-Requestid")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	for _, name := range []string{"cookie", "Cookie"} {
		if _, ok := ev.Headers[name]; ok {
			t.Errorf("headers repeat the cookie header as %q", name)
		}
	}
	if strings.Join(ev.Cookies, "|") != "a=1|b=2" {
		t.Errorf("cookies = %q, want [a=1 b=2]", ev.Cookies)
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header name %q is not lower-case", k)
		}
	}
	if len(ev.RequestContext.RequestID) != 16 {
		t.Errorf("requestId %q is not a 16-character API Gateway id", ev.RequestContext.RequestID)
	}
	if ev.Headers["x-amzn-trace-id"] == "" || req.TraceID != ev.Headers["x-amzn-trace-id"] {
		t.Errorf("trace header %q, invoke TraceID %q: want the same non-empty value", ev.Headers["x-amzn-trace-id"], req.TraceID)
	}
	if !strings.HasPrefix(req.TraceID, "Root=1-") || len(req.TraceID) != len("Root=1-5e9f0c65-1de4d666d4dd26aced652b6c") {
		t.Errorf("TraceID %q is not an X-Ray root id", req.TraceID)
	}
	if ev.RequestContext.TimeEpoch <= 0 || len(ev.RequestContext.Time) != len("21/Apr/2020:15:08:21 +0000") ||
		!strings.HasSuffix(ev.RequestContext.Time, " +0000") {
		t.Errorf("time %q / timeEpoch %d", ev.RequestContext.Time, ev.RequestContext.TimeEpoch)
	}

	// Omitted fields: no query, no path parameters, no body, no cookies.
	rec = serve(h, httptest.NewRequest("GET", "/somewhere", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(inv.last(t).Payload, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"queryStringParameters", "pathParameters", "body", "cookies", "stageVariables"} {
		if v, ok := raw[k]; ok {
			t.Errorf("%s present (%s), want omitted", k, v)
		}
	}
	if string(raw["isBase64Encoded"]) != "false" || string(raw["rawQueryString"]) != `""` {
		t.Errorf("isBase64Encoded = %s, rawQueryString = %s", raw["isBase64Encoded"], raw["rawQueryString"])
	}
}

func TestRequestIDsUnique(t *testing.T) {
	h := newGateway(t, eventRoutes, &fakeInvoker{})
	seen := map[string]bool{}
	for range 2000 {
		id := serve(h, httptest.NewRequest("GET", "/x", nil)).Header().Get("Apigw-Requestid")
		if len(id) != 16 || seen[id] {
			t.Fatalf("request id %q is malformed or repeated", id)
		}
		seen[id] = true
	}
}

func TestNamedStage(t *testing.T) {
	inv := &fakeInvoker{}
	h, err := apigw.New(eventRoutes, inv, apigw.Options{Logger: discardLogger(), Stage: "prod", APIID: "abc123", AccountID: "111122223333"})
	if err != nil {
		t.Fatal(err)
	}
	if rec := serve(h, httptest.NewRequest("GET", "/purchase_a_sword/bob", nil)); rec.Code != http.StatusNotFound {
		t.Errorf("path outside the stage: status %d, want 404", rec.Code)
	}
	if rec := serve(h, httptest.NewRequest("GET", "/production/x", nil)); rec.Code != http.StatusNotFound {
		t.Errorf("path with a longer first segment: status %d, want 404", rec.Code)
	}
	rec := serve(h, httptest.NewRequest("GET", "/prod/purchase_a_sword/bob", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	ev := decodeV2(t, inv.last(t).Payload)
	if ev.RawPath != "/prod/purchase_a_sword/bob" || ev.RouteKey != "GET /purchase_a_sword/{username}" ||
		ev.PathParameters["username"] != "bob" || ev.RequestContext.Stage != "prod" ||
		ev.RequestContext.APIID != "abc123" || ev.RequestContext.AccountID != "111122223333" {
		t.Errorf("event = rawPath %q routeKey %q params %v stage %q api %q account %q",
			ev.RawPath, ev.RouteKey, ev.PathParameters, ev.RequestContext.Stage, ev.RequestContext.APIID, ev.RequestContext.AccountID)
	}
}

func TestEventV1Fields(t *testing.T) {
	inv := &fakeInvoker{}
	h := newGateway(t, eventRoutes, inv)
	r := httptest.NewRequest("PATCH", "/legacy/a%2Fb?q=1&q=2", nil)
	r.RemoteAddr = "198.51.100.2:999"
	rec := serve(h, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(inv.last(t).Payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Resource != "/legacy/{id}" || ev.HTTPMethod != "PATCH" || ev.PathParameters["id"] != "a/b" ||
		ev.QueryStringParameters["q"] != "2" || strings.Join(ev.MultiValueQueryStringParameters["q"], ",") != "1,2" ||
		ev.RequestContext.Identity.SourceIP != "198.51.100.2" || ev.RequestContext.ResourcePath != "/legacy/{id}" ||
		ev.Body != "" || ev.IsBase64Encoded {
		t.Errorf("1.0 event: %+v", ev)
	}
}

// TestEventMatchesEventsType checks that the payload is exactly what
// json.Marshal of aws-lambda-go's events.APIGatewayV2HTTPRequest produces
// for the same values, except that requestContext.authentication (always
// emitted by the events type, absent from AWS events without mTLS) is
// omitted.
func TestEventMatchesEventsType(t *testing.T) {
	inv := &fakeInvoker{}
	h := newGateway(t, eventRoutes, inv)
	r := httptest.NewRequest("POST", "/items?a=1", strings.NewReader("\xff\x00binary"))
	r.Header.Add("Cookie", "a=1")
	r.Header.Set("X-Amzn-Trace-Id", "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c")
	serve(h, r)
	payload := inv.last(t).Payload

	ev := decodeV2(t, payload)
	if ev.Headers["x-amzn-trace-id"] != "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c" ||
		inv.last(t).TraceID != "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c" {
		t.Errorf("client trace id not kept: header %q, TraceID %q", ev.Headers["x-amzn-trace-id"], inv.last(t).TraceID)
	}
	viaEvents, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(payload, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(viaEvents, &b); err != nil {
		t.Fatal(err)
	}
	if _, ok := a["requestContext"].(map[string]any)["authentication"]; ok {
		t.Error("payload has requestContext.authentication")
	}
	delete(b["requestContext"].(map[string]any), "authentication")
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("payload differs from the events type's encoding:\n%s\n%s", ja, jb)
	}
}
