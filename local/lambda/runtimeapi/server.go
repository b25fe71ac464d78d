package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxPayloadBytes is the response limit used when Config leaves it
// zero: Lambda's 6 MB synchronous payload limit.
const DefaultMaxPayloadBytes = 6 * 1024 * 1024

var (
	// ErrClosed is returned by Submit and by a waiting GET /next once the
	// Server is closed.
	ErrClosed = errors.New("runtime api server closed")
	// ErrBusy is returned by Submit when an invocation is already pending.
	ErrBusy = errors.New("an invocation is already pending")
	// ErrInvalidRequestID is returned for a POST whose request id is not the
	// invocation the runtime is working on. The HTTP layer answers 400.
	ErrInvalidRequestID = errors.New("invalid request id")
)

// Invocation is one event handed to the runtime by GET /next.
type Invocation struct {
	RequestID          string
	Payload            []byte
	Timeout            time.Duration // the deadline is hand-off time + Timeout
	InvokedFunctionARN string
	TraceID            string // Lambda-Runtime-Trace-Id, optional
	ClientContext      string // raw (decoded) JSON, optional
	CognitoIdentity    string // raw JSON, optional

	// Deadline is set by the Server when it hands the invocation to the
	// runtime, before Observer.Invoked is called.
	Deadline time.Time
}

// ErrorReport is a failure reported by the runtime (or by the Server for an
// oversized response).
type ErrorReport struct {
	Type    string // errorType, e.g. "errorString" or "Function.ResponseSizeTooLarge"
	Message string // errorMessage
	// Body is the error document as JSON ({"errorMessage":…,"errorType":…});
	// the runtime's own body when it posted valid JSON.
	Body []byte
}

// Outcome is how an invocation ended from the runtime's point of view.
type Outcome struct {
	// Body is the response payload; when Error is set it is the error document.
	Body        []byte
	ContentType string
	// Error is set when the runtime posted to /error, sent error trailers on
	// /response, or its response exceeded the payload limit.
	Error *ErrorReport
}

// Observer learns what the runtime does. Its methods are called from the
// HTTP handlers, never with a Server lock held, in lifecycle order:
// Initialized, then per invocation Invoked, Responded and Completed
// (Completed when the runtime asks for the next invocation). Invoked is
// called before the invocation is written to the runtime, and Completed
// and the next Invoked run on the same goroutine, one after the other. They
// must not block for long: the runtime is waiting for the HTTP answer.
type Observer interface {
	// Initialized is called on the runtime's first GET /next (end of init).
	Initialized()
	// InitFailed is called when the runtime posts to /init/error.
	InitFailed(report ErrorReport)
	// Invoked is called when inv is handed to the runtime; inv.Deadline is set.
	Invoked(inv *Invocation)
	// Responded is called when the runtime has answered inv.
	Responded(inv *Invocation, out Outcome)
	// Completed is called when the runtime asks for the next invocation after
	// answering inv; the environment is free again.
	Completed(inv *Invocation)
}

// Config configures a Server.
type Config struct {
	// Observer receives the runtime's lifecycle events. Required.
	Observer Observer
	// MaxPayloadBytes limits response and error bodies; larger responses get
	// 413 and a Function.ResponseSizeTooLarge outcome.
	// Default: DefaultMaxPayloadBytes.
	MaxPayloadBytes int
	// Logger receives HTTP server errors at debug level. Default: slog.Default().
	Logger *slog.Logger
	// Listen binds the listener, e.g. inside the function's network
	// namespace. Default: net.Listen.
	Listen func(network, address string) (net.Listener, error)
}

// Server is the Runtime API of one execution environment. Use NewServer, then
// Listen (so the address is known before the runtime process starts, and port
// 0 works), then Serve.
type Server struct {
	obs        Observer
	maxPayload int
	logger     *slog.Logger
	listen     func(network, address string) (net.Listener, error)
	handler    http.Handler

	// notify keeps the observer's Responded and Completed in order even if
	// a runtime polls again, on another connection, before its answer was
	// reported. Lock order: notify, then mu.
	notify sync.Mutex

	mu      sync.Mutex
	st      state
	polling bool        // a GET /next is waiting
	pending *Invocation // submitted, not yet handed off
	current *Invocation // handed off, not yet completed
	closed  bool

	wake chan struct{} // signals a new pending invocation to the poller
	done chan struct{} // closed by Close

	ln net.Listener
	hs *http.Server
}

