// Package apigw emulates an Amazon API Gateway HTTP API with Lambda proxy
// integrations: it turns a net/http request into the event a function
// receives (payload format 2.0, events.APIGatewayV2HTTPRequest, or 1.0,
// events.APIGatewayProxyRequest), invokes the function through an
// invoke.Invoker, and maps the function's result back to an HTTP response.
//
// # Routes
//
// New takes the HttpApi events of the SAM template as Routes. A request is
// matched, in order of preference, against:
//
//  1. routes that match the whole path without a greedy variable; among
//     several, the one with literal segments furthest to the left wins
//     (GET /pets/dog/1 before GET /pets/dog/{id}), and for the same path
//     an explicit method wins over ANY;
//  2. routes with a greedy {proxy+} last segment, longest literal prefix
//     first (GET /pets/{proxy+} before ANY /{proxy+});
//  3. the $default route.
//
// ANY counts as matching the method, so ANY /pets/{id} (a full match) beats
// GET /{proxy+} (a greedy one), as the HTTP API routing rules say ("full
// match" before "greedy"); ANY only loses to an explicit method on the same
// path. Paths are matched percent-decoded segment by segment and are case
// sensitive; a variable never matches an empty segment, a greedy variable
// needs at least one character, and a trailing slash is significant. HEAD
// only matches HEAD or ANY routes. No match: 404 {"message":"Not Found"}.
//
// # Events
//
// The 2.0 event carries what AWS fills: version, routeKey, rawPath (as
// received, percent-encoded, including "/<stage>" for a named stage),
// rawQueryString, cookies (split from the Cookie headers, which are not
// repeated in headers), headers (lower-case names, repeated headers joined
// with ","), queryStringParameters (decoded, repeated keys joined with ","),
// pathParameters (decoded), body (text when valid UTF-8, else base64 with
// isBase64Encoded), and requestContext (accountId, apiId, domainName = the
// Host header with its port, which aws-lambda-go-api-proxy builds the URL
// from, domainPrefix, http.{method,path,protocol,sourceIp,userAgent},
// requestId, routeKey, stage, time, timeEpoch). Like API Gateway it adds the
// headers host, x-forwarded-for (client value, then the source IP),
// x-forwarded-port, x-forwarded-proto and x-amzn-trace-id (the client's, or
// a new X-Ray root id, also passed as invoke.Request.TraceID). Absent
// optional fields are omitted, and so is requestContext.authentication,
// which AWS sends only with mutual TLS (the events type cannot omit it).
//
// The 2.0 event is encoded by hand (it is on the hot path); a test checks it
// byte for byte against encoding/json of the events type. The 1.0 event uses
// encoding/json: headers keep Go's canonical names (the original case is not
// known), the single-value maps keep the last value, and the multi-value
// maps keep all.
//
// # Status codes
//
//	Situation                                        Status  Body
//	structured 2.0 result {"statusCode":…}           result  body (base64-decoded if isBase64Encoded)
//	other valid JSON 2.0 result (no statusCode)      200     the result itself, application/json
//	1.0 result with statusCode                       result  body
//	malformed result (not JSON; statusCode not an
//	  integer in 100–599; bad base64; 1.0 result
//	  without statusCode)                            500     {"message":"Internal Server Error"}
//	function error, crash, function timeout
//	  (Sandbox.Timedout), Function.ResponseSizeTooLarge 500  {"message":"Internal Server Error"}
//	integration timeout (TimeoutInMillis, ≤ 30 s)    503     {"message":"Service Unavailable"}
//	invoke.ErrThrottled                              500     {"message":"Internal Server Error"}
//	invoke.ErrUnknownFunction, emulator failure      500     {"message":"Internal Server Error"}
//	request body > 10 MB (HTTP API limit)            413     {"message":"Request Entity Too Large"}
//	event > 6 MB (Lambda limit), ErrRequestTooLarge  413     {"message":"Request Entity Too Large"}
//	  (a body over 6 MB is refused before it is read)
//	no share of Limits.BufferedBodyBytes free
//	  within Limits.BodyTimeout                      429     {"message":"Too Many Requests"}
//	body not read within Limits.BodyTimeout          400     {"message":"Bad Request"}
//	no route                                         404     {"message":"Not Found"}
//	request net/http cannot parse (malformed line or
//	  header, no Host, …), headers over the limit,
//	  unknown transfer coding, HTTP version, Expect   400/431/501/505/417  {"message":…}
//	  (written by net/http before any handler; the
//	  JSONErrors listener turns them into JSON)
//
// Every response carries Apigw-Requestid (the event's requestContext.requestId).
// A structured result without Content-Type gets application/json; its
// cookies become one Set-Cookie header each; multiValueHeaders is ignored in
// 2.0 and merged with headers in 1.0; Content-Length, Transfer-Encoding and
// hop-by-hop headers set by the function are dropped (net/http computes
// them).
//
// Choices where AWS's behaviour is not documented or only observed:
//   - Throttling gives 500, not 429: API Gateway reports a throttled Lambda
//     call as an integration failure.
//   - An event over Lambda's 6 MB limit gives 413 like the 10 MB HTTP API
//     limit (AWS may answer 500 for a Lambda-side rejection).
//   - Integration timeout gives 503 "Service Unavailable" (observed for HTTP
//     APIs; REST APIs answer 504). A function that hits its own timeout is a
//     function error: 500.
//   - A malformed 1.0 result gives 500 as for 2.0; REST APIs would answer
//     502, which this package does not emulate.
//   - A statusCode given as a JSON string ("200") is malformed.
//   - An empty result payload is not JSON and gives 500.
//
// # Invocation
//
// The invocation runs under context.WithoutCancel of the request's context
// plus the route's integration timeout: a client that goes away does not
// cancel the function (Lambda runs it to completion).
//
// # Limits
//
// Server and Options.Limits bound what one client can hold (Limits): the
// request line and headers must arrive within 10 s and fit in 10 KiB (the
// HTTP API quota), the whole request within 30 s, a keep-alive connection
// idle for 30 s is closed, and the response must be written within the
// body's 30 s plus the 30 s integration timeout (and 5 s). A body is read
// into a buffer that grows only as its bytes arrive (to at most its
// Content-Length, or the limit), each growth paid for first from the body
// budget (BufferedBodyBytes, 64 MiB across all connections), so a client
// that declares a large body and sends it slowly holds only what it sent,
// and stalled uploads wait in the kernel's socket buffers, not the heap. A
// request with Transfer-Encoding is answered with Connection: close, as
// RFC 9112 requires when Content-Length came with it (net/http drops that
// header before the gateway sees it), so no request hidden after a body
// whose framings disagree ever runs.
//
// # Logging
//
// Each request produces one Info record "http api request" with method,
// path, status, duration, routeKey, function and requestId; failed
// integrations add a Warn record with the cause. Options.AccessLog, if set,
// also receives a Common-Log-like line per request. For benchmarks, give a
// Logger above Info: a log write per request is a noticeable share of the
// gateway's cost.
package apigw
