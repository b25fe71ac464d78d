package apigw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/invoke"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeInvoker records every request and answers through respond.
type fakeInvoker struct {
	mu       sync.Mutex
	requests []invoke.Request
	respond  func(ctx context.Context, req invoke.Request) (*invoke.Result, error)
}

func (f *fakeInvoker) Invoke(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if f.respond == nil {
		return &invoke.Result{RequestID: "fake", Payload: []byte(`{"statusCode":200,"body":"ok"}`)}, nil
	}
	return f.respond(ctx, req)
}

// last returns the only or most recent request, failing the test if none.
func (f *fakeInvoker) last(t *testing.T) invoke.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("function was not invoked")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeInvoker) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// replying returns a respond func that answers every invocation with payload.
func replying(payload string) func(context.Context, invoke.Request) (*invoke.Result, error) {
	return func(context.Context, invoke.Request) (*invoke.Result, error) {
		return &invoke.Result{RequestID: "fake", Payload: []byte(payload)}, nil
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newGateway(t testing.TB, routes []apigw.Route, inv invoke.Invoker) http.Handler {
	t.Helper()
	h, err := apigw.New(routes, inv, apigw.Options{Logger: discardLogger()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeV2(t *testing.T, payload []byte) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("payload is not a 2.0 event: %v\n%s", err, payload)
	}
	return ev
}

// normalizeEvent replaces the fields that change on every request (ids,
// times, trace header) with placeholders and re-indents the JSON with
// sorted keys, so events can be compared with golden files.
func normalizeEvent(t *testing.T, payload []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("payload is not a JSON object: %v\n%s", err, payload)
	}
	rc, _ := m["requestContext"].(map[string]any)
	for k, placeholder := range map[string]any{
		"requestId": "<requestId>", "extendedRequestId": "<requestId>",
		"time": "<time>", "timeEpoch": 0, "requestTime": "<time>", "requestTimeEpoch": 0,
	} {
		if _, ok := rc[k]; ok {
			rc[k] = placeholder
		}
	}
	for _, hk := range []string{"headers", "multiValueHeaders"} {
		h, _ := m[hk].(map[string]any)
		for _, name := range []string{"x-amzn-trace-id", "X-Amzn-Trace-Id"} {
			switch h[name].(type) {
			case string:
				h[name] = "<trace>"
			case []any:
				h[name] = []any{"<trace>"}
			}
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
