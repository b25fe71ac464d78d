// Package runtimeapi serves the AWS Lambda Runtime API (version 2018-06-01)
// for one execution environment: the HTTP endpoints that a custom runtime
// such as aws-lambda-go's lambda.Start polls for events and posts results to.
//
// A Server owns the runtime's state machine (states.go) and one pending
// invocation slot. The platform (package lambda) hands it work with Submit
// and learns what the runtime did through an Observer. Each route lives in
// its own file:
//
//	GET  /2018-06-01/runtime/invocation/next           invocation_next.go
//	POST /2018-06-01/runtime/invocation/{id}/response  invocation_response.go
//	POST /2018-06-01/runtime/invocation/{id}/error     invocation_error.go
//	POST /2018-06-01/runtime/init/error                init_error.go
//
// Behaviour that aws-lambda-go depends on:
//
//   - /response and /error answer 202 Accepted; any other status makes the
//     Go runtime exit.
//   - The server sets no read or write timeouts, because GET /next is a long
//     poll that is held open until an invocation arrives.
//   - Bodies may be chunked and /response may carry the trailers
//     Lambda-Runtime-Function-Error-Type and Lambda-Runtime-Function-Error-Body
//     (base64 JSON) that report a failure in the middle of a stream.
//   - Every /next answer carries Lambda-Runtime-Deadline-Ms; the client
//     context is passed as raw JSON.
//   - The error type of /error comes from the JSON body (errorType), because
//     aws-lambda-go sends no error-type header.
//
// Errors are answered the way the Runtime API documents: 400 InvalidRequestID
// for an id that is not the current invocation, 403 InvalidStateTransition
// for a call the current state does not allow, 413 RequestEntityTooLarge for a
// response over the payload limit, 500 when the environment is shutting down.
//
// Gaps: the Extensions API (/2020-01-01/extension/...) and the Telemetry and
// Logs APIs are not served; aws-lambda-go only uses the former for
// WithEnableSIGTERM and treats its absence as a warning.
package runtimeapi
