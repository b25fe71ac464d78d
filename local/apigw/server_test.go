package apigw_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/questlog/questlog/local/apigw"
)

// TestOverRealServer checks what only a real listener shows: the
// content-length header, the listener's port and the client's address.
func TestOverRealServer(t *testing.T) {
	inv := &fakeInvoker{}
	srv := httptest.NewServer(newGateway(t, []apigw.Route{{Function: "F"}}, inv))
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+"/a/b?c=d", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ev := decodeV2(t, inv.last(t).Payload)
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	for k, want := range map[string]string{
		"content-length": "5", "content-type": "text/plain", "host": "127.0.0.1:" + port,
		"x-forwarded-port": port, "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http",
	} {
		if ev.Headers[k] != want {
			t.Errorf("headers[%s] = %q, want %q", k, ev.Headers[k], want)
		}
	}
	if ev.Body != "hello" || ev.RawPath != "/a/b" || ev.RawQueryString != "c=d" || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" {
		t.Errorf("event %+v", ev)
	}
}
