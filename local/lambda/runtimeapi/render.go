package runtimeapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Header and trailer names used by the Runtime API.
const (
	HeaderRequestID          = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs         = "Lambda-Runtime-Deadline-Ms"
	HeaderInvokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID            = "Lambda-Runtime-Trace-Id"
	HeaderClientContext      = "Lambda-Runtime-Client-Context"
	HeaderCognitoIdentity    = "Lambda-Runtime-Cognito-Identity"
	// HeaderFunctionErrorType is an optional header on /error and
	// /init/error; on /response it is a trailer, as is HeaderFunctionErrorBody.
	HeaderFunctionErrorType = "Lambda-Runtime-Function-Error-Type"
	HeaderFunctionErrorBody = "Lambda-Runtime-Function-Error-Body"
)

// Error types the Runtime API answers with, and the platform error type of an
// oversized response.
const (
	ErrorTypeInvalidStateTransition = "InvalidStateTransition"
	ErrorTypeInvalidRequestID       = "InvalidRequestID"
	ErrorTypeRequestTooLarge        = "RequestEntityTooLarge"
	ErrorTypeInternal               = "InternalError"
	ErrorTypeResponseSizeTooLarge   = "Function.ResponseSizeTooLarge"
	// ErrorTypeUnknown is used when the runtime's error names no type.
	ErrorTypeUnknown = "Runtime.Unknown"
)

var acceptedBody = []byte(`{"status":"OK"}` + "\n")

// renderAccepted answers 202, the only status aws-lambda-go accepts for
// /response and /error.
func renderAccepted(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(acceptedBody)))
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(acceptedBody)
}

// renderError answers err with its documented status code.
func renderError(w http.ResponseWriter, err error) {
	status, typ := http.StatusInternalServerError, ErrorTypeInternal
	switch {
	case errors.Is(err, ErrNotAllowed):
		status, typ = http.StatusForbidden, ErrorTypeInvalidStateTransition
	case errors.Is(err, ErrInvalidRequestID):
		status, typ = http.StatusBadRequest, ErrorTypeInvalidRequestID
	case errors.Is(err, errTooLarge):
		status, typ = http.StatusRequestEntityTooLarge, ErrorTypeRequestTooLarge
	}
	renderJSON(w, status, errorDocument(typ, err.Error()))
}

func renderJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorDocument is the JSON error shape used by Lambda and aws-lambda-go.
func errorDocument(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	return b
}
