package runtimeapi

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an Observer that records events as strings.
type recorder struct {
	// onRespond, when set, runs at the start of Responded.
	onRespond func()

	mu       sync.Mutex
	events   []string
	outcomes []Outcome
	initErr  *ErrorReport
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) Initialized()              { r.add("initialized") }
func (r *recorder) Invoked(inv *Invocation)   { r.add("invoked " + inv.RequestID) }
func (r *recorder) Completed(inv *Invocation) { r.add("completed " + inv.RequestID) }
func (r *recorder) InitFailed(rep ErrorReport) {
	r.mu.Lock()
	r.initErr = &rep
	r.mu.Unlock()
	r.add("init failed")
}
func (r *recorder) Responded(inv *Invocation, out Outcome) {
	if r.onRespond != nil {
		r.onRespond()
	}
	r.mu.Lock()
	r.outcomes = append(r.outcomes, out)
	r.mu.Unlock()
	r.add("responded " + inv.RequestID)
}

func (r *recorder) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, ", ")
}

func (r *recorder) lastOutcome(t *testing.T) Outcome {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.outcomes) == 0 {
		t.Fatal("no outcome recorded")
	}
	return r.outcomes[len(r.outcomes)-1]
}

func newTestServer(t *testing.T, maxPayload int) (*Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	s := NewServer(Config{Observer: rec, MaxPayloadBytes: maxPayload, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { _ = s.Close() })
	return s, rec
}

// serve sends one request to the Server's handler.
func serve(s *Server, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

func responsePath(id string) string {
	return fmt.Sprintf("/2018-06-01/runtime/invocation/%s/response", id)
}
func errorPath(id string) string { return fmt.Sprintf("/2018-06-01/runtime/invocation/%s/error", id) }

// invocation returns a test invocation with id.
func invocation(id string) *Invocation {
	return &Invocation{
		RequestID:          id,
		Payload:            []byte(`{"event":"` + id + `"}`),
		Timeout:            3 * time.Second,
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:f",
	}
}

// handOver submits an invocation and has the runtime receive it.
func handOver(t *testing.T, s *Server, id string) {
	t.Helper()
	if err := s.Submit(invocation(id)); err != nil {
		t.Fatalf("Submit(%s) = %v", id, err)
	}
	if w := serve(s, http.MethodGet, PathNext, ""); w.Code != http.StatusOK {
		t.Fatalf("GET next = %d %s", w.Code, w.Body)
	}
}

// wantStatus checks the status code and, for errors, the errorType.
func wantStatus(t *testing.T, w *httptest.ResponseRecorder, code int, errorType string) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, code)
	}
	var doc struct {
		Type   string `json:"errorType"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("body %q is not JSON: %v", w.Body, err)
	}
	if code == http.StatusAccepted && doc.Status != "OK" {
		t.Errorf("body = %s, want {\"status\":\"OK\"}", w.Body)
	}
	if errorType != "" && doc.Type != errorType {
		t.Errorf("errorType = %q, want %q", doc.Type, errorType)
	}
}
