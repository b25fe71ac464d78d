package runtimeapi

// GET /2018-06-01/runtime/invocation/next
//
// Behaviour: the runtime's first call ends init (Started -> Ready); a call
// after an answered invocation completes it (Responded -> Ready). The request
// is then held open, with no timeout, until the platform submits an
// invocation, which is handed over (Ready -> Running) with status 200, the
// event as body and the Lambda-Runtime-* headers. Lambda-Runtime-Deadline-Ms
// is always set (aws-lambda-go fails every invocation without it); optional
// headers are set only when non-empty.
//
// Errors: 403 when the state does not allow a poll (an unanswered invocation,
// after /init/error, or a second concurrent poll); 500 when the environment
// shuts down while the runtime waits.

import (
	"net/http"
	"strconv"
)

type invocationNextHandler struct{ s *Server }

func (h *invocationNextHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inv, err := h.s.next(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			return // the runtime went away; nobody reads an answer
		}
		renderError(w, err)
		return
	}
	hdr := w.Header()
	hdr.Set(HeaderRequestID, inv.RequestID)
	hdr.Set(HeaderDeadlineMs, strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	if inv.InvokedFunctionARN != "" {
		hdr.Set(HeaderInvokedFunctionARN, inv.InvokedFunctionARN)
	}
	if inv.TraceID != "" {
		hdr.Set(HeaderTraceID, inv.TraceID)
	}
	if inv.ClientContext != "" {
		hdr.Set(HeaderClientContext, inv.ClientContext)
	}
	if inv.CognitoIdentity != "" {
		hdr.Set(HeaderCognitoIdentity, inv.CognitoIdentity)
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(inv.Payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.Payload)
}
