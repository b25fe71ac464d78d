package runtimeapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestErrorAccepted(t *testing.T) {
	for _, tc := range []struct {
		name, body, header string
		wantType, wantMsg  string
		keepBody           bool
	}{
		{"type from body", `{"errorMessage":"boom","errorType":"errorString"}`, "", "errorString", "boom", true},
		{"body wins over header", `{"errorMessage":"boom","errorType":"wrapError"}`, "Custom.Header", "wrapError", "boom", true},
		{"header when body has none", `{"errorMessage":"boom"}`, "Custom.Header", "Custom.Header", "boom", true},
		{"not JSON", `segfault`, "", ErrorTypeUnknown, "segfault", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rec := newTestServer(t, 0)
			handOver(t, s, "id-1")
			var hdr []string
			if tc.header != "" {
				hdr = []string{HeaderFunctionErrorType, tc.header}
			}
			wantStatus(t, serve(s, http.MethodPost, errorPath("id-1"), tc.body, hdr...), http.StatusAccepted, "")
			out := rec.lastOutcome(t)
			if out.Error == nil || out.Error.Type != tc.wantType || out.Error.Message != tc.wantMsg {
				t.Fatalf("error = %+v, want %s %q", out.Error, tc.wantType, tc.wantMsg)
			}
			if tc.keepBody && string(out.Body) != tc.body {
				t.Errorf("body = %s, want the posted document", out.Body)
			}
			var doc map[string]any
			if err := json.Unmarshal(out.Body, &doc); err != nil {
				t.Errorf("body %q is not JSON", out.Body)
			}
		})
	}
}

func TestErrorUnknownRequestID(t *testing.T) {
	s, _ := newTestServer(t, 0)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodPost, errorPath("nope"), `{}`), http.StatusBadRequest, ErrorTypeInvalidRequestID)
}

func TestErrorInvalidState(t *testing.T) {
	s, _ := newTestServer(t, 0)
	wantStatus(t, serve(s, http.MethodPost, errorPath("id-1"), `{}`), http.StatusForbidden, ErrorTypeInvalidStateTransition)
	handOver(t, s, "id-1")
	wantStatus(t, serve(s, http.MethodPost, responsePath("id-1"), `{}`), http.StatusAccepted, "")
	wantStatus(t, serve(s, http.MethodPost, errorPath("id-1"), `{}`), http.StatusForbidden, ErrorTypeInvalidStateTransition)
}

func TestErrorTooLarge(t *testing.T) {
	s, rec := newTestServer(t, 32)
	handOver(t, s, "id-1")
	body := `{"errorMessage":"` + strings.Repeat("x", 64) + `"}`
	wantStatus(t, serve(s, http.MethodPost, errorPath("id-1"), body), http.StatusRequestEntityTooLarge, ErrorTypeRequestTooLarge)
	if out := rec.lastOutcome(t); out.Error == nil || out.Error.Type != ErrorTypeResponseSizeTooLarge {
		t.Errorf("outcome error = %+v", out.Error)
	}
}
