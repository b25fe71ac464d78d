package apigw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/questlog/questlog/local/invoke"
)

// Gateway error bodies, as HTTP APIs send them.
var (
	bodyNotFound        = []byte(`{"message":"Not Found"}`)
	bodyTooLarge        = []byte(`{"message":"Request Entity Too Large"}`)
	bodyInternalError   = []byte(`{"message":"Internal Server Error"}`)
	bodyUnavailable     = []byte(`{"message":"Service Unavailable"}`)
	bodyTooManyRequests = []byte(`{"message":"Too Many Requests"}`)
	headerRequestID     = "Apigw-Requestid"
	maxPooledBufferSize = 1 << 20
)

type gateway struct {
	inv         invoke.Invoker
	opts        Options
	router      *router
	ids         *requestIDs
	stagePrefix string // "/<stage>" for a named stage, "" for $default
	bodies      *bodyBudget

	accessMu sync.Mutex // serialises writes to opts.AccessLog
}

// New returns an http.Handler that serves routes the way API Gateway HTTP
// APIs do, invoking functions through inv. It validates every route and
// returns all problems at once, each wrapping ErrInvalidRoute: malformed
// methods or paths, a greedy variable that is not last, an unknown payload
// format version, a timeout outside 50–30000 ms, and duplicate routes (the
// error names both).
func New(routes []Route, inv invoke.Invoker, opts Options) (http.Handler, error) {
	if inv == nil {
		return nil, errors.New("apigw: nil invoker")
	}
	opts = opts.withDefaults()
	if opts.Stage != defaultStage && (strings.ContainsAny(opts.Stage, "/?#% ")) {
		return nil, fmt.Errorf("apigw: stage %q is not a valid stage name", opts.Stage)
	}
	var (
		compiled []*route
		errs     []error
	)
	for i, r := range routes {
		cr, err := compileRoute(i, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cr.resourceID = resourceID(cr.key)
		compiled = append(compiled, cr)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("apigw: %w", errors.Join(errs...))
	}
	rt, err := newRouter(compiled)
	if err != nil {
		return nil, fmt.Errorf("apigw: %w", err)
	}
	g := &gateway{inv: inv, opts: opts, router: rt, ids: newRequestIDs(), bodies: newBodyBudget(opts.Limits.BufferedBodyBytes)}
	if opts.Stage != defaultStage {
		g.stagePrefix = "/" + opts.Stage
	}
	return g, nil
}

var incomingPool = sync.Pool{New: func() any { return new(incoming) }}

// ServeHTTP implements http.Handler.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := incomingPool.Get().(*incoming)
	in.r, in.now, in.requestID, in.rawPath, in.sourceIP = r, time.Now(), g.ids.next(), requestPath(r), sourceIP(r.RemoteAddr)
	w.Header()[headerRequestID] = []string{in.requestID}
	if len(r.TransferEncoding) > 0 {
		// net/http drops a Content-Length sent beside Transfer-Encoding
		// and keeps the connection open, so a request hidden after a body
		// the two framings disagree on would run next; RFC 9112 (6.1)
		// requires closing the connection after answering.
		w.Header()["Connection"] = []string{"close"}
	}
	status, n := g.serve(w, in)
	g.logAccess(in, status, n)
	// Keep the scratch slices, drop every reference into this request.
	clear(in.headers[:cap(in.headers)])
	clear(in.query[:cap(in.query)])
	clear(in.cookies)
	clear(in.params)
	*in = incoming{headers: in.headers[:0], query: in.query[:0], cookies: in.cookies[:0], params: in.params[:0]}
	incomingPool.Put(in)
}

