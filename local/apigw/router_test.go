package apigw_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/questlog/questlog/local/apigw"
)

// routingTable follows the example in the HTTP API routing documentation,
// plus ANY/explicit-method and literal/variable tie-breaks.
var routingTable = []apigw.Route{
	{Method: "GET", Path: "/pets/dog/1", Function: "F1"},
	{Method: "GET", Path: "/pets/dog/{id}", Function: "F2"},
	{Method: "GET", Path: "/pets/{proxy+}", Function: "F3"},
	{Method: "ANY", Path: "/{proxy+}", Function: "F4"},
	{Method: "ANY", Path: "/toys/{id}", Function: "F5"},
	{Method: "DELETE", Path: "/toys/{id}", Function: "F6"},
	{Method: "GET", Path: "/toys/{id}/parts", Function: "F7"},
	{Method: "GET", Path: "/{kind}/{id}/parts", Function: "F8"},
	{Method: "get", Path: "/", Function: "F9"},
	{Method: "POST", Path: "/only-post", Function: "F10"},
}

func TestRouteSelection(t *testing.T) {
	tests := []struct {
		method, target string
		wantKey        string
		wantParams     map[string]string
	}{
		{"GET", "/pets/dog/1", "GET /pets/dog/1", nil},
		{"GET", "/pets/dog/2", "GET /pets/dog/{id}", map[string]string{"id": "2"}},
		{"GET", "/pets/cat/1", "GET /pets/{proxy+}", map[string]string{"proxy": "cat/1"}},
		{"POST", "/pets/dog/1", "ANY /{proxy+}", map[string]string{"proxy": "pets/dog/1"}},
		{"GET", "/test", "ANY /{proxy+}", map[string]string{"proxy": "test"}},
		// An explicit method beats ANY for the same path...
		{"DELETE", "/toys/7", "DELETE /toys/{id}", map[string]string{"id": "7"}},
		// ...and ANY covers the other methods; a full match beats a greedy one.
		{"GET", "/toys/7", "ANY /toys/{id}", map[string]string{"id": "7"}},
		{"PATCH", "/toys/7", "ANY /toys/{id}", map[string]string{"id": "7"}},
		// Literal segments beat variables, left to right.
		{"GET", "/toys/7/parts", "GET /toys/{id}/parts", map[string]string{"id": "7"}},
		{"GET", "/cars/7/parts", "GET /{kind}/{id}/parts", map[string]string{"kind": "cars", "id": "7"}},
		{"GET", "/", "GET /", nil},
		// Percent-encoded input: decoded parameters, encoded literals match.
		{"GET", "/pets/dog/%31", "GET /pets/dog/1", nil},
		{"GET", "/pets/dog/a%2Fb%20c", "GET /pets/dog/{id}", map[string]string{"id": "a/b c"}},
		{"GET", "/pets/a%2Fb/c%20d/", "GET /pets/{proxy+}", map[string]string{"proxy": "a/b/c d/"}},
		{"GET", "/only-post", "ANY /{proxy+}", map[string]string{"proxy": "only-post"}},
	}
	inv := &fakeInvoker{}
	h := newGateway(t, routingTable, inv)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			rec := serve(h, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200 (%s)", rec.Code, rec.Body)
			}
			ev := decodeV2(t, inv.last(t).Payload)
			if ev.RouteKey != tt.wantKey {
				t.Errorf("routeKey = %q, want %q", ev.RouteKey, tt.wantKey)
			}
			if len(ev.PathParameters) != len(tt.wantParams) {
				t.Errorf("pathParameters = %v, want %v", ev.PathParameters, tt.wantParams)
			}
			for k, v := range tt.wantParams {
				if ev.PathParameters[k] != v {
					t.Errorf("pathParameters[%s] = %q, want %q", k, ev.PathParameters[k], v)
				}
			}
		})
	}
}

