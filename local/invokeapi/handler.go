package invokeapi

import (
	"github.com/google/uuid"

	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/questlog/questlog/local/invoke"
)

// Limits enforced before invoking.
const (
	// MaxAsyncPayloadBytes is the request limit of Event invocations: 1 MB
	// (AWS raised it from 256 KB in October 2025).
	MaxAsyncPayloadBytes = 1024 * 1024
	// maxClientContextBytes is the limit on the base64 X-Amz-Client-Context.
	maxClientContextBytes = 3583

	pathPrefix = "/2015-03-31/functions/"
	pathSuffix = "/invocations"

	defaultRegion    = "us-east-1"
	defaultAccountID = "123456789012"
)

// Invocation types (X-Amz-Invocation-Type).
const (
	typeRequestResponse = "RequestResponse"
	typeEvent           = "Event"
	typeDryRun          = "DryRun"
)

// Options configure the Invoke API. The zero value is usable.
type Options struct {
	// Logger receives one record per request (Info) and the outcome of
	// Event invocations. Default: slog.Default().
	Logger *slog.Logger
	// Region and AccountID make up the function ARNs in error messages; ARNs
	// naming another region or account are not found. Defaults: "us-east-1",
	// "123456789012".
	Region    string
	AccountID string
	// Functions maps every name a caller may use (the logical ID, and the
	// template's FunctionName if it sets one) to the logical ID passed to the
	// Invoker. Unknown names get 404 ResourceNotFoundException before
	// anything runs, which DryRun and Event invocations rely on. Default
	// (nil): every well-formed name is passed through unchanged and the
	// Invoker decides (invoke.ErrUnknownFunction → 404); DryRun then
	// cannot tell unknown functions apart and Event invocations of unknown
	// functions are accepted and fail in the background.
	Functions map[string]string
	// Vet, if set, checks a payload before anything runs (DryRun
	// included): its error is answered 400 InvalidRequestContentException
	// with the error's text, and the function is not invoked.
	Vet func(ctx context.Context, function string, payload []byte) error
}

// Handler serves POST /2015-03-31/functions/{FunctionName}/invocations.
// Create it with New; call Close to wait for Event invocations.
type Handler struct {
	inv  invoke.Invoker
	opts Options

	asyncCtx    context.Context // cancelled when Close gives up waiting
	asyncCancel context.CancelFunc
	mu          sync.Mutex // guards closed and wg.Add
	closed      bool
	wg          sync.WaitGroup
}

