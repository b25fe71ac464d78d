package apigw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/invoke"
)

func TestResponseMappingV2(t *testing.T) {
	tests := []struct {
		name        string
		payload     string
		wantStatus  int
		wantHeaders map[string]string
		wantCookies []string
		wantBody    string
	}{
		{"structured", `{"statusCode":201,"headers":{"content-type":"text/plain","x-custom":"a,b"},"body":"created"}`,
			201, map[string]string{"Content-Type": "text/plain", "X-Custom": "a,b"}, nil, "created"},
		{"missing content type", `{"statusCode":200,"body":"{\"ok\":true}"}`,
			200, map[string]string{"Content-Type": "application/json"}, nil, `{"ok":true}`},
		{"cookies", `{"statusCode":200,"cookies":["a=1; Path=/","b=2; HttpOnly"],"body":""}`,
			200, nil, []string{"a=1; Path=/", "b=2; HttpOnly"}, ""},
		{"base64 body", `{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"},"isBase64Encoded":true,"body":"AP8Q"}`,
			200, map[string]string{"Content-Type": "application/octet-stream"}, nil, "\x00\xff\x10"},
		{"aws-lambda-go response with nulls", `{"statusCode":404,"headers":null,"multiValueHeaders":null,"body":"nope","cookies":null}`,
			404, map[string]string{"Content-Type": "application/json"}, nil, "nope"},
		{"multiValueHeaders ignored in 2.0", `{"statusCode":200,"multiValueHeaders":{"X-A":["1","2"]},"body":"x"}`,
			200, map[string]string{"X-A": ""}, nil, "x"},
		{"stale content-length dropped", `{"statusCode":200,"headers":{"content-length":"999"},"body":"abc"}`,
			200, map[string]string{"Content-Length": ""}, nil, "abc"},
		{"object without statusCode", `{"hello":"world"}`,
			200, map[string]string{"Content-Type": "application/json"}, nil, `{"hello":"world"}`},
		{"object with mistyped fields, no statusCode", `{"headers":"x","body":1}`,
			200, map[string]string{"Content-Type": "application/json"}, nil, `{"headers":"x","body":1}`},
		{"bare string", `"just text"`, 200, map[string]string{"Content-Type": "application/json"}, nil, `"just text"`},
		{"bare number", `42`, 200, map[string]string{"Content-Type": "application/json"}, nil, `42`},
		{"null", `null`, 200, map[string]string{"Content-Type": "application/json"}, nil, `null`},
		{"array", `[1,2]`, 200, map[string]string{"Content-Type": "application/json"}, nil, `[1,2]`},
		{"invalid json", `{"statusCode":200`, 500, map[string]string{"Content-Type": "application/json"}, nil, `{"message":"Internal Server Error"}`},
		{"not json", `hello`, 500, nil, nil, `{"message":"Internal Server Error"}`},
		{"empty", ``, 500, nil, nil, `{"message":"Internal Server Error"}`},
		{"statusCode string", `{"statusCode":"200","body":"x"}`, 500, nil, nil, `{"message":"Internal Server Error"}`},
		{"statusCode out of range", `{"statusCode":99,"body":"x"}`, 500, nil, nil, `{"message":"Internal Server Error"}`},
		{"headers mistyped with statusCode", `{"statusCode":200,"headers":{"a":1}}`, 500, nil, nil, `{"message":"Internal Server Error"}`},
		{"bad base64", `{"statusCode":200,"isBase64Encoded":true,"body":"%%%"}`, 500, nil, nil, `{"message":"Internal Server Error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: replying(tt.payload)}
			h := newGateway(t, []apigw.Route{{Function: "F"}}, inv)
			rec := serve(h, httptest.NewRequest("GET", "/x", nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			for k, v := range tt.wantHeaders {
				if got := strings.Join(rec.Header().Values(k), "|"); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := rec.Header().Values("Set-Cookie"); !slices.Equal(got, tt.wantCookies) {
				t.Errorf("Set-Cookie = %q, want %q", got, tt.wantCookies)
			}
			if rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", rec.Body, tt.wantBody)
			}
			if rec.Header().Get("Apigw-Requestid") == "" {
				t.Error("no Apigw-Requestid header")
			}
		})
	}
}

func TestResponseMappingV1(t *testing.T) {
	tests := []struct {
		name       string
		payload    string
		wantStatus int
		wantHeader map[string][]string
		wantBody   string
	}{
		{"merged headers", `{"statusCode":202,"headers":{"X-A":"1","X-B":"b"},"multiValueHeaders":{"X-A":["1","2"],"Set-Cookie":["a=1","b=2"]},"body":"ok"}`,
			202, map[string][]string{"X-A": {"1", "2"}, "X-B": {"b"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Type": {"application/json"}}, "ok"},
		{"base64", `{"statusCode":200,"isBase64Encoded":true,"body":"aGk="}`, 200, nil, "hi"},
		{"bare json is malformed in 1.0", `{"hello":"world"}`, 500, nil, `{"message":"Internal Server Error"}`},
		{"string is malformed in 1.0", `"x"`, 500, nil, `{"message":"Internal Server Error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: replying(tt.payload)}
			h := newGateway(t, []apigw.Route{{Function: "F", PayloadFormatVersion: "1.0"}}, inv)
			rec := serve(h, httptest.NewRequest("GET", "/x", nil))
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Values(k); !slices.Equal(got, want) {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestInvocationOutcomes covers the status codes of failed integrations.
func TestInvocationOutcomes(t *testing.T) {
	fnErr := func(typ string) func(context.Context, invoke.Request) (*invoke.Result, error) {
		return func(context.Context, invoke.Request) (*invoke.Result, error) {
			return &invoke.Result{
				Payload: []byte(fmt.Sprintf(`{"errorType":%q,"errorMessage":"boom"}`, typ)),
				Error:   &invoke.FunctionError{Type: typ, Message: "boom"},
			}, nil
		}
	}
	goErr := func(err error) func(context.Context, invoke.Request) (*invoke.Result, error) {
		return func(context.Context, invoke.Request) (*invoke.Result, error) { return nil, err }
	}
	tests := []struct {
		name       string
		respond    func(context.Context, invoke.Request) (*invoke.Result, error)
		wantStatus int
		wantBody   string
	}{
		{"function error", fnErr("errorString"), 500, `{"message":"Internal Server Error"}`},
		{"function crash", fnErr("Runtime.ExitError"), 500, `{"message":"Internal Server Error"}`},
		{"function timeout", fnErr("Sandbox.Timedout"), 500, `{"message":"Internal Server Error"}`},
		{"response too large", fnErr("Function.ResponseSizeTooLarge"), 500, `{"message":"Internal Server Error"}`},
		{"throttled", goErr(fmt.Errorf("invoke F: %w", invoke.ErrThrottled)), 500, `{"message":"Internal Server Error"}`},
		{"unknown function", goErr(invoke.ErrUnknownFunction), 500, `{"message":"Internal Server Error"}`},
		{"request too large", goErr(invoke.ErrRequestTooLarge), 413, `{"message":"Request Entity Too Large"}`},
		{"emulator failure", goErr(errors.New("spawn bootstrap: no such file")), 500, `{"message":"Internal Server Error"}`},
		{"nil result", goErr(nil), 500, `{"message":"Internal Server Error"}`},
		{"integration timeout", func(ctx context.Context, _ invoke.Request) (*invoke.Result, error) {
			<-ctx.Done() // the 50 ms integration timeout expires
			return nil, ctx.Err()
		}, 503, `{"message":"Service Unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: tt.respond}
			h := newGateway(t, []apigw.Route{{Function: "F", TimeoutInMillis: 50}}, inv)
			rec := serve(h, httptest.NewRequest("POST", "/x", strings.NewReader("{}")))
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestIntegrationTimeoutDeadline(t *testing.T) {
	var deadlineSet bool
	inv := &fakeInvoker{respond: func(ctx context.Context, _ invoke.Request) (*invoke.Result, error) {
		_, deadlineSet = ctx.Deadline()
		return &invoke.Result{Payload: []byte(`{"statusCode":204}`)}, nil
	}}
	h := newGateway(t, []apigw.Route{{Function: "F"}}, inv)
	// A request whose client has already gone away still runs the function.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := serve(h, httptest.NewRequest("GET", "/x", nil).WithContext(ctx))
	if rec.Code != http.StatusNoContent {
		t.Errorf("status = %d, want 204", rec.Code)
	}
	if !deadlineSet {
		t.Error("invocation context has no integration deadline")
	}
}

func TestRequestSizeLimits(t *testing.T) {
	inv := &fakeInvoker{}
	h := newGateway(t, []apigw.Route{{Function: "F"}}, inv)

	// Over the HTTP API limit of 10 MB.
	big := bytes.Repeat([]byte("a"), apigw.MaxRequestBodyBytes+1)
	rec := serve(h, httptest.NewRequest("POST", "/x", bytes.NewReader(big)))
	if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != `{"message":"Request Entity Too Large"}` {
		t.Errorf(">10 MB: got %d %q", rec.Code, rec.Body)
	}
	// Same, announced by Content-Length only: rejected before reading.
	req := httptest.NewRequest("POST", "/x", strings.NewReader("small"))
	req.ContentLength = apigw.MaxRequestBodyBytes + 1
	if rec := serve(h, req); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("Content-Length >10 MB: got %d", rec.Code)
	}
	// Under 10 MB but the event exceeds Lambda's 6 MB.
	rec = serve(h, httptest.NewRequest("POST", "/x", bytes.NewReader(big[:invoke.MaxPayloadBytes])))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf(">6 MB event: got %d %q", rec.Code, rec.Body)
	}
	if n := inv.count(); n != 0 {
		t.Errorf("%d invocations for oversized requests", n)
	}
	// Just under: invoked.
	rec = serve(h, httptest.NewRequest("POST", "/x", bytes.NewReader(big[:invoke.MaxPayloadBytes-4096])))
	if rec.Code != http.StatusOK || inv.count() != 1 {
		t.Errorf("<6 MB event: got %d, %d invocations", rec.Code, inv.count())
	}
}

// TestAccessLog checks the slog record and the optional access-log line.
func TestAccessLog(t *testing.T) {
	var logs, access bytes.Buffer
	inv := &fakeInvoker{respond: replying(`{"statusCode":418,"body":"teapot"}`)}
	h, err := apigw.New([]apigw.Route{{Method: "GET", Path: "/tea/{kind}", Function: "TeaFunction"}}, inv, apigw.Options{
		Logger:    slog.New(slog.NewJSONHandler(&logs, nil)),
		AccessLog: &access,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(h, httptest.NewRequest("GET", "/tea/green", nil))
	id := rec.Header().Get("Apigw-Requestid")
	var entry map[string]any
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log is not one JSON record: %v\n%s", err, logs.String())
	}
	for k, want := range map[string]any{
		"msg": "http api request", "method": "GET", "path": "/tea/green", "status": float64(418),
		"function": "TeaFunction", "requestId": id, "routeKey": "GET /tea/{kind}",
	} {
		if entry[k] != want {
			t.Errorf("log %s = %v, want %v", k, entry[k], want)
		}
	}
	if _, ok := entry["duration"].(float64); !ok {
		t.Errorf("log has no numeric duration: %v", entry["duration"])
	}
	line := access.String()
	if !strings.HasPrefix(line, id+" 192.0.2.1 [") || !strings.HasSuffix(line, `] "GET /tea/green HTTP/1.1" 418 6`+"\n") {
		t.Errorf("access line = %q", line)
	}
}

// TestConcurrentRequests runs requests in parallel so -race can see the
// shared state (id generator, buffer pool, access log).
func TestConcurrentRequests(t *testing.T) {
	var access bytes.Buffer
	inv := &fakeInvoker{respond: func(_ context.Context, req invoke.Request) (*invoke.Result, error) {
		var ev struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(req.Payload, &ev); err != nil {
			return nil, err
		}
		out, _ := json.Marshal(map[string]any{"statusCode": 200, "body": ev.Body})
		return &invoke.Result{Payload: out}, nil
	}}
	h, err := apigw.New([]apigw.Route{{Function: "F"}}, inv, apigw.Options{Logger: discardLogger(), AccessLog: &access})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				body := fmt.Sprintf("req-%d-%d", i, j)
				rec := serve(h, httptest.NewRequest("POST", "/echo", strings.NewReader(body)))
				if rec.Body.String() != body {
					t.Errorf("echo %q came back as %q", body, rec.Body)
				}
			}
		})
	}
	wg.Wait()
	if n := strings.Count(access.String(), "\n"); n != 16*20 {
		t.Errorf("%d access lines, want %d", n, 16*20)
	}
}
