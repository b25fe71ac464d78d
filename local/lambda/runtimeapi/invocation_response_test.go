package runtimeapi

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestResponseAccepted(t *testing.T) {
	s, rec := newTestServer(t, 0)
	handOver(t, s, "id-1")
	w := serve(s, http.MethodPost, responsePath("id-1"), `{"a":1}`, "Content-Type", "application/json")
	wantStatus(t, w, http.StatusAccepted, "")
	out := rec.lastOutcome(t)
	if string(out.Body) != `{"a":1}` || out.ContentType != "application/json" || out.Error != nil {
		t.Errorf("outcome = %+v", out)
	}
	if s.State() != StateResponded {
		t.Errorf("state = %s, want %s", s.State(), StateResponded)
	}
}

func TestResponseUnknownRequestID(t *testing.T) {
	s, _ := newTestServer(t, 0)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodPost, responsePath("other"), `{}`), http.StatusBadRequest, ErrorTypeInvalidRequestID)
	if s.State() != StateRunning {
		t.Errorf("state = %s after a rejected call, want %s", s.State(), StateRunning)
	}
}

func TestResponseInvalidState(t *testing.T) {
	s, _ := newTestServer(t, 0)
	// Started: no invocation yet.
	wantStatus(t, serve(s, http.MethodPost, responsePath("id-1"), `{}`), http.StatusForbidden, ErrorTypeInvalidStateTransition)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodPost, responsePath("id-1"), `{}`), http.StatusAccepted, "")
	// Responded: answered twice.
	wantStatus(t, serve(s, http.MethodPost, responsePath("id-1"), `{}`), http.StatusForbidden, ErrorTypeInvalidStateTransition)
}

func TestResponseTooLarge(t *testing.T) {
	s, rec := newTestServer(t, 16)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodPost, responsePath("id-1"), strings.Repeat("x", 17)), http.StatusRequestEntityTooLarge, ErrorTypeRequestTooLarge)
	out := rec.lastOutcome(t)
	if out.Error == nil || out.Error.Type != ErrorTypeResponseSizeTooLarge {
		t.Fatalf("outcome error = %+v, want %s", out.Error, ErrorTypeResponseSizeTooLarge)
	}
	if !strings.Contains(out.Error.Message, "(16 bytes)") {
		t.Errorf("message = %q, want the limit", out.Error.Message)
	}
	// A body at the limit is fine.
	s2, _ := newTestServer(t, 16)
	handOver(t, s2, "id-1")
	wantStatus(t, serve(s2, http.MethodPost, responsePath("id-1"), strings.Repeat("x", 16)), http.StatusAccepted, "")
}

// TestResponseChunkedWithErrorTrailers sends what aws-lambda-go sends when a
// streamed response fails: a chunked body whose trailers carry the error.
func TestResponseChunkedWithErrorTrailers(t *testing.T) {
	s, rec := newTestServer(t, 0)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	handOver(t, s, "id-1")

	errDoc := `{"errorMessage":"stream broke","errorType":"errorString"}`
	body := &trailerSetter{r: strings.NewReader("partial output")}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+responsePath("id-1"), body)
	req.Trailer = http.Header{HeaderFunctionErrorType: nil, HeaderFunctionErrorBody: nil}
	body.trailer = req.Trailer
	body.errType, body.errBody = "errorString", base64.StdEncoding.EncodeToString([]byte(errDoc))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d, want 202", resp.StatusCode)
	}
	out := rec.lastOutcome(t)
	if out.Error == nil || out.Error.Type != "errorString" || out.Error.Message != "stream broke" || string(out.Body) != errDoc {
		t.Errorf("outcome = %+v body %s, want the trailer error", out.Error, out.Body)
	}
}

// trailerSetter sets trailers at EOF, as aws-lambda-go's error-capturing
// reader does.
type trailerSetter struct {
	r                io.Reader
	trailer          http.Header
	errType, errBody string
}

func (ts *trailerSetter) Read(p []byte) (int, error) {
	n, err := ts.r.Read(p)
	if err == io.EOF {
		ts.trailer.Set(HeaderFunctionErrorType, ts.errType)
		ts.trailer.Set(HeaderFunctionErrorBody, ts.errBody)
	}
	return n, err
}

func TestResponseChunkedWithoutTrailersSucceeds(t *testing.T) {
	s, rec := newTestServer(t, 0)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	handOver(t, s, "id-1")
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+responsePath("id-1"), io.MultiReader(bytes.NewReader([]byte(`"he`)), strings.NewReader(`llo"`)))
	req.Trailer = http.Header{HeaderFunctionErrorType: nil, HeaderFunctionErrorBody: nil}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if out := rec.lastOutcome(t); out.Error != nil || string(out.Body) != `"hello"` {
		t.Errorf("outcome = %+v %s", out.Error, out.Body)
	}
}
