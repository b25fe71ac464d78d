package runtimeapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNextEndsInitAndHandsOver(t *testing.T) {
	s, rec := newTestServer(t, 0)
	inv := invocation("id-1")
	inv.TraceID = "Root=1-abc;Parent=def;Sampled=1"
	inv.ClientContext = `{"custom":{"k":"v"}}`
	if err := s.Submit(inv); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	w := serve(s, http.MethodGet, PathNext, "")
	after := time.Now()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d %s", w.Code, w.Body)
	}
	h := w.Result().Header
	for k, v := range map[string]string{
		HeaderRequestID:          "id-1",
		HeaderInvokedFunctionARN: inv.InvokedFunctionARN,
		HeaderTraceID:            inv.TraceID,
		HeaderClientContext:      inv.ClientContext, // raw JSON, not base64
		"Content-Type":           "application/json",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	ms, err := strconv.ParseInt(h.Get(HeaderDeadlineMs), 10, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", HeaderDeadlineMs, h.Get(HeaderDeadlineMs), err)
	}
	if lo, hi := before.Add(3*time.Second).UnixMilli(), after.Add(3*time.Second).UnixMilli(); ms < lo || ms > hi {
		t.Errorf("deadline %d not hand-off + timeout [%d, %d]", ms, lo, hi)
	}
	if got := w.Body.String(); got != string(inv.Payload) {
		t.Errorf("body = %q, want %q", got, inv.Payload)
	}
	if got, want := rec.log(), "initialized, invoked id-1"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	if s.State() != StateRunning {
		t.Errorf("state = %s, want %s", s.State(), StateRunning)
	}
}

func TestNextOmitsEmptyOptionalHeaders(t *testing.T) {
	s, _ := newTestServer(t, 0)
	inv := invocation("id-1")
	inv.InvokedFunctionARN = ""
	_ = s.Submit(inv)
	w := serve(s, http.MethodGet, PathNext, "")
	for _, k := range []string{HeaderTraceID, HeaderClientContext, HeaderCognitoIdentity, HeaderInvokedFunctionARN} {
		if _, set := w.Result().Header[k]; set {
			t.Errorf("header %s set, want it omitted", k)
		}
	}
	if w.Result().Header.Get(HeaderDeadlineMs) == "" {
		t.Error("deadline header missing; aws-lambda-go fails every invocation without it")
	}
}

func TestNextCompletesPreviousInvocation(t *testing.T) {
	s, rec := newTestServer(t, 0)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodPost, responsePath("id-1"), `"ok"`), http.StatusAccepted, "")
	handOver(t, s, "id-2")
	if got, want := rec.log(), "initialized, invoked id-1, responded id-1, completed id-1, invoked id-2"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestNextWithoutAnswerIsForbidden(t *testing.T) {
	s, _ := newTestServer(t, 0)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodGet, PathNext, ""), http.StatusForbidden, ErrorTypeInvalidStateTransition)
}

// TestNextLongPoll runs a real server on port 0: the poll is held open until
// an invocation is submitted, and a second concurrent poll is refused.
func TestNextLongPoll(t *testing.T) {
	s, _ := newTestServer(t, 0)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	url := "http://" + s.Addr() + PathNext

	got := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- resp
	}()
	waitState(t, s, StateReady)
	// The poll is held: a second one is refused.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("concurrent poll = %d, want 403", resp.StatusCode)
	}
	select {
	case <-got:
		t.Fatal("poll answered before an invocation was submitted")
	default:
	}
	if err := s.Submit(invocation("id-1")); err != nil {
		t.Fatal(err)
	}
	resp = <-got
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderRequestID) != "id-1" || string(body) != `{"event":"id-1"}` {
		t.Errorf("poll = %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func TestNextAnswers500WhenClosed(t *testing.T) {
	s, _ := newTestServer(t, 0)
	done := make(chan int, 1)
	go func() { done <- serve(s, http.MethodGet, PathNext, "").Code }()
	waitState(t, s, StateReady)
	_ = s.Close()
	if code := <-done; code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", code)
	}
	if err := s.Submit(invocation("id-1")); err != ErrClosed {
		t.Errorf("Submit after Close = %v, want ErrClosed", err)
	}
}

func TestSubmitAndWithdraw(t *testing.T) {
	s, rec := newTestServer(t, 0)
	first, second := invocation("id-1"), invocation("id-2")
	if err := s.Submit(first); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(second); err != ErrBusy {
		t.Errorf("second Submit = %v, want ErrBusy", err)
	}
	if !s.Withdraw(first) {
		t.Fatal("Withdraw of a pending invocation failed")
	}
	if s.Withdraw(first) {
		t.Error("second Withdraw succeeded")
	}
	// The runtime never sees a withdrawn invocation.
	_ = s.Submit(second)
	if w := serve(s, http.MethodGet, PathNext, ""); w.Result().Header.Get(HeaderRequestID) != "id-2" {
		t.Errorf("handed over %q, want id-2", w.Result().Header.Get(HeaderRequestID))
	}
	if s.Withdraw(second) {
		t.Error("Withdraw after hand-off succeeded")
	}
	if got, want := rec.log(), "initialized, invoked id-2"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
}

// TestNextGivesUpWhenRuntimeLeaves: a poll whose client goes away leaves the
// state Ready and can be retried.
func TestNextGivesUpWhenRuntimeLeaves(t *testing.T) {
	s, _ := newTestServer(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, PathNext, nil)
		s.Handler().ServeHTTP(discardWriter{}, req)
	}()
	waitState(t, s, StateReady)
	cancel()
	<-done
	handOver(t, s, "id-1")
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}

// waitState waits until the server reaches state and a poll is waiting.
func waitState(t *testing.T, s *Server, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		ok := s.st.name() == state && s.polling
		s.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %s never reached", state)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNextWaitsForAnswerReport: a poll that overtakes the report of the
// answer (possible on a second connection) completes the invocation only
// after the observer heard about the answer.
func TestNextWaitsForAnswerReport(t *testing.T) {
	s, rec := newTestServer(t, 0)
	handOver(t, s, "id-1")
	entered, release := make(chan struct{}), make(chan struct{})
	rec.onRespond = func() { close(entered); <-release }

	answered := make(chan int)
	go func() { answered <- serve(s, http.MethodPost, responsePath("id-1"), `"ok"`).Code }()
	<-entered
	_ = s.Submit(invocation("id-2"))
	polled := make(chan int)
	go func() { polled <- serve(s, http.MethodGet, PathNext, "").Code }()
	time.Sleep(20 * time.Millisecond) // give the poll a chance to overtake
	if strings.Contains(rec.log(), "completed") {
		t.Fatalf("completed before the answer was reported: %s", rec.log())
	}
	close(release)
	if code := <-answered; code != http.StatusAccepted {
		t.Errorf("response = %d", code)
	}
	if code := <-polled; code != http.StatusOK {
		t.Errorf("poll = %d", code)
	}
	if got, want := rec.log(), "initialized, invoked id-1, responded id-1, completed id-1, invoked id-2"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
}