// serve handles one request and returns the status and body length sent.
func (g *gateway) serve(w http.ResponseWriter, in *incoming) (int, int) {
	r := in.r
	path, ok := g.routePath(in.rawPath)
	if ok {
		in.route = g.router.match(r.Method, path)
	}
	if in.route == nil {
		return writeGatewayError(w, http.StatusNotFound, bodyNotFound)
	}
	if r.ContentLength > maxBodyBytes {
		return writeGatewayError(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
	}
	if r.Body != nil && r.Body != http.NoBody {
		// The body (and the event made of it) is held in memory paid for
		// from the gateway's body budget, as its bytes arrive.
		wait, cancel := context.WithDeadline(r.Context(), in.now.Add(g.opts.Limits.BodyTimeout))
		bd, err := readBody(wait, g.bodies, r)
		cancel()
		defer bd.release()
		switch {
		case errors.Is(err, errBodyTooLarge):
			return writeGatewayError(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
		case errors.Is(err, errBusy):
			g.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "request body waited too long for memory",
				slog.String("requestId", in.requestID), slog.Int64("contentLength", r.ContentLength))
			return writeGatewayError(w, http.StatusTooManyRequests, bodyTooManyRequests)
		case err != nil:
			g.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "read request body",
				slog.String("requestId", in.requestID), slog.Any("error", err))
			return writeGatewayError(w, http.StatusBadRequest, []byte(`{"message":"Bad Request"}`))
		}
		in.body = *bd.buf
	}
	in.params = in.route.appendParams(in.params[:0], path)
	if in.traceID = r.Header.Get("X-Amzn-Trace-Id"); in.traceID == "" {
		in.traceID = newTraceID(in.now)
	}

	var (
		payload []byte
		err     error
	)
	if in.route.payloadV1 {
		payload, err = g.buildEventV1(in)
	} else {
		in.collectV2()
		payload = g.appendEventV2(make([]byte, 0, g.eventV2Size(in)), in)
	}
	in.body = nil // the buffer goes back to the pool; payload holds a copy
	if err != nil {
		g.integrationFailed(in, "build event", err)
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	if len(payload) > invoke.MaxPayloadBytes {
		g.integrationFailed(in, "invoke", invoke.ErrRequestTooLarge)
		return writeGatewayError(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
	}

	// The invocation is not cancelled when the client goes away: Lambda
	// runs it to completion. Only the integration timeout bounds the wait.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()),
		time.Duration(in.route.timeoutMillis)*time.Millisecond)
	res, err := g.inv.Invoke(ctx, invoke.Request{Function: in.route.function, Payload: payload, TraceID: in.traceID})
	timedOut := ctx.Err() != nil
	cancel()

	switch {
	case timedOut:
		g.integrationFailed(in, "integration timeout", fmt.Errorf("no response within %d ms: %w", in.route.timeoutMillis, context.DeadlineExceeded))
		return writeGatewayError(w, http.StatusServiceUnavailable, bodyUnavailable)
	case errors.Is(err, invoke.ErrRequestTooLarge):
		g.integrationFailed(in, "invoke", err)
		return writeGatewayError(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
	case err != nil:
		// Throttling, an unknown function and emulator failures all
		// surface as 500, as API Gateway does for a failed Lambda call.
		g.integrationFailed(in, "invoke", err)
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	case res == nil:
		g.integrationFailed(in, "invoke", errors.New("invoker returned no result"))
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	case res.Error != nil:
		g.integrationFailed(in, "function error", res.Error)
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}

	var resp *proxyResponse
	if in.route.payloadV1 {
		resp, err = parseResponseV1(res.Payload)
	} else {
		resp, err = parseResponseV2(res.Payload)
	}
	if err != nil {
		g.integrationFailed(in, "map response", err)
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = vs
	}
	if len(h["Content-Type"]) == 0 {
		h["Content-Type"] = []string{"application/json"}
	}
	if len(resp.cookies) > 0 {
		h["Set-Cookie"] = append(h["Set-Cookie"], resp.cookies...)
	}
	w.WriteHeader(resp.status)
	n, _ := w.Write(resp.body)
	return resp.status, n
}

// routePath strips the stage prefix of a named stage from the escaped path.
func (g *gateway) routePath(rawPath string) (string, bool) {
	if g.stagePrefix == "" {
		return rawPath, true
	}
	rest, ok := strings.CutPrefix(rawPath, g.stagePrefix)
	switch {
	case !ok:
		return "", false
	case rest == "":
		return "/", true
	case rest[0] == '/':
		return rest, true
	}
	return "", false
}

// requestPath is the path exactly as the client sent it, still
// percent-encoded.
func requestPath(r *http.Request) string {
	if uri := r.RequestURI; strings.HasPrefix(uri, "/") {
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			return uri[:i]
		}
		return uri
	}
	return r.URL.EscapedPath()
}

func writeGatewayError(w http.ResponseWriter, status int, body []byte) (int, int) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	n, _ := w.Write(body)
	return status, n
}

func (g *gateway) integrationFailed(in *incoming, stage string, err error) {
	g.opts.Logger.LogAttrs(in.r.Context(), slog.LevelWarn, "http api integration failed",
		slog.String("requestId", in.requestID),
		slog.String("routeKey", in.route.key),
		slog.String("function", in.route.function),
		slog.String("stage", stage),
		slog.Any("error", err))
}

func (g *gateway) logAccess(in *incoming, status, n int) {
	r := in.r
	var key, fn string
	if in.route != nil {
		key, fn = in.route.key, in.route.function
	}
	g.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http api request",
		slog.String("method", r.Method),
		slog.String("path", in.rawPath),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(in.now)),
		slog.String("routeKey", key),
		slog.String("function", fn),
		slog.String("requestId", in.requestID))
	if g.opts.AccessLog == nil {
		return
	}
	line := make([]byte, 0, 160)
	line = append(line, in.requestID...)
	line = append(line, ' ')
	line = append(line, in.sourceIP...)
	line = append(line, " ["...)
	line = in.now.UTC().AppendFormat(line, timeLayout)
	line = append(line, "] \""...)
	line = append(line, r.Method...)
	line = append(line, ' ')
	line = append(line, in.rawPath...)
	line = append(line, " HTTP/1.1\" "...)
	line = strconv.AppendInt(line, int64(status), 10)
	line = append(line, ' ')
	line = strconv.AppendInt(line, int64(n), 10)
	line = append(line, '\n')
	g.accessMu.Lock()
	_, _ = g.opts.AccessLog.Write(line)
	g.accessMu.Unlock()
}
