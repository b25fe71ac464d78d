package runtimeapi

import (
	"net/http"
	"testing"
)

func TestInitErrorAccepted(t *testing.T) {
	s, rec := newTestServer(t, 0)
	w := serve(s, http.MethodPost, PathInitError, `{"errorMessage":"no config","errorType":"InitFailure"}`)
	wantStatus(t, w, http.StatusAccepted, "")
	if s.State() != StateInitError {
		t.Errorf("state = %s, want %s", s.State(), StateInitError)
	}
	rec.mu.Lock()
	rep := rec.initErr
	rec.mu.Unlock()
	if rep == nil || rep.Type != "InitFailure" || rep.Message != "no config" {
		t.Errorf("report = %+v", rep)
	}
	// Nothing else is allowed afterwards.
	wantStatus(t, serve(s, http.MethodGet, PathNext, ""), http.StatusForbidden, ErrorTypeInvalidStateTransition)
	wantStatus(t, serve(s, http.MethodPost, PathInitError, `{}`), http.StatusForbidden, ErrorTypeInvalidStateTransition)
}

func TestInitErrorTypeFromHeader(t *testing.T) {
	s, rec := newTestServer(t, 0)
	wantStatus(t, serve(s, http.MethodPost, PathInitError, `oops`, HeaderFunctionErrorType, "Runtime.Custom"), http.StatusAccepted, "")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.initErr == nil || rec.initErr.Type != "Runtime.Custom" || rec.initErr.Message != "oops" {
		t.Errorf("report = %+v", rec.initErr)
	}
}

func TestInitErrorAfterInit(t *testing.T) {
	s, _ := newTestServer(t, 0)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodPost, PathInitError, `{}`), http.StatusForbidden, ErrorTypeInvalidStateTransition)
}

func TestUnknownRouteAndMethod(t *testing.T) {
	s, _ := newTestServer(t, 0)
	if w := serve(s, http.MethodGet, "/2018-06-01/runtime/nope", ""); w.Code != http.StatusNotFound {
		t.Errorf("unknown route = %d, want 404", w.Code)
	}
	if w := serve(s, http.MethodPost, PathNext, ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST next = %d, want 405", w.Code)
	}
}
