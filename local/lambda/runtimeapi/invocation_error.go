package runtimeapi

// POST /2018-06-01/runtime/invocation/{id}/error
//
// Behaviour: the runtime reports that the invocation failed
// (Running -> Responded) and gets 202. The body is the JSON error document
// {"errorMessage":…,"errorType":…[,"stackTrace":[…]]}; the type is read from
// errorType (aws-lambda-go sends Go type names such as errorString, wrapError
// or string, and no type header), falling back to the
// Lambda-Runtime-Function-Error-Type header, then to Runtime.Unknown. After a
// panic aws-lambda-go posts here and then exits on purpose.
//
// Errors: 403 when no invocation is running, 400 for an id that is not the
// running invocation, 413 for a body over the payload limit (the invocation
// then fails with Function.ResponseSizeTooLarge).

import (
	"errors"
	"net/http"
)

type invocationErrorHandler struct{ s *Server }

func (h *invocationErrorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	transition := state.invocationError
	if err := h.s.check(id, transition); err != nil {
		renderError(w, err)
		return
	}
	body, err := readBody(r, h.s.maxPayload)
	if errors.Is(err, errTooLarge) {
		if aerr := h.s.answer(id, transition, tooLargeOutcome(h.s.maxPayload)); aerr != nil {
			renderError(w, aerr)
			return
		}
		renderError(w, err)
		return
	}
	if err != nil {
		return
	}
	rep := parseErrorReport(body, r.Header.Get(HeaderFunctionErrorType))
	out := Outcome{Body: rep.Body, ContentType: "application/json", Error: &rep}
	if err := h.s.answer(id, transition, out); err != nil {
		renderError(w, err)
		return
	}
	renderAccepted(w)
}
