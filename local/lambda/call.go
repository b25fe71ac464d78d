package lambda

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/lambda/runtimeapi"
)

// Platform error types reported in invoke.FunctionError.Type.
const (
	ErrorTypeTimeout           = "Sandbox.Timedout"
	ErrorTypeExit              = "Runtime.ExitError"
	ErrorTypeInvalidEntrypoint = "Runtime.InvalidEntrypoint"
	ErrorTypeResponseTooLarge  = runtimeapi.ErrorTypeResponseSizeTooLarge
)

// call is one invocation on its way through an execution environment.
type call struct {
	inv    runtimeapi.Invocation
	result chan *invoke.Result // capacity 1; receives exactly one result
	sent   atomic.Bool

	// Guarded by the environment's mutex.
	queuedAt time.Time   // submitted to the environment
	handedAt time.Time   // handed to the runtime (zero before)
	cold     bool        // first invocation of its environment
	timer    *time.Timer // function timeout
	failType string      // platform error type, for the REPORT status
	fnError  string      // the function's error type, if it returned one
}

func newCall(inv runtimeapi.Invocation) *call {
	return &call{inv: inv, result: make(chan *invoke.Result, 1)}
}

// finish delivers res unless a result was already delivered. A failure is
// counted in errs (if not nil) before the caller can see it.
func (c *call) finish(res *invoke.Result, errs *atomic.Uint64) {
	if !c.sent.CompareAndSwap(false, true) {
		return
	}
	if res.Error != nil && errs != nil {
		errs.Add(1)
	}
	c.result <- res
}

// failure builds the Result of a platform failure.
func failure(requestID, typ, msg string) *invoke.Result {
	doc, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	return &invoke.Result{
		RequestID: requestID,
		Payload:   doc,
		Error:     &invoke.FunctionError{Type: typ, Message: msg},
	}
}

// timeoutFailure is Lambda's timeout error: "<ts> <id> Task timed out after
// 3.00 seconds".
func timeoutFailure(requestID string, timeout time.Duration, now time.Time) *invoke.Result {
	msg := fmt.Sprintf("%s %s Task timed out after %s seconds",
		now.UTC().Format(timestampLayout), requestID, seconds(timeout))
	return failure(requestID, ErrorTypeTimeout, msg)
}

// initTimeoutFailure reports an init phase that exceeded the init timeout.
func initTimeoutFailure(requestID string, timeout time.Duration, now time.Time) *invoke.Result {
	msg := fmt.Sprintf("%s %s Init timed out after %s seconds",
		now.UTC().Format(timestampLayout), requestID, seconds(timeout))
	return failure(requestID, ErrorTypeTimeout, msg)
}

// exitFailure is Lambda's crash error: "RequestId: <id> Error: Runtime
// exited with error: exit status 1".
func exitFailure(requestID, status string) *invoke.Result {
	msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", requestID, status)
	return failure(requestID, ErrorTypeExit, msg)
}

const timestampLayout = "2006-01-02T15:04:05.000Z"
