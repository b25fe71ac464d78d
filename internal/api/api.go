// Package api turns the game's HTTP routes into events on Kafka. Each route
// is its own Lambda function (see functions/api-*): a net/http handler,
// wrapped for API Gateway's HTTP API (payload 2.0) by aws-lambda-go-api-proxy,
// that answers 2xx only after Kafka acknowledged the event.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/kafkapub"
)

// MaxBodyBytes is the largest request body a route accepts; larger bodies
// get 413. Purchases with a JSON body are a few hundred bytes.
const MaxBodyBytes = 16 << 10

// MaxEventBytes is the largest event (key and value) a route publishes:
// Kafka's default maximum record batch (message.max.bytes, 1,048,588
// bytes) less room for the batch's own framing. A larger event (huge
// headers) is a 413, as is one the broker refuses as too large.
const MaxEventBytes = 1_000_000

// Route is one HTTP route of the game API.
type Route struct {
	// Pattern is a net/http ServeMux pattern with the method, e.g.
	// "GET /purchase_a_sword/{username}". It must match the route of the
	// function's HttpApi event in template.yaml.
	Pattern string
	// Build validates the request and returns the event to publish. The
	// handler fills the common fields (id, time, client, headers).
	Build func(r *Request) (*Draft, error)
}

// Request is what Build sees of an HTTP request.
type Request struct {
	*http.Request
	Body []byte // at most MaxBodyBytes
}

// Draft is a validated request: the event's route-specific fields and the
// text answered once the event is in Kafka.
type Draft struct {
	Event event.Event
	Reply string
}

// BadRequest is a validation failure, answered with 400 and a JSON reason.
type BadRequest struct {
	Field, Reason string
}

func (e *BadRequest) Error() string { return e.Field + ": " + e.Reason }

// Publisher delivers one record to Kafka and returns once it is acknowledged.
type Publisher interface {
	Publish(ctx context.Context, key, value []byte) error
}

// Handler serves one route, publishing through pub and recording
// DefaultHeaders.
func Handler(route Route, pub Publisher, log *slog.Logger) http.Handler {
	return HandlerRecording(route, pub, log, DefaultHeaders)
}

// HandlerRecording is Handler recording the given request headers.
func HandlerRecording(route Route, pub Publisher, log *slog.Logger, headers RecordedHeaders) http.Handler {
	return Handle(route.Pattern, &handler{route: route, pub: pub, log: log, now: time.Now, headers: headers})
}

type handler struct {
	route   Route
	pub     Publisher
	log     *slog.Logger
	now     func() time.Time
	headers RecordedHeaders
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes), "")
		return
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, "could not read the request body: "+err.Error(), "")
		return
	}
	draft, err := h.route.Build(&Request{Request: r, Body: body})
	var bad *BadRequest
	if errors.As(err, &bad) {
		WriteError(w, http.StatusBadRequest, bad.Reason, bad.Field)
		return
	}
	if err != nil {
		h.log.Error("route failed", "route", h.route.Pattern, "err", err)
		WriteError(w, http.StatusInternalServerError, "internal error", "")
		return
	}

	e := draft.Event
	id, err := uuid.NewV7()
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "could not make an event id", "")
		return
	}
	e.SchemaVersion = event.SchemaVersion
	e.EventID = id.String()
	e.EventTime = event.MillisOf(h.now())
	e.RemoteIP = clientIP(r.RemoteAddr)
	e.UserAgent = ScrubCredentials(r.UserAgent())
	e.Host = ScrubCredentials(r.Host)
	e.Headers = h.headers.Record(r.Header)
	if err := e.Validate(); err != nil {
		h.log.Error("built an invalid event", "route", h.route.Pattern, "err", err)
		WriteError(w, http.StatusInternalServerError, "internal error", "")
		return
	}
	value, err := json.Marshal(e)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "could not encode the event", "")
		return
	}
	var key []byte // keyless events are spread over the partitions
	if e.UserName != "" {
		key = []byte(e.UserName)
	}
	if size := len(key) + len(value); size > MaxEventBytes {
		WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the event is too large: %d bytes, over the %d a Kafka record holds; send fewer or shorter headers", size, MaxEventBytes), "")
		return
	}
	ctx, cancel := publishContext(r.Context())
	defer cancel()
	err = h.pub.Publish(ctx, key, value)
	if errors.Is(err, kafkapub.ErrTooLarge) {
		h.log.Warn("event refused as too large", "event_id", e.EventID, "bytes", len(key)+len(value), "err", err)
		WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the event is too large for the Kafka topic (%d bytes): send fewer or shorter headers", len(key)+len(value)), "")
		return
	}
	if err != nil {
		h.log.Warn("event not recorded", "event_id", e.EventID, "event_type", e.EventType, "err", err)
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "event not recorded, try again: "+err.Error(), "")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Event-Id", e.EventID)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, draft.Reply)
}

// publishContext leaves time before the function's deadline to answer 503
// instead of being killed by the platform's timeout.
func publishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(250*time.Millisecond, time.Until(deadline)/4)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

func clientIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

type errorBody struct {
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// WriteError answers status with a JSON reason, {"message": …, "field": …},
// field naming the request parameter at fault, if any.
func WriteError(w http.ResponseWriter, status int, message, field string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorBody{Message: message, Field: field})
}
