package runtimeapi

// POST /2018-06-01/runtime/init/error
//
// Behaviour: the runtime reports that its initialisation failed
// (Started -> InitError) and gets 202; it is expected to exit. The error type
// comes from the JSON body's errorType, else from the
// Lambda-Runtime-Function-Error-Type header, else Runtime.Unknown.
// aws-lambda-go never calls this route (init failures there are process
// exits); it is served for other runtimes and for completeness.
//
// Errors: 403 after the runtime's first GET /next (init is over) or a second
// report; 413 for a body over the payload limit.

import "net/http"

type initErrorHandler struct{ s *Server }

func (h *initErrorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.s.checkInitError(); err != nil {
		renderError(w, err)
		return
	}
	body, err := readBody(r, h.s.maxPayload)
	if err != nil {
		if r.Context().Err() == nil {
			renderError(w, err)
		}
		return
	}
	if err := h.s.failInit(parseErrorReport(body, r.Header.Get(HeaderFunctionErrorType))); err != nil {
		renderError(w, err)
		return
	}
	renderAccepted(w)
}
