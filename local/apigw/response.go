package apigw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// errMalformedResponse is wrapped by every reason a function result cannot
// be turned into an HTTP response.
var errMalformedResponse = errors.New("malformed lambda proxy response")

// proxyResponse is what the gateway sends back: the decoded function result.
type proxyResponse struct {
	status  int
	header  http.Header
	cookies []string
	body    []byte
}

// responseV2Wire is the 2.0 result as the gateway reads it. statusCode is
// kept raw to tell "absent" from "present but not an integer".
type responseV2Wire struct {
	StatusCode      json.RawMessage   `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// responseV1Wire is the 1.0 result.
type responseV1Wire struct {
	StatusCode        json.RawMessage     `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// parseResponseV2 applies the HTTP API 2.0 rules: a JSON object with a
// statusCode is a structured response; any other valid JSON value (an
// object without statusCode, a string, a number, an array, null) is
// returned as a 200 application/json body verbatim; anything else is an
// error.
func parseResponseV2(payload []byte) (*proxyResponse, error) {
	if resp, ok := fastParseV2(payload); ok {
		return resp, nil
	}
	return slowParseV2(payload)
}

// slowParseV2 is parseResponseV2 with encoding/json, for every shape
// fastParseV2 does not handle.
func slowParseV2(payload []byte) (*proxyResponse, error) {
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if !json.Valid(payload) {
			return nil, fmt.Errorf("result is not json: %w", errMalformedResponse)
		}
		return rawJSONResponse(payload), nil
	}
	var w responseV2Wire
	err := json.Unmarshal(payload, &w)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &typeErr) && w.StatusCode == nil:
		// Valid JSON whose fields merely have other types than the
		// structured response's, and no statusCode: a plain JSON body.
		return rawJSONResponse(payload), nil
	default:
		return nil, fmt.Errorf("decode result: %w: %w", errMalformedResponse, err)
	}
	if w.StatusCode == nil {
		return rawJSONResponse(payload), nil
	}
	status, err := parseStatus(w.StatusCode)
	if err != nil {
		return nil, err
	}
	body, err := decodeBody(w.Body, w.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	resp := &proxyResponse{status: status, header: make(http.Header, len(w.Headers)+1), cookies: w.Cookies, body: body}
	for k, v := range w.Headers {
		if skipResponseHeader(k) {
			continue
		}
		resp.header.Set(k, v)
	}
	return resp, nil
}

// parseResponseV1 applies the 1.0 rules: the result must be a JSON object
// with an integer statusCode; headers and multiValueHeaders are merged
// (identical pairs are not repeated).
func parseResponseV1(payload []byte) (*proxyResponse, error) {
	var w responseV1Wire
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("decode result: %w: %w", errMalformedResponse, err)
	}
	if w.StatusCode == nil {
		return nil, fmt.Errorf("result has no statusCode: %w", errMalformedResponse)
	}
	status, err := parseStatus(w.StatusCode)
	if err != nil {
		return nil, err
	}
	body, err := decodeBody(w.Body, w.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	resp := &proxyResponse{status: status, header: make(http.Header, len(w.Headers)+len(w.MultiValueHeaders)+1), body: body}
	for k, vs := range w.MultiValueHeaders {
		if skipResponseHeader(k) {
			continue
		}
		for _, v := range vs {
			resp.header.Add(k, v)
		}
	}
	for k, v := range w.Headers {
		if skipResponseHeader(k) {
			continue
		}
		if !containsValue(resp.header.Values(k), v) {
			resp.header.Add(k, v)
		}
	}
	return resp, nil
}

func containsValue(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func rawJSONResponse(payload []byte) *proxyResponse {
	h := make(http.Header, 2)
	h["Content-Type"] = []string{"application/json"}
	return &proxyResponse{status: http.StatusOK, header: h, body: payload}
}

// parseStatus accepts a JSON integer in 100–599.
func parseStatus(raw json.RawMessage) (int, error) {
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("statusCode %s is not an http status: %w", raw, errMalformedResponse)
	}
	return n, nil
}

func decodeBody(body string, isBase64 bool) ([]byte, error) {
	if !isBase64 {
		return []byte(body), nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("body is not base64: %w: %w", errMalformedResponse, err)
	}
	return b, nil
}

// skipResponseHeader drops headers the gateway computes itself; a stale
// Content-Length from a function would otherwise break the response.
func skipResponseHeader(k string) bool {
	for _, h := range [...]string{"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer"} {
		if strings.EqualFold(k, h) {
			return true
		}
	}
	return false
}