// New returns the Invoke API handler for inv.
func New(inv invoke.Invoker, opts Options) (*Handler, error) {
	if inv == nil {
		return nil, errors.New("invokeapi: nil invoker")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Region == "" {
		opts.Region = defaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = defaultAccountID
	}
	if !isDigits(opts.AccountID, 12) {
		return nil, fmt.Errorf("invokeapi: account id %q is not 12 digits", opts.AccountID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Handler{inv: inv, opts: opts, asyncCtx: ctx, asyncCancel: cancel}, nil
}

// Close stops accepting Event invocations and waits for the running ones
// to finish. If ctx ends first, it cancels their contexts and returns
// ctx's error.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		h.asyncCancel()
		return nil
	case <-ctx.Done():
		h.asyncCancel()
		return fmt.Errorf("invokeapi: event invocations still running: %w", ctx.Err())
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := uuid.NewString()
	w.Header()["X-Amzn-Requestid"] = []string{requestID}
	c := call{h: h, w: w, r: r, requestID: requestID}
	c.serve()
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "lambda invoke api request",
		slog.String("function", c.functionName),
		slog.String("invocationType", c.invocationType),
		slog.Int("status", c.status),
		slog.String("functionError", c.functionError),
		slog.Duration("duration", time.Since(start)),
		slog.String("requestId", c.requestID))
}

// call is one request in progress.
type call struct {
	h         *Handler
	w         http.ResponseWriter
	r         *http.Request
	requestID string

	// for the request log
	functionName   string
	invocationType string
	status         int
	functionError  string
}

func (c *call) serve() {
	r := c.r
	nameParam, ok := operationPath(r)
	if !ok {
		c.fail(http.StatusNotFound, "UnknownOperationException", "User", "Unknown operation "+r.Method+" "+r.URL.EscapedPath())
		return
	}
	c.functionName = nameParam
	ref, err := parseFunctionName(nameParam)
	if err != nil {
		c.fail(http.StatusBadRequest, "ValidationException", "User", fmt.Sprintf(
			"1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: "+
				"Member must satisfy regular expression pattern: "+
				`(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`,
			nameParam))
		return
	}
	c.functionName = ref.name
	qualifier := ref.qualifier
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		if qualifier != "" && q != qualifier {
			c.fail(http.StatusBadRequest, "InvalidParameterValueException", "User",
				"The derived qualifier from the function name does not match the specified qualifier.")
			return
		}
		qualifier = q
	}
	arn := c.h.arn(ref, qualifier)
	logicalID, found := c.h.lookup(ref)
	if !found || (qualifier != "" && qualifier != "$LATEST") {
		c.notFound(arn)
		return
	}

	c.invocationType = r.Header.Get("X-Amz-Invocation-Type")
	if c.invocationType == "" {
		c.invocationType = typeRequestResponse
	}
	limit := invoke.MaxPayloadBytes
	switch c.invocationType {
	case typeRequestResponse, typeDryRun:
	case typeEvent:
		limit = MaxAsyncPayloadBytes
	default:
		c.fail(http.StatusBadRequest, "InvalidParameterValueException", "User", fmt.Sprintf(
			"Unsupported invocation type %q: use RequestResponse, Event or DryRun", c.invocationType))
		return
	}
	switch lt := r.Header.Get("X-Amz-Log-Type"); lt {
	case "", "None", "Tail":
		// Tail is accepted but X-Amz-Log-Result is not returned: the
		// invoke.Invoker seam carries no logs.
	default:
		c.fail(http.StatusBadRequest, "InvalidParameterValueException", "User", fmt.Sprintf(
			"Unsupported log type %q: use None or Tail", lt))
		return
	}
	clientContext, err := decodeClientContext(r.Header.Get("X-Amz-Client-Context"))
	if err != nil {
		c.h.opts.Logger.LogAttrs(r.Context(), slog.LevelDebug, "bad client context", slog.Any("error", err))
		c.fail(http.StatusBadRequest, "InvalidRequestContentException", "User",
			"Client context must be a valid Base64-encoded JSON object.")
		return
	}
	payload, err := readPayload(r, limit)
	switch {
	case errors.Is(err, errTooLarge):
		c.tooLarge(limit)
		return
	case errors.Is(err, errNotJSON):
		c.fail(http.StatusBadRequest, "InvalidRequestContentException", "User",
			"Could not parse request body into json: Could not parse payload into json")
		return
	case err != nil:
		c.fail(http.StatusBadRequest, "InvalidRequestContentException", "User", "Could not read request body.")
		return
	}
	if vet := c.h.opts.Vet; vet != nil {
		if err := vet(r.Context(), logicalID, payload); err != nil {
			c.fail(http.StatusBadRequest, "InvalidRequestContentException", "User", err.Error())
			return
		}
	}
	req := invoke.Request{
		Function:      logicalID,
		Payload:       payload,
		ClientContext: clientContext,
		TraceID:       r.Header.Get("X-Amzn-Trace-Id"),
	}

	switch c.invocationType {
	case typeDryRun:
		c.status = http.StatusNoContent
		c.w.WriteHeader(http.StatusNoContent)
	case typeEvent:
		if !c.h.startAsync(req, c.requestID, arn) {
			c.fail(http.StatusInternalServerError, "ServiceException", "Service", "The emulator is shutting down.")
			return
		}
		c.status = http.StatusAccepted
		c.w.WriteHeader(http.StatusAccepted)
	default:
		c.invokeSync(req, arn)
	}
}

// invokeSync runs a RequestResponse invocation. The client going away does
// not cancel it: Lambda runs it to completion (bounded by the function's
// own timeout, which the runtime enforces).
func (c *call) invokeSync(req invoke.Request, arn string) {
	res, err := c.h.inv.Invoke(context.WithoutCancel(c.r.Context()), req)
	switch {
	case errors.Is(err, invoke.ErrUnknownFunction):
		c.notFound(arn)
		return
	case errors.Is(err, invoke.ErrRequestTooLarge):
		c.tooLarge(invoke.MaxPayloadBytes)
		return
	case errors.Is(err, invoke.ErrThrottled):
		c.w.Header().Set("Retry-After", "1")
		c.failReason(http.StatusTooManyRequests, "TooManyRequestsException", "User", "Rate Exceeded.",
			"ConcurrentInvocationLimitExceeded")
		return
	case err != nil:
		c.h.opts.Logger.LogAttrs(c.r.Context(), slog.LevelError, "invoke failed",
			slog.String("function", req.Function), slog.String("requestId", c.requestID), slog.Any("error", err))
		c.fail(http.StatusInternalServerError, "ServiceException", "Service", "The emulator failed to invoke the function: "+err.Error())
		return
	case res == nil:
		c.fail(http.StatusInternalServerError, "ServiceException", "Service", "The emulator returned no result.")
		return
	}
	h := c.w.Header()
	if res.RequestID != "" {
		c.requestID = res.RequestID
		h["X-Amzn-Requestid"] = []string{res.RequestID}
	}
	h["Content-Type"] = []string{"application/json"}
	h["X-Amz-Executed-Version"] = []string{"$LATEST"}
	payload := res.Payload
	if res.Error != nil {
		c.functionError = res.Error.Type
		h["X-Amz-Function-Error"] = []string{"Unhandled"}
		if len(payload) == 0 {
			payload, _ = json.Marshal(map[string]string{"errorType": res.Error.Type, "errorMessage": res.Error.Message})
		}
	}
	c.status = http.StatusOK
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(payload)
}

// startAsync runs req in the background unless the handler is closed.
func (h *Handler) startAsync(req invoke.Request, requestID, arn string) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		h.runAsync(req, requestID, arn)
	}()
	return true
}

