// Package invoke is the seam between the emulator's front ends (API Gateway,
// the Lambda Invoke API, Kafka event-source mappings, the invoke command) and
// the Lambda runtime that runs the functions' bootstrap binaries.
//
// Front ends depend only on the Invoker interface, so each can be tested
// against a small fake and wired to the real runtime in the emulator.
package invoke

import (
	"context"
	"errors"
	"fmt"
)

// MaxPayloadBytes is Lambda's synchronous request and response limit (6 MB).
const MaxPayloadBytes = 6 * 1024 * 1024

// Invoker runs one synchronous (RequestResponse) invocation of a function.
//
// A function that ran and failed (returned an error, panicked, crashed or
// timed out) is not a Go error: it is a Result whose Error is set, as the
// Lambda Invoke API answers 200 with X-Amz-Function-Error. The returned error
// is for invocations that never ran: ErrUnknownFunction, ErrRequestTooLarge,
// ErrThrottled, a cancelled context, or an emulator failure.
type Invoker interface {
	Invoke(ctx context.Context, req Request) (*Result, error)
}

// Request is one invocation.
type Request struct {
	Function string // logical ID of the function in template.yaml
	Payload  []byte // the event, JSON
	// ClientContext is the decoded JSON client context, if any (the Invoke
	// API's X-Amz-Client-Context header is base64 and must be decoded first).
	ClientContext []byte
	TraceID       string // X-Ray trace header value, optional
}

// Result is the outcome of an invocation that ran.
type Result struct {
	RequestID string
	// Payload is what the function returned, or, when Error is set, the
	// error document ({"errorMessage":…,"errorType":…}) as Lambda reports it.
	Payload []byte
	// Error is set when the function failed; Payload then holds its JSON.
	Error *FunctionError
}

// FunctionError describes a failed invocation the way Lambda reports it.
type FunctionError struct {
	// Type is the errorType: the Go type name posted by aws-lambda-go
	// ("errorString", "wrapError", …), or a platform type such as
	// "Sandbox.Timedout", "Runtime.ExitError", "Function.ResponseSizeTooLarge".
	Type    string
	Message string
	// Init is set when the function never ran because its execution
	// environment failed to initialize (a crash or an /init/error before
	// the runtime's first poll, or the init timeout). The same event will
	// fail the same way until the function or its configuration changes.
	Init bool
}

func (e *FunctionError) Error() string { return fmt.Sprintf("%s: %s", e.Type, e.Message) }

// Errors returned by an Invoker when the function did not run.
var (
	ErrUnknownFunction = errors.New("function not found")
	ErrRequestTooLarge = errors.New("request payload exceeds 6 MB")
	ErrThrottled       = errors.New("rate exceeded: no execution environment became free")
)
