package runtimeapi

// POST /2018-06-01/runtime/invocation/{id}/response
//
// Behaviour: the runtime answers the invocation it is working on
// (Running -> Responded) and gets 202. aws-lambda-go always sends the body
// chunked and declares the trailers Lambda-Runtime-Function-Error-Type and
// Lambda-Runtime-Function-Error-Body; when they are set at the end of the
// stream the invocation failed mid-stream and the outcome is that error
// (body: base64 JSON error document).
//
// Errors: 403 when no invocation is running (state checked first), 400 for an
// id that is not the running invocation, 413 when the body exceeds the payload
// limit. A 413 still answers the invocation, with a
// Function.ResponseSizeTooLarge error, as Lambda does; the body is not read
// past the limit.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
)

type invocationResponseHandler struct{ s *Server }

func (h *invocationResponseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	transition := state.response
	if err := h.s.check(id, transition); err != nil {
		renderError(w, err)
		return
	}
	body, err := readBody(r, h.s.maxPayload)
	if errors.Is(err, errTooLarge) {
		out := tooLargeOutcome(h.s.maxPayload)
		if aerr := h.s.answer(id, transition, out); aerr != nil {
			renderError(w, aerr)
			return
		}
		renderError(w, err)
		return
	}
	if err != nil {
		return // the runtime went away mid-body; the platform sees it exit
	}
	out := Outcome{Body: body, ContentType: r.Header.Get("Content-Type")}
	if typ := r.Trailer.Get(HeaderFunctionErrorType); typ != "" {
		rep := trailerErrorReport(typ, r.Trailer.Get(HeaderFunctionErrorBody))
		out = Outcome{Body: rep.Body, ContentType: "application/json", Error: &rep}
	}
	if err := h.s.answer(id, transition, out); err != nil {
		renderError(w, err)
		return
	}
	renderAccepted(w)
}

// tooLargeOutcome is the outcome of a response over the limit, worded as
// Lambda words it.
func tooLargeOutcome(limit int) Outcome {
	msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", limit)
	rep := ErrorReport{
		Type:    ErrorTypeResponseSizeTooLarge,
		Message: msg,
		Body:    errorDocument(ErrorTypeResponseSizeTooLarge, msg),
	}
	return Outcome{Body: rep.Body, ContentType: "application/json", Error: &rep}
}

// trailerErrorReport decodes the error trailers of a streamed response.
func trailerErrorReport(typ, b64 string) ErrorReport {
	doc, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(doc) == 0 {
		return ErrorReport{Type: typ, Body: errorDocument(typ, "")}
	}
	return parseErrorReport(doc, typ)
}
