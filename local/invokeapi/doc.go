// Package invokeapi emulates the AWS Lambda Invoke API that
// `start-lambda` serves (127.0.0.1:3001 by default; the caller owns the
// listener): POST /2015-03-31/functions/{FunctionName}/invocations, as the
// AWS SDKs and CLI call it with an endpoint override.
//
// # Request
//
// FunctionName is a function name ("PurchaseSwordFunction", or the
// template's FunctionName when Options.Functions maps it), a name with a
// qualifier ("Name:$LATEST"), a partial ARN
// ("123456789012:function:Name[:Qualifier]") or a full ARN
// ("arn:aws:lambda:us-east-1:123456789012:function:Name[:Qualifier]"),
// percent-encoded or not. The ?Qualifier parameter must agree with a
// qualifier in the name. Only $LATEST exists: other versions and aliases,
// and ARNs of another region or account, are not found.
//
// Headers: X-Amz-Invocation-Type is RequestResponse (default), Event (run in
// the background, answer 202 at once) or DryRun (check and answer 204);
// X-Amz-Client-Context is base64 of a JSON object, decoded and passed as
// invoke.Request.ClientContext; X-Amzn-Trace-Id is passed as TraceID;
// X-Amz-Log-Type may be None or Tail, but X-Amz-Log-Result is never
// returned because the invoke.Invoker seam carries no logs. An empty body is
// sent to the function as {}; a non-empty one must be JSON.
//
// # Responses
//
//	Outcome                                Status  x-amzn-ErrorType / headers
//	success                                200     X-Amz-Executed-Version: $LATEST, payload
//	function error, crash, timeout,
//	  Function.ResponseSizeTooLarge        200     X-Amz-Function-Error: Unhandled, payload = error JSON
//	Event accepted                         202     (empty body)
//	DryRun                                 204     (empty body)
//	unknown function, version or alias     404     ResourceNotFoundException
//	request > 6 MB (Event: > 1 MB),
//	  invoke.ErrRequestTooLarge            413     RequestTooLargeException
//	invoke.ErrThrottled                    429     TooManyRequestsException (Reason, Retry-After: 1)
//	malformed FunctionName                 400     ValidationException
//	bad invocation or log type,
//	  qualifier mismatch                   400     InvalidParameterValueException
//	bad client context, payload not JSON   400     InvalidRequestContentException
//	other emulator failure, shutting down  500     ServiceException
//	other method or path                   404     UnknownOperationException
//
// Every response carries X-Amzn-Requestid (the invocation's request id
// when the Invoker reports one, else a new UUID). Error bodies are
// {"Type":"User"|"Service","Message":"…"} (plus "Reason" for throttling)
// with the error code in the x-amzn-ErrorType header: restJson1 clients take
// the code from that header, and Type and Message are the members Lambda's
// API model declares on its exceptions, so the SDKs fill the typed
// exception (e.g. types.ResourceNotFoundException.Message). This was
// checked against aws-sdk-go-v2's Lambda client, which decodes every error
// above into its typed exception. The not-found message is
// "Function not found: arn:aws:lambda:<region>:<account>:function:<name>".
//
// Choices where AWS's behaviour is uncertain: the 1 MB Event limit (256 KB
// before October 2025); InvalidParameterValueException for an unknown
// invocation or log type (AWS may answer ValidationException); 404
// UnknownOperationException for other methods and paths; the "{}" payload for
// an empty body.
//
// # Event invocations
//
// An Event invocation is answered 202 before it runs, on a goroutine the
// Handler tracks. A throttled attempt is retried with backoff (50 ms doubling
// to 5 s) until it runs, as Lambda keeps throttled events queued; a function
// error is only logged (Lambda would retry twice, minutes apart, and then
// use the function's on-failure destination, which is not emulated). Close
// stops accepting Event invocations and waits for the running ones.
//
// A RequestResponse invocation runs under context.WithoutCancel of the
// request's context: a client that goes away does not cancel the function.
package invokeapi