func TestRouteSelectionNotFound(t *testing.T) {
	routes := []apigw.Route{
		{Method: "GET", Path: "/pets/{id}", Function: "F"},
		{Method: "GET", Path: "/files/{proxy+}", Function: "F"},
		{Method: "POST", Path: "/pets", Function: "F"},
	}
	inv := &fakeInvoker{}
	h := newGateway(t, routes, inv)
	for _, target := range []string{
		"/", "/pets", "/pets/", "/pets/1/2", "/files", "/files/", "/PETS/1", "/other",
	} {
		for _, method := range []string{"GET", "HEAD", "PUT"} {
			rec := serve(h, httptest.NewRequest(method, target, nil))
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404", method, target, rec.Code)
				continue
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type %q", method, target, ct)
			}
			if method != "HEAD" && rec.Body.String() != `{"message":"Not Found"}` {
				t.Errorf("%s %s: body %q", method, target, rec.Body)
			}
			if rec.Header().Get("Apigw-Requestid") == "" {
				t.Errorf("%s %s: no Apigw-Requestid", method, target)
			}
		}
	}
	if n := inv.count(); n != 0 {
		t.Errorf("%d invocations for unrouted requests", n)
	}
	// The $default route catches everything else.
	h = newGateway(t, append(routes, apigw.Route{Path: "$default", Function: "D"}), inv)
	rec := serve(h, httptest.NewRequest("PUT", "/other", nil))
	if rec.Code != http.StatusOK || inv.last(t).Function != "D" {
		t.Errorf("$default: status %d, function %q", rec.Code, inv.last(t).Function)
	}
	if ev := decodeV2(t, inv.last(t).Payload); ev.RouteKey != "$default" || ev.RequestContext.RouteKey != "$default" {
		t.Errorf("$default routeKey = %q / %q", ev.RouteKey, ev.RequestContext.RouteKey)
	}
}

func TestNewValidation(t *testing.T) {
	ok := apigw.Route{Method: "GET", Path: "/a", Function: "F"}
	tests := []struct {
		name    string
		routes  []apigw.Route
		wantErr []string // substrings of the error
	}{
		{"greedy not last", []apigw.Route{{Method: "GET", Path: "/{proxy+}/x", Function: "F"}}, []string{"greedy", "last"}},
		{"duplicate", []apigw.Route{ok, {Method: "get", Path: "/a", Function: "G"}}, []string{"duplicate", `route 1 "GET /a"`, `route 0 "GET /a"`}},
		{"duplicate by shape", []apigw.Route{{Method: "GET", Path: "/p/{id}", Function: "F"}, {Method: "GET", Path: "/p/{name}", Function: "G"}},
			[]string{`"GET /p/{name}"`, `"GET /p/{id}"`}},
		{"two defaults", []apigw.Route{{Function: "F"}, {Path: "$default", Function: "G"}}, []string{"duplicate", "$default"}},
		{"bad method", []apigw.Route{{Method: "FETCH", Path: "/a", Function: "F"}}, []string{"unsupported method"}},
		{"no leading slash", []apigw.Route{{Method: "GET", Path: "a", Function: "F"}}, []string{"start with /"}},
		{"path without method", []apigw.Route{{Path: "/a", Function: "F"}}, []string{"without method"}},
		{"method without path", []apigw.Route{{Method: "GET", Function: "F"}}, []string{"without path"}},
		{"empty segment", []apigw.Route{{Method: "GET", Path: "/a//b", Function: "F"}}, []string{"empty path segment"}},
		{"mixed segment", []apigw.Route{{Method: "GET", Path: "/a{b}", Function: "F"}}, []string{"mixes"}},
		{"repeated variable", []apigw.Route{{Method: "GET", Path: "/{a}/{a}", Function: "F"}}, []string{"twice"}},
		{"no function", []apigw.Route{{Method: "GET", Path: "/a"}}, []string{"no function"}},
		{"payload version", []apigw.Route{{Method: "GET", Path: "/a", Function: "F", PayloadFormatVersion: "3.0"}}, []string{"payload format"}},
		{"timeout too long", []apigw.Route{{Method: "GET", Path: "/a", Function: "F", TimeoutInMillis: 30001}}, []string{"timeout"}},
		{"timeout too short", []apigw.Route{{Method: "GET", Path: "/a", Function: "F", TimeoutInMillis: 49}}, []string{"timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apigw.New(tt.routes, &fakeInvoker{}, apigw.Options{})
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			if !errors.Is(err, apigw.ErrInvalidRoute) {
				t.Errorf("error %v does not wrap ErrInvalidRoute", err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	if _, err := apigw.New([]apigw.Route{ok}, nil, apigw.Options{}); err == nil {
		t.Error("New with a nil invoker succeeded")
	}
	if _, err := apigw.New(routingTable, &fakeInvoker{}, apigw.Options{}); err != nil {
		t.Errorf("valid routes rejected: %v", err)
	}
}
