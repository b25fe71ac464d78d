package runtimeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// errTooLarge marks a body over the payload limit; the HTTP layer answers 413.
var errTooLarge = errors.New("payload too large")

// readBody reads r's body up to limit bytes. A larger body is not read any
// further (memory stays bounded) and errTooLarge is returned; net/http then
// closes the connection instead of draining it.
func readBody(r *http.Request, limit int) ([]byte, error) {
	if r.ContentLength > int64(limit) {
		return nil, fmt.Errorf("body of %d bytes exceeds %d: %w", r.ContentLength, limit, errTooLarge)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > int64(limit) {
		return nil, fmt.Errorf("body exceeds %d bytes: %w", limit, errTooLarge)
	}
	return buf.Bytes(), nil
}

// parseErrorReport turns an error body into an ErrorReport. The type comes
// from the JSON errorType (aws-lambda-go sends no type header), else from
// headerType, else ErrorTypeUnknown. A body that is not a JSON object is
// wrapped into an error document.
func parseErrorReport(body []byte, headerType string) ErrorReport {
	var doc struct {
		Message *string `json:"errorMessage"`
		Type    string  `json:"errorType"`
	}
	if err := json.Unmarshal(body, &doc); err == nil && (doc.Message != nil || doc.Type != "") {
		typ := doc.Type
		if typ == "" {
			typ = headerType
		}
		if typ == "" {
			typ = ErrorTypeUnknown
		}
		var msg string
		if doc.Message != nil {
			msg = *doc.Message
		}
		return ErrorReport{Type: typ, Message: msg, Body: body}
	}
	typ := headerType
	if typ == "" {
		typ = ErrorTypeUnknown
	}
	msg := strings.TrimSpace(string(body))
	return ErrorReport{Type: typ, Message: msg, Body: errorDocument(typ, msg)}
}
