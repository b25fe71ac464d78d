package invokeapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/invokeapi"
)

// fakeInvoker records requests and answers through respond (default: echo
// the payload back).
type fakeInvoker struct {
	mu       sync.Mutex
	requests []invoke.Request
	respond  func(ctx context.Context, req invoke.Request) (*invoke.Result, error)
}

func (f *fakeInvoker) Invoke(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if f.respond != nil {
		return f.respond(ctx, req)
	}
	return &invoke.Result{RequestID: "11111111-2222-4333-8444-555555555555", Payload: req.Payload}, nil
}

func (f *fakeInvoker) all() []invoke.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]invoke.Request(nil), f.requests...)
}

var functions = map[string]string{
	"PurchaseSwordFunction": "PurchaseSwordFunction",
	"questlog-purchase":     "PurchaseSwordFunction", // the template's FunctionName
	"FilterFunction":        "FilterFunction",
}

func newHandler(t *testing.T, inv invoke.Invoker) *invokeapi.Handler {
	t.Helper()
	h, err := invokeapi.New(inv, invokeapi.Options{Logger: slog.New(slog.DiscardHandler), Functions: functions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func invokePath(name string) string {
	return "/2015-03-31/functions/" + name + "/invocations"
}

func do(h http.Handler, method, target string, body io.Reader, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// awsError is the error document, decoded the way the SDKs read it.
type awsError struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
	Reason  string `json:"Reason"`
}

func checkError(t *testing.T, w *httptest.ResponseRecorder, status int, code, typ, msgPrefix string) awsError {
	t.Helper()
	if w.Code != status {
		t.Errorf("status = %d, want %d (body %s)", w.Code, status, w.Body)
	}
	if got := w.Header().Get("x-amzn-ErrorType"); got != code {
		t.Errorf("x-amzn-ErrorType = %q, want %q", got, code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var e awsError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body, err)
	}
	if e.Type != typ || !strings.HasPrefix(e.Message, msgPrefix) {
		t.Errorf("error body = %+v, want Type %q and Message starting %q", e, typ, msgPrefix)
	}
	if w.Header().Get("X-Amzn-Requestid") == "" {
		t.Error("no X-Amzn-Requestid")
	}
	return e
}

func TestInvokeSuccess(t *testing.T) {
	inv := &fakeInvoker{}
	h := newHandler(t, inv)
	w := do(h, "POST", invokePath("PurchaseSwordFunction"), strings.NewReader(`{"username":"bob"}`),
		map[string]string{"X-Amzn-Trace-Id": "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c"})
	if w.Code != http.StatusOK || w.Body.String() != `{"username":"bob"}` {
		t.Fatalf("got %d %q", w.Code, w.Body)
	}
	for k, want := range map[string]string{
		"X-Amz-Executed-Version": "$LATEST",
		"X-Amzn-Requestid":       "11111111-2222-4333-8444-555555555555",
		"Content-Type":           "application/json",
		"X-Amz-Function-Error":   "",
		"X-Amz-Log-Result":       "",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	reqs := inv.all()
	if len(reqs) != 1 || reqs[0].Function != "PurchaseSwordFunction" || string(reqs[0].Payload) != `{"username":"bob"}` ||
		reqs[0].TraceID != "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c" || reqs[0].ClientContext != nil {
		t.Errorf("invocations = %+v", reqs)
	}
}

func TestInvokeFunctionError(t *testing.T) {
	for _, typ := range []string{"errorString", "Runtime.ExitError", "Sandbox.Timedout", "Function.ResponseSizeTooLarge"} {
		t.Run(typ, func(t *testing.T) {
			doc := fmt.Sprintf(`{"errorMessage":"boom","errorType":%q}`, typ)
			inv := &fakeInvoker{respond: func(context.Context, invoke.Request) (*invoke.Result, error) {
				return &invoke.Result{RequestID: "r", Payload: []byte(doc), Error: &invoke.FunctionError{Type: typ, Message: "boom"}}, nil
			}}
			w := do(newHandler(t, inv), "POST", invokePath("FilterFunction"), nil, nil)
			if w.Code != http.StatusOK || w.Body.String() != doc {
				t.Errorf("got %d %q, want 200 %q", w.Code, w.Body, doc)
			}
			if w.Header().Get("X-Amz-Function-Error") != "Unhandled" || w.Header().Get("X-Amz-Executed-Version") != "$LATEST" {
				t.Errorf("headers = %v", w.Header())
			}
		})
	}
	// A function error without a payload gets the error document built.
	inv := &fakeInvoker{respond: func(context.Context, invoke.Request) (*invoke.Result, error) {
		return &invoke.Result{Error: &invoke.FunctionError{Type: "Runtime.ExitError", Message: "exit status 2"}}, nil
	}}
	w := do(newHandler(t, inv), "POST", invokePath("FilterFunction"), nil, nil)
	var doc map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc["errorType"] != "Runtime.ExitError" || doc["errorMessage"] != "exit status 2" {
		t.Errorf("built error document %q (%v)", w.Body, err)
	}
}

func TestInvokeNames(t *testing.T) {
	tests := []struct {
		name, target string
		wantFunction string // "" = not found
	}{
		{"logical id", invokePath("PurchaseSwordFunction"), "PurchaseSwordFunction"},
		{"physical name", invokePath("questlog-purchase"), "PurchaseSwordFunction"},
		{"full arn", invokePath("arn:aws:lambda:us-east-1:123456789012:function:FilterFunction"), "FilterFunction"},
		{"full arn, escaped colons", invokePath("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AFilterFunction"), "FilterFunction"},
		{"full arn with $LATEST", invokePath("arn:aws:lambda:us-east-1:123456789012:function:FilterFunction:$LATEST"), "FilterFunction"},
		{"partial arn", invokePath("123456789012:function:FilterFunction"), "FilterFunction"},
		{"partial arn with qualifier", invokePath("123456789012:function:FilterFunction:%24LATEST"), "FilterFunction"},
		{"name with qualifier", invokePath("FilterFunction:$LATEST"), "FilterFunction"},
		{"qualifier parameter", invokePath("FilterFunction") + "?Qualifier=%24LATEST", "FilterFunction"},
		{"same qualifier twice", invokePath("FilterFunction:$LATEST") + "?Qualifier=$LATEST", "FilterFunction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{}
			w := do(newHandler(t, inv), "POST", tt.target, strings.NewReader(`{}`), nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if reqs := inv.all(); len(reqs) != 1 || reqs[0].Function != tt.wantFunction {
				t.Errorf("invocations %+v, want one of %s", reqs, tt.wantFunction)
			}
		})
	}
}

func TestInvokeNotFound(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:"
	tests := []struct{ target, wantMessage string }{
		{invokePath("NoSuchFunction"), "Function not found: " + arn + "NoSuchFunction"},
		{invokePath("FilterFunction:v2"), "Function not found: " + arn + "FilterFunction:v2"},
		{invokePath("FilterFunction") + "?Qualifier=live", "Function not found: " + arn + "FilterFunction:live"},
		{invokePath("arn:aws:lambda:eu-west-1:123456789012:function:FilterFunction"),
			"Function not found: arn:aws:lambda:eu-west-1:123456789012:function:FilterFunction"},
		{invokePath("999999999999:function:FilterFunction"),
			"Function not found: arn:aws:lambda:us-east-1:999999999999:function:FilterFunction"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			inv := &fakeInvoker{}
			for _, typ := range []string{"RequestResponse", "Event", "DryRun"} {
				w := do(newHandler(t, inv), "POST", tt.target, nil, map[string]string{"X-Amz-Invocation-Type": typ})
				e := checkError(t, w, http.StatusNotFound, "ResourceNotFoundException", "User", tt.wantMessage)
				if e.Message != tt.wantMessage {
					t.Errorf("%s: Message = %q, want %q", typ, e.Message, tt.wantMessage)
				}
			}
			if n := len(inv.all()); n != 0 {
				t.Errorf("%d invocations of an unknown function", n)
			}
		})
	}
	// Without a function list, the Invoker decides.
	inv := &fakeInvoker{respond: func(context.Context, invoke.Request) (*invoke.Result, error) {
		return nil, fmt.Errorf("lookup Ghost: %w", invoke.ErrUnknownFunction)
	}}
	h, err := invokeapi.New(inv, invokeapi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w := do(h, "POST", invokePath("Ghost"), nil, nil)
	checkError(t, w, http.StatusNotFound, "ResourceNotFoundException", "User", "Function not found: "+arn+"Ghost")
	if reqs := inv.all(); len(reqs) != 1 || reqs[0].Function != "Ghost" {
		t.Errorf("invocations %+v", reqs)
	}
}

func TestInvokeBadRequests(t *testing.T) {
	inv := &fakeInvoker{}
	h := newHandler(t, inv)
	tests := []struct {
		name, target string
		body         string
		header       map[string]string
		status       int
		code         string
	}{
		{"bad name", invokePath("bad%20name"), "{}", nil, 400, "ValidationException"},
		{"bad arn", invokePath("arn:aws:s3:us-east-1:123456789012:function:F"), "{}", nil, 400, "ValidationException"},
		{"empty qualifier", invokePath("FilterFunction:"), "{}", nil, 400, "ValidationException"},
		{"qualifier mismatch", invokePath("FilterFunction:$LATEST") + "?Qualifier=v1", "{}", nil, 400, "InvalidParameterValueException"},
		{"invocation type", invokePath("FilterFunction"), "{}", map[string]string{"X-Amz-Invocation-Type": "Sometimes"}, 400, "InvalidParameterValueException"},
		{"log type", invokePath("FilterFunction"), "{}", map[string]string{"X-Amz-Log-Type": "All"}, 400, "InvalidParameterValueException"},
		{"client context not base64", invokePath("FilterFunction"), "{}", map[string]string{"X-Amz-Client-Context": "!!!"}, 400, "InvalidRequestContentException"},
		{"client context not json", invokePath("FilterFunction"), "{}",
			map[string]string{"X-Amz-Client-Context": base64.StdEncoding.EncodeToString([]byte("nope"))}, 400, "InvalidRequestContentException"},
		{"client context too long", invokePath("FilterFunction"), "{}",
			map[string]string{"X-Amz-Client-Context": base64.StdEncoding.EncodeToString([]byte(`{"custom":{"a":"` + strings.Repeat("x", 3000) + `"}}`))}, 400, "InvalidRequestContentException"},
		{"payload not json", invokePath("FilterFunction"), "{not json", nil, 400, "InvalidRequestContentException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, "POST", tt.target, strings.NewReader(tt.body), tt.header)
			checkError(t, w, tt.status, tt.code, "User", "")
		})
	}
	if n := len(inv.all()); n != 0 {
		t.Errorf("%d invocations for bad requests", n)
	}
}

func TestUnknownOperations(t *testing.T) {
	h := newHandler(t, &fakeInvoker{})
	for _, c := range []struct{ method, target string }{
		{"GET", invokePath("FilterFunction")},
		{"PUT", invokePath("FilterFunction")},
		{"POST", "/2015-03-31/functions/FilterFunction"},
		{"POST", "/2015-03-31/functions//invocations"},
		{"POST", "/2015-03-31/functions/a/b/invocations"},
		{"POST", "/2015-03-31/functions/a%2Fb/invocations"},
		{"POST", "/2014-11-13/functions/FilterFunction/invoke-async/"},
		{"GET", "/"},
	} {
		w := do(h, c.method, c.target, nil, nil)
		checkError(t, w, http.StatusNotFound, "UnknownOperationException", "User", "Unknown operation")
	}
}

func TestInvokeOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		typ    string
		msg    string
	}{
		{"throttled", fmt.Errorf("acquire environment: %w", invoke.ErrThrottled), 429, "TooManyRequestsException", "User", "Rate Exceeded."},
		{"too large", invoke.ErrRequestTooLarge, 413, "RequestTooLargeException", "User", "Request must be smaller than 6291456 bytes"},
		{"emulator failure", errors.New("fork/exec bootstrap: permission denied"), 500, "ServiceException", "Service", "The emulator failed"},
		{"no result", nil, 500, "ServiceException", "Service", "The emulator returned no result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: func(context.Context, invoke.Request) (*invoke.Result, error) { return nil, tt.err }}
			w := do(newHandler(t, inv), "POST", invokePath("FilterFunction"), strings.NewReader("{}"), nil)
			e := checkError(t, w, tt.status, tt.code, tt.typ, tt.msg)
			if tt.status == 429 && (e.Reason != "ConcurrentInvocationLimitExceeded" || w.Header().Get("Retry-After") == "") {
				t.Errorf("429: Reason %q, Retry-After %q", e.Reason, w.Header().Get("Retry-After"))
			}
		})
	}
}