// runAsync performs an Event invocation. Throttled attempts are retried
// with exponential backoff (50 ms doubling to 5 s) until they run or Close
// gives up, as Lambda keeps throttled events queued; a function error is
// logged and not retried (Lambda would retry twice, minutes apart).
func (h *Handler) runAsync(req invoke.Request, requestID, arn string) {
	log := h.opts.Logger.With(slog.String("function", req.Function), slog.String("requestId", requestID),
		slog.String("invocationType", typeEvent))
	backoff := 50 * time.Millisecond
	for {
		res, err := h.inv.Invoke(h.asyncCtx, req)
		switch {
		case errors.Is(err, invoke.ErrThrottled):
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
				backoff = min(2*backoff, 5*time.Second)
				continue
			case <-h.asyncCtx.Done():
				t.Stop()
				log.LogAttrs(h.asyncCtx, slog.LevelWarn, "event invocation dropped while throttled", slog.Any("error", err))
				return
			}
		case errors.Is(err, invoke.ErrUnknownFunction):
			log.LogAttrs(h.asyncCtx, slog.LevelWarn, "event invocation of an unknown function", slog.String("arn", arn))
		case err != nil:
			log.LogAttrs(h.asyncCtx, slog.LevelError, "event invocation failed", slog.Any("error", err))
		case res != nil && res.Error != nil:
			log.LogAttrs(h.asyncCtx, slog.LevelWarn, "event invocation returned a function error",
				slog.String("errorType", res.Error.Type), slog.String("errorMessage", res.Error.Message))
		default:
			log.LogAttrs(h.asyncCtx, slog.LevelInfo, "event invocation succeeded")
		}
		return
	}
}

func (h *Handler) lookup(ref functionRef) (string, bool) {
	if ref.region != "" && ref.region != h.opts.Region || ref.account != "" && ref.account != h.opts.AccountID {
		return "", false
	}
	if h.opts.Functions == nil {
		return ref.name, true
	}
	id, ok := h.opts.Functions[ref.name]
	return id, ok
}

// arn is the function's ARN as error messages show it: the caller's region
// and account when its ARN named them, the emulator's otherwise.
func (h *Handler) arn(ref functionRef, qualifier string) string {
	region, account := cmp.Or(ref.region, h.opts.Region), cmp.Or(ref.account, h.opts.AccountID)
	arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + ref.name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

// operationPath returns the FunctionName of a POST to the invocations
// path, percent-decoded (SDKs escape the colons of ARNs).
func operationPath(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, pathPrefix) || !strings.HasSuffix(p, pathSuffix) || len(p) <= len(pathPrefix)+len(pathSuffix) {
		return "", false
	}
	raw := p[len(pathPrefix) : len(p)-len(pathSuffix)]
	if strings.Contains(raw, "/") {
		return "", false
	}
	name, err := url.PathUnescape(raw)
	if err != nil || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// Reasons a request is refused before invoking.
var (
	errTooLarge = errors.New("request payload too large")
	errNotJSON  = errors.New("request payload is not json")
)

// decodeClientContext turns the base64 X-Amz-Client-Context header into the
// JSON object the runtime passes on (aws-lambda-go decodes it into
// lambdacontext.ClientContext, so it must be an object).
func decodeClientContext(header string) ([]byte, error) {
	if header == "" {
		return nil, nil
	}
	if len(header) > maxClientContextBytes {
		return nil, fmt.Errorf("client context is %d bytes of base64, more than %d", len(header), maxClientContextBytes)
	}
	raw, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return nil, fmt.Errorf("decode client context: %w", err)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, errors.New("client context is not a json object")
	}
	return raw, nil
}

// readPayload reads the request body: at most limit bytes of JSON
// (errTooLarge, errNotJSON otherwise). An empty body becomes {}, which is
// what a function receives when the caller sends no payload.
func readPayload(r *http.Request, limit int) ([]byte, error) {
	if r.ContentLength > int64(limit) {
		return nil, errTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return []byte("{}"), nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > limit {
		return nil, errTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return []byte("{}"), nil
	}
	if !json.Valid(body) {
		return nil, errNotJSON
	}
	return body, nil
}

// errorBody is the error document AWS SDKs parse for Lambda's restJson1
// protocol: the error code comes from the x-amzn-ErrorType header; Type and
// Message are the members Lambda's API model declares on its exceptions
// (SDKs read the message case-insensitively or as "Message").
type errorBody struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
	Reason  string `json:"Reason,omitempty"`
}

func (c *call) fail(status int, code, typ, msg string) { c.failReason(status, code, typ, msg, "") }

func (c *call) failReason(status int, code, typ, msg, reason string) {
	body, _ := json.Marshal(errorBody{Type: typ, Message: msg, Reason: reason})
	h := c.w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["X-Amzn-Errortype"] = []string{code}
	c.status = status
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

func (c *call) notFound(arn string) {
	c.fail(http.StatusNotFound, "ResourceNotFoundException", "User", "Function not found: "+arn)
}

func (c *call) tooLarge(limit int) {
	c.fail(http.StatusRequestEntityTooLarge, "RequestTooLargeException", "User",
		fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", limit))
}
