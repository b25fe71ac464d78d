package e2e_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/local/emulator"
)

// The API Gateway emulation, through the real runtime and a real function
// that echoes the event it received.
func TestAPIGatewayRoundTrip(t *testing.T) {
	cfg := config(t)
	cfg.ProjectDir, _ = filepath.Abs("testdata/echo")
	e := start(t, cfg, emulator.Serve{API: true})

	echo := func(method, path, body string, headers ...string) events.APIGatewayV2HTTPRequest {
		t.Helper()
		r := request(t, method, e.APIURL+path, body, headers...)
		if r.status != 200 || r.header.Get("X-Echo") != "yes" || r.header.Get("Apigw-Requestid") == "" {
			t.Fatalf("%s %s = %d %v %s", method, path, r.status, r.header, r.body)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal([]byte(r.body), &ev); err != nil {
			t.Fatalf("echo body: %v: %s", err, r.body)
		}
		return ev
	}

	ev := echo("POST", "/items/sw%20ord?color=red&size=2&color=blue", `{"qty":2}`,
		"Cookie", "session=abc; theme=dark", "X-Multi", "one", "X-Multi", "two", "User-Agent", "e2e/1")
	if ev.Version != "2.0" || ev.RouteKey != "ANY /items/{id}" || ev.RawPath != "/items/sw%20ord" {
		t.Errorf("route: version %q routeKey %q rawPath %q", ev.Version, ev.RouteKey, ev.RawPath)
	}
	if ev.PathParameters["id"] != "sw ord" {
		t.Errorf("pathParameters = %v", ev.PathParameters)
	}
	if ev.RawQueryString != "color=red&size=2&color=blue" || ev.QueryStringParameters["color"] != "red,blue" || ev.QueryStringParameters["size"] != "2" {
		t.Errorf("query: raw %q params %v", ev.RawQueryString, ev.QueryStringParameters)
	}
	if strings.Join(ev.Cookies, ";") != "session=abc;theme=dark" || ev.Headers["cookie"] != "" {
		t.Errorf("cookies %v, cookie header %q", ev.Cookies, ev.Headers["cookie"])
	}
	if ev.Headers["x-multi"] != "one,two" || ev.Headers["user-agent"] != "e2e/1" {
		t.Errorf("headers = %v", ev.Headers)
	}
	if ev.Body != `{"qty":2}` || ev.IsBase64Encoded {
		t.Errorf("text body = %q base64 %v", ev.Body, ev.IsBase64Encoded)
	}
	rc := ev.RequestContext
	if rc.HTTP.Method != "POST" || rc.HTTP.SourceIP != "127.0.0.1" || rc.HTTP.UserAgent != "e2e/1" || rc.Stage != "$default" ||
		rc.RequestID == "" || rc.TimeEpoch == 0 || !strings.HasPrefix(rc.DomainName, "127.0.0.1:") {
		t.Errorf("requestContext = %+v", rc)
	}

	bin := echo("PUT", "/items/7", "\x00\x01\xfe\xff")
	if !bin.IsBase64Encoded || bin.Body != "AAH+/w==" {
		t.Errorf("binary body = %q base64 %v", bin.Body, bin.IsBase64Encoded)
	}
	if greedy := echo("GET", "/files/a/b/c.txt", ""); greedy.PathParameters["path"] != "a/b/c.txt" || greedy.RouteKey != "GET /files/{path+}" {
		t.Errorf("greedy route: %q %v", greedy.RouteKey, greedy.PathParameters)
	}
	if def := echo("GET", "/anything/else", ""); def.RouteKey != "$default" {
		t.Errorf("default route: %q", def.RouteKey)
	}

	r := request(t, "GET", e.APIURL+"/binary", "")
	if r.status != 201 || r.body != "\x00\x01\x02\xff" || strings.Join(r.header.Values("Set-Cookie"), "|") != "a=1|b=2; Path=/" {
		t.Errorf("binary response = %d %q cookies %v", r.status, r.body, r.header.Values("Set-Cookie"))
	}

	for path, want := range map[string]struct {
		status  int
		message string
	}{
		"/fail":      {500, "Internal Server Error"},
		"/crash":     {500, "Internal Server Error"},
		"/malformed": {500, "Internal Server Error"},
		"/big":       {500, "Internal Server Error"},
		"/sleep":     {500, "Internal Server Error"}, // the function's own 2 s timeout: a function error
	} {
		r := request(t, "GET", e.APIURL+path, "")
		var body struct{ Message string }
		if r.status != want.status || json.Unmarshal([]byte(r.body), &body) != nil || body.Message != want.message {
			t.Errorf("GET %s = %d %s, want %d {\"message\":%q}", path, r.status, r.body, want.status, want.message)
		}
	}
	// The function still works after crashing and timing out.
	echo("GET", "/items/after", "")
	if r := request(t, "POST", e.APIURL+"/items/x", strings.Repeat("x", 7<<20)); r.status != 413 {
		t.Errorf("7 MB request = %d %s, want 413", r.status, r.body)
	}
}
