package apigw

import (
	"net/http"
	"time"
)

// Limits bound the time and memory one client can hold of the gateway.
// The zero value of each field is its default.
type Limits struct {
	// HeaderTimeout bounds reading a request's line and headers. Default 10 s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds reading a whole request, headers and body.
	// Default 30 s, API Gateway's integration timeout.
	BodyTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long between
	// requests. Default 30 s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; more is a 431.
	// Default 10240, HTTP APIs' quota (net/http allows 4 KiB of slack).
	MaxHeaderBytes int
	// BufferedBodyBytes bounds the request bodies held in memory at once,
	// across all connections, counted as their buffers grow with the bytes
	// received. A body that finds no room waits (within BodyTimeout), then
	// gets 429; its unread bytes wait in the kernel meanwhile.
	// Default 64 MiB.
	BufferedBodyBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = 10 * time.Second
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = DefaultTimeoutInMillis * time.Millisecond
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Second
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 10240
	}
	if l.BufferedBodyBytes <= 0 {
		l.BufferedBodyBytes = 64 << 20
	}
	return l
}

// Server returns the http.Server to run the gateway handler h in, with the
// limits' timeouts: reading a request (headers within HeaderTimeout, all
// of it within BodyTimeout), idle keep-alive, and in total, from the end
// of the headers to the end of the response, the body's time plus the
// 30 s integration timeout and a little for the answer.
func Server(h http.Handler, l Limits) *http.Server {
	l = l.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.HeaderTimeout,
		ReadTimeout:       l.BodyTimeout,
		WriteTimeout:      l.BodyTimeout + DefaultTimeoutInMillis*time.Millisecond + 5*time.Second,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}
