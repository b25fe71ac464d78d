package runtimeapi

import "net/http"

// Route patterns of the Runtime API, version 2018-06-01.
const (
	PathNext               = "/2018-06-01/runtime/invocation/next"
	PathInvocationResponse = "/2018-06-01/runtime/invocation/{id}/response"
	PathInvocationError    = "/2018-06-01/runtime/invocation/{id}/error"
	PathInitError          = "/2018-06-01/runtime/init/error"
)

// newRouter maps each route to its handler. Handlers validate a request
// before they ask the Server for a transition, because a transition cannot be
// undone.
func newRouter(s *Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+PathNext, &invocationNextHandler{s: s})
	mux.Handle("POST "+PathInvocationResponse, &invocationResponseHandler{s: s})
	mux.Handle("POST "+PathInvocationError, &invocationErrorHandler{s: s})
	mux.Handle("POST "+PathInitError, &initErrorHandler{s: s})
	return mux
}