func TestRequestTooLarge(t *testing.T) {
	inv := &fakeInvoker{}
	h := newHandler(t, inv)
	big := `"` + strings.Repeat("a", invoke.MaxPayloadBytes) + `"` // valid JSON, 6 MB + 2
	w := do(h, "POST", invokePath("FilterFunction"), strings.NewReader(big), nil)
	checkError(t, w, 413, "RequestTooLargeException", "User", "Request must be smaller than 6291456 bytes")

	// Event invocations have the 1 MB asynchronous limit.
	async := `"` + strings.Repeat("a", invokeapi.MaxAsyncPayloadBytes) + `"`
	w = do(h, "POST", invokePath("FilterFunction"), strings.NewReader(async), map[string]string{"X-Amz-Invocation-Type": "Event"})
	checkError(t, w, 413, "RequestTooLargeException", "User", "Request must be smaller than 1048576 bytes")
	// ...which is fine for RequestResponse.
	if w := do(h, "POST", invokePath("FilterFunction"), strings.NewReader(async), nil); w.Code != 200 {
		t.Errorf("1 MB synchronous: status %d", w.Code)
	}
	if n := len(inv.all()); n != 1 {
		t.Errorf("%d invocations, want 1", n)
	}
}

func TestClientContextAndEmptyPayload(t *testing.T) {
	inv := &fakeInvoker{}
	h := newHandler(t, inv)
	cc := `{"client":{"installation_id":"i-1","app_title":"questlog"},"custom":{"k":"v"},"env":{"locale":"en"}}`
	w := do(h, "POST", invokePath("FilterFunction"), nil, map[string]string{
		"X-Amz-Client-Context": base64.StdEncoding.EncodeToString([]byte(cc)),
		"X-Amz-Log-Type":       "Tail",
	})
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	reqs := inv.all()
	if len(reqs) != 1 || string(reqs[0].ClientContext) != cc || string(reqs[0].Payload) != "{}" {
		t.Errorf("invocation %+v, want decoded client context and {} payload", reqs)
	}
}