// NewServer returns a Server in the Started state.
func NewServer(cfg Config) *Server {
	s := &Server{
		obs:        cfg.Observer,
		maxPayload: cfg.MaxPayloadBytes,
		logger:     cfg.Logger,
		listen:     cfg.Listen,
		st:         startedState{},
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	if s.maxPayload <= 0 {
		s.maxPayload = DefaultMaxPayloadBytes
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.listen == nil {
		s.listen = net.Listen
	}
	s.handler = newRouter(s)
	return s
}

// Handler returns the Runtime API routes, for tests with httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds addr (e.g. "127.0.0.1:0"). Binding before the runtime starts
// matters: aws-lambda-go exits if its first GET /next cannot connect.
func (s *Server) Listen(addr string) error {
	ln, err := s.listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen runtime api: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Addr is the bound host:port, the value for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve serves the Runtime API on the listener from Listen until Close. It
// returns nil after Close. The HTTP server has no read, write or idle
// timeouts: GET /next is held open until there is work.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.ln == nil {
		s.mu.Unlock()
		return errors.New("serve runtime api: not listening")
	}
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.hs = &http.Server{
		Handler:  s.handler,
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	hs, ln := s.hs, s.ln
	s.mu.Unlock()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve runtime api: %w", err)
	}
	return nil
}

// Close stops the Server: a waiting GET /next returns 500, Submit fails, and
// the listener and all connections are closed. It is safe to call twice.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	hs, ln := s.hs, s.ln
	s.mu.Unlock()
	if hs != nil {
		return hs.Close()
	}
	if ln != nil {
		return ln.Close()
	}
	return nil
}

// State returns the name of the current state (StateStarted, …).
func (s *Server) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.name()
}

// Submit queues inv for the runtime: the waiting (or next) GET /next hands it
// over. Only one invocation may be pending; the platform must not submit the
// next one before the previous one completed.
func (s *Server) Submit(inv *Invocation) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.pending != nil {
		s.mu.Unlock()
		return ErrBusy
	}
	s.pending = inv
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Withdraw removes inv if it has not been handed to the runtime yet and
// reports whether it did; after a successful Withdraw the runtime never sees
// inv.
func (s *Server) Withdraw(inv *Invocation) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != inv {
		return false
	}
	s.pending = nil
	return true
}

// next runs GET /next: it applies the transition, tells the observer about
// the end of init or of the previous invocation, then waits for a pending
// invocation and hands it over.
func (s *Server) next(ctx context.Context) (*Invocation, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.polling {
		s.mu.Unlock()
		return nil, fmt.Errorf("concurrent poll: %w", ErrNotAllowed)
	}
	prev := s.st
	st, err := prev.next()
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%s -> next: %w", prev.name(), err)
	}
	s.st = st
	var completed *Invocation
	if prev.name() == StateResponded {
		completed, s.current = s.current, nil
	}
	s.polling = true
	s.mu.Unlock()

	if prev.name() == StateStarted {
		s.obs.Initialized()
	}
	if completed != nil {
		s.notify.Lock()
		s.obs.Completed(completed)
		s.notify.Unlock()
	}

	for {
		s.mu.Lock()
		if s.pending != nil {
			if st, err := s.st.invoke(); err == nil {
				inv := s.pending
				s.pending, s.current, s.st, s.polling = nil, inv, st, false
				inv.Deadline = time.Now().Add(inv.Timeout)
				s.mu.Unlock()
				s.obs.Invoked(inv)
				return inv, nil
			}
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			s.mu.Lock()
			s.polling = false
			s.mu.Unlock()
			return nil, ctx.Err()
		case <-s.done:
			return nil, ErrClosed
		}
	}
}

// check validates, without applying it, a POST for invocation id.
func (s *Server) check(id string, transition func(state) (state, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkLocked(id, transition)
}

func (s *Server) checkLocked(id string, transition func(state) (state, error)) error {
	if s.closed {
		return ErrClosed
	}
	if _, err := transition(s.st); err != nil {
		return fmt.Errorf("%s: %w", s.st.name(), err)
	}
	if s.current == nil || s.current.RequestID != id {
		return fmt.Errorf("%q: %w", id, ErrInvalidRequestID)
	}
	return nil
}

// answer applies the transition for a POST on invocation id and reports the
// outcome to the observer.
func (s *Server) answer(id string, transition func(state) (state, error), out Outcome) error {
	s.notify.Lock()
	defer s.notify.Unlock()
	s.mu.Lock()
	if err := s.checkLocked(id, transition); err != nil {
		s.mu.Unlock()
		return err
	}
	st, _ := transition(s.st)
	s.st = st
	inv := s.current
	s.mu.Unlock()
	s.obs.Responded(inv, out)
	return nil
}

// failInit applies the init-error transition and reports it.
func (s *Server) failInit(rep ErrorReport) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	st, err := s.st.initError()
	if err != nil {
		name := s.st.name()
		s.mu.Unlock()
		return fmt.Errorf("%s: %w", name, err)
	}
	s.st = st
	s.mu.Unlock()
	s.obs.InitFailed(rep)
	return nil
}

// checkInitError validates an init-error call before its body is read.
func (s *Server) checkInitError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, err := s.st.initError(); err != nil {
		return fmt.Errorf("%s: %w", s.st.name(), err)
	}
	return nil
}