func TestDryRun(t *testing.T) {
	inv := &fakeInvoker{}
	w := do(newHandler(t, inv), "POST", invokePath("FilterFunction"), strings.NewReader(`{"a":1}`),
		map[string]string{"X-Amz-Invocation-Type": "DryRun"})
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 || w.Header().Get("X-Amzn-Requestid") == "" {
		t.Errorf("got %d %q %v", w.Code, w.Body, w.Header())
	}
	if n := len(inv.all()); n != 0 {
		t.Errorf("DryRun invoked the function %d times", n)
	}
}

// TestEventInvocation shows that an Event invocation is answered before the
// function finishes: the fake blocks until the test has seen the 202.
func TestEventInvocation(t *testing.T) {
	started := make(chan invoke.Request, 1)
	release := make(chan struct{})
	finished := make(chan struct{})
	inv := &fakeInvoker{respond: func(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
		started <- req
		<-release
		close(finished)
		return &invoke.Result{Payload: []byte(`"done"`)}, nil
	}}
	h := newHandler(t, inv)
	w := do(h, "POST", invokePath("questlog-purchase"), strings.NewReader(`{"n":1}`),
		map[string]string{"X-Amz-Invocation-Type": "Event"})
	if w.Code != http.StatusAccepted || w.Body.Len() != 0 || w.Header().Get("X-Amzn-Requestid") == "" {
		t.Fatalf("got %d %q", w.Code, w.Body)
	}
	if w.Header().Get("X-Amz-Executed-Version") != "" {
		t.Error("Event response carries X-Amz-Executed-Version")
	}
	req := <-started // the invocation runs although the response is already written
	if req.Function != "PurchaseSwordFunction" || string(req.Payload) != `{"n":1}` {
		t.Errorf("async request %+v", req)
	}
	select {
	case <-finished:
		t.Fatal("function finished before it was released")
	default:
	}
	close(release)
	if err := h.Close(context.Background()); err != nil { // waits for the invocation
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Close returned before the event invocation finished")
	}
	// After Close, Event invocations are refused.
	w = do(h, "POST", invokePath("FilterFunction"), nil, map[string]string{"X-Amz-Invocation-Type": "Event"})
	checkError(t, w, 500, "ServiceException", "Service", "")
}

// TestEventInvocationThrottled: throttled events are retried until they run.
func TestEventInvocationThrottled(t *testing.T) {
	var mu sync.Mutex
	attempts := 0
	done := make(chan struct{})
	inv := &fakeInvoker{respond: func(context.Context, invoke.Request) (*invoke.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts < 3 {
			return nil, invoke.ErrThrottled
		}
		close(done)
		return &invoke.Result{Payload: []byte(`{}`)}, nil
	}}
	h := newHandler(t, inv)
	w := do(h, "POST", invokePath("FilterFunction"), nil, map[string]string{"X-Amz-Invocation-Type": "Event"})
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d", w.Code)
	}
	<-done
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if attempts != 3 {
		t.Errorf("%d attempts, want 3", attempts)
	}
}

// TestCloseGivesUp: Close with an ended context cancels the running event
// invocations and reports it.
func TestCloseGivesUp(t *testing.T) {
	started := make(chan struct{})
	inv := &fakeInvoker{respond: func(ctx context.Context, _ invoke.Request) (*invoke.Result, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	h, err := invokeapi.New(inv, invokeapi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	do(h, "POST", invokePath("F"), nil, map[string]string{"X-Amz-Invocation-Type": "Event"})
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want context.Canceled", err)
	}
	if err := h.Close(context.Background()); err != nil { // the invocation saw the cancellation
		t.Errorf("second Close = %v", err)
	}
}

func TestSyncInvocationOutlivesClient(t *testing.T) {
	var ctxErr error
	inv := &fakeInvoker{respond: func(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
		ctxErr = ctx.Err()
		return &invoke.Result{Payload: []byte(`1`)}, nil
	}}
	h := newHandler(t, inv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("POST", invokePath("FilterFunction"), bytes.NewReader([]byte("{}"))).WithContext(ctx)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if ctxErr != nil || w.Code != 200 {
		t.Errorf("invocation context err %v, status %d", ctxErr, w.Code)
	}
}

func TestNewValidation(t *testing.T) {
	if _, err := invokeapi.New(nil, invokeapi.Options{}); err == nil {
		t.Error("nil invoker accepted")
	}
	if _, err := invokeapi.New(&fakeInvoker{}, invokeapi.Options{AccountID: "12"}); err == nil {
		t.Error("bad account id accepted")
	}
}
