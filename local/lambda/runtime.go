package lambda

import (
	"github.com/google/uuid"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/lambda/runtimeapi"
)

// Defaults of Options.
const (
	DefaultIdleTimeout   = 10 * time.Minute
	DefaultInitTimeout   = 10 * time.Second
	DefaultShutdownGrace = 500 * time.Millisecond
	DefaultRegion        = "us-east-1"
	// AccountID is the account in the ARNs handed to functions.
	AccountID = "123456789012"
)

// ErrClosed is returned by Invoke once Close has been called.
var ErrClosed = errors.New("lambda runtime closed")

// Options configures a Runtime.
type Options struct {
	// Logger receives platform events (environment started, killed, reaped,
	// exited). Default: slog.Default().
	Logger *slog.Logger
	// LogOutput receives the functions' log lines: START, END, REPORT and
	// each line a function process writes to stdout or stderr, prefixed with
	// "<function> | ". Each line is written with one Write call.
	// Default: os.Stderr.
	LogOutput io.Writer
	// IdleTimeout retires an execution environment that has been idle this
	// long. Default: 10 minutes.
	IdleTimeout time.Duration
	// Region is exported as AWS_REGION and AWS_DEFAULT_REGION and used in
	// function ARNs. Default: "us-east-1".
	Region string
	// InitTimeout limits the init phase, from process start to the runtime's
	// first GET /next. Default: 10s, Lambda's on-demand limit.
	InitTimeout time.Duration
	// ShutdownGrace is how long Close waits after SIGTERM before it SIGKILLs
	// the function processes. Default: 500ms.
	ShutdownGrace time.Duration
	// Network, when set, is where the execution environments run: each
	// Runtime API listens on the network's own loopback, as Lambda's does
	// inside the sandbox, and each bootstrap starts in it. Default: the
	// host's network.
	Network Network
}

// Network is an isolated network for the functions, such as
// *netns.Network: 127.0.0.1 inside it is not the host's.
type Network interface {
	Listen(network, address string) (net.Listener, error)
	Start(cmd *exec.Cmd) error
}

// Runtime runs functions the way Lambda does: each execution environment is
// a bootstrap process with its own Runtime API, serving one invocation at a
// time; environments are reused while warm, added on demand up to a
// function's MaxConcurrency and retired when idle. It implements
// invoke.Invoker.
type Runtime struct {
	fns           map[string]*function
	logger        *slog.Logger
	sink          *logSink
	network       Network
	region        string
	initTimeout   time.Duration
	shutdownGrace time.Duration

	mu        sync.RWMutex
	closed    bool           // Invoke refuses new calls
	stopping  bool           // no new environments
	closeDone chan struct{}  // closed when Close has finished
	inflight  sync.WaitGroup // Invoke calls in progress
	envWG     sync.WaitGroup // environments not yet cleaned up
}

// addEnvironment counts a new environment unless Close is stopping them.
func (r *Runtime) addEnvironment() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.stopping {
		return false
	}
	r.envWG.Add(1)
	return true
}

var _ invoke.Invoker = (*Runtime)(nil)

// function is the runtime state of one configured Function.
type function struct {
	cfg    Function
	rt     *Runtime
	env    []string // environment shared by its execution environments
	arn    string
	prefix string // "<name> | "
	pool   *pool
	seq    atomic.Uint64
	stats  counters

	metrics metrics // the console's recent history (metrics.go)
}

type counters struct {
	invocations, errors, timeouts, coldStarts, throttles atomic.Uint64
}

// New validates fns and returns a Runtime. No process starts before the
// first invocation of a function.
func New(fns []Function, opts Options) (*Runtime, error) {
	r := &Runtime{
		fns:           make(map[string]*function, len(fns)),
		logger:        opts.Logger,
		network:       opts.Network,
		region:        opts.Region,
		initTimeout:   opts.InitTimeout,
		shutdownGrace: opts.ShutdownGrace,
		closeDone:     make(chan struct{}),
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	out := opts.LogOutput
	if out == nil {
		out = os.Stderr
	}
	r.sink = &logSink{w: out}
	if r.region == "" {
		r.region = DefaultRegion
	}
	if r.initTimeout <= 0 {
		r.initTimeout = DefaultInitTimeout
	}
	if r.shutdownGrace <= 0 {
		r.shutdownGrace = DefaultShutdownGrace
	}
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	for _, cfg := range fns {
		cfg, err := cfg.validate()
		if err != nil {
			return nil, fmt.Errorf("new lambda runtime: %w", err)
		}
		if _, dup := r.fns[cfg.Name]; dup {
			return nil, fmt.Errorf("new lambda runtime: function %s: defined twice", cfg.Name)
		}
		if cfg.Architecture != "" && cfg.Architecture != hostArchitecture() {
			r.logger.Warn("function architecture differs from the host's; it is not emulated",
				"function", cfg.Name, "architecture", cfg.Architecture, "host", hostArchitecture())
		}
		f := &function{
			cfg:    cfg,
			rt:     r,
			env:    baseEnv(&cfg, r.region),
			arn:    "arn:aws:lambda:" + r.region + ":" + AccountID + ":function:" + cfg.Name,
			prefix: cfg.Name + " | ",
		}
		f.pool = newPool(f, cfg.maxConcurrency(), idle)
		r.fns[cfg.Name] = f
	}
	return r, nil
}

// Invoke runs one synchronous invocation (invoke.Invoker). It returns when
// the function has answered; the environment finishes the invocation (END
// and REPORT lines) right after.
//
// Errors: invoke.ErrUnknownFunction, invoke.ErrRequestTooLarge (the function
// does not run), invoke.ErrThrottled when ctx is done while every environment
// is busy and MaxConcurrency is reached, ctx's error when it is done while
// the invocation is starting or running (a running invocation continues to
// its end, as in Lambda), ErrClosed after Close. Failures of the function
// itself are a Result with Error set.
func (r *Runtime) Invoke(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
	f := r.fns[req.Function]
	if f == nil {
		return nil, fmt.Errorf("invoke %s: %w", req.Function, invoke.ErrUnknownFunction)
	}
	if len(req.Payload) > invoke.MaxPayloadBytes {
		return nil, fmt.Errorf("invoke %s: %d bytes: %w", req.Function, len(req.Payload), invoke.ErrRequestTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("invoke %s: %w", req.Function, err)
	}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return nil, fmt.Errorf("invoke %s: %w", req.Function, ErrClosed)
	}
	r.inflight.Add(1)
	r.mu.RUnlock()
	defer r.inflight.Done()

	c := newCall(runtimeapi.Invocation{
		RequestID:          uuid.NewString(),
		Payload:            append([]byte(nil), req.Payload...),
		Timeout:            f.cfg.timeout(),
		InvokedFunctionARN: f.arn,
		TraceID:            traceID(req.TraceID),
		ClientContext:      string(req.ClientContext),
	})
	e, err := f.run(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", req.Function, err)
	}
	if e == nil { // failed before it ran, e.g. Runtime.InvalidEntrypoint
		return <-c.result, nil
	}
	select {
	case res := <-c.result:
		return res, nil
	case <-ctx.Done():
	}
	select {
	case res := <-c.result:
		return res, nil
	default:
	}
	if e.withdraw(c) {
		f.pool.release(e, false)
	}
	return nil, fmt.Errorf("invoke %s: %w", req.Function, context.Cause(ctx))
}

// run acquires an environment and submits c to it. It returns a nil
// environment when c already has its result.
func (f *function) run(ctx context.Context, c *call) (*environment, error) {
	for attempt := 1; ; attempt++ {
		e, spawned, err := f.pool.acquire(ctx, c)
		var se *startError
		if errors.As(err, &se) {
			c.finish(failure(c.inv.RequestID, ErrorTypeInvalidEntrypoint,
				fmt.Sprintf("RequestId: %s Error: %v", c.inv.RequestID, se.err)), &f.stats.errors)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if spawned {
			return e, nil
		}
		err = e.submit(c)
		if err == nil {
			return e, nil
		}
		if c.sent.Load() { // the environment died holding c
			return nil, nil
		}
		// A warm environment died between acquire and submit; try another,
		// but do not loop on a function whose processes keep dying.
		if attempt == 3 {
			return nil, err
		}
	}
}

// Close shuts the runtime down: new invocations fail with ErrClosed, and so
// do requests still waiting for an environment; invocations that have one
// may finish until ctx is done, and runtimes that answered may poll for the
// next event (ending the invocation with its END and REPORT lines). Then
// every function process gets SIGTERM and, after ShutdownGrace, SIGKILL; an
// invocation still running fails with Runtime.ExitError. Close returns when all processes are reaped and the
// runtime's goroutines have ended; the error is ctx's if it cut the wait
// short. Later calls wait for the first one to finish.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		select { // another Close is under way or done
		case <-r.closeDone:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("close lambda runtime: %w", context.Cause(ctx))
		}
	}
	r.closed = true
	r.mu.Unlock()
	defer close(r.closeDone)
	for _, f := range r.fns {
		f.pool.close()
	}

	var err error
	drained := make(chan struct{})
	go func() {
		r.inflight.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-ctx.Done():
		err = fmt.Errorf("close lambda runtime: %w", context.Cause(ctx))
	}
	// An environment that answered polls again within microseconds; let it,
	// so its invocation ends as it did (END, REPORT) rather than as killed.
	for _, f := range r.fns {
		f.pool.awaitFinishing(ctx)
	}

	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, f := range r.fns {
		for _, e := range f.pool.stop() {
			wg.Go(func() { e.terminate(r.shutdownGrace) })
		}
	}
	wg.Wait()
	r.envWG.Wait()
	<-drained // killed environments fail what was still running
	return err
}

// FunctionStats is a snapshot of one function's execution environments and
// counters.
type FunctionStats struct {
	Environments int // alive or starting
	Busy         int
	Idle         int
	Waiting      int    // requests queued for an environment
	Invocations  uint64 // handed to the runtime
	Errors       uint64 // invocations that ended with a function error
	Timeouts     uint64
	ColdStarts   uint64
	Throttles    uint64 // requests that gave up waiting for an environment
}

// PIDs returns the process ids of a function's live execution environments,
// so callers (tests, the chaos harness) can signal exactly the processes this
// runtime started.
func (r *Runtime) PIDs(function string) []int {
	f, ok := r.fns[function]
	if !ok {
		return nil
	}
	return f.pool.pids()
}

// Stats returns a snapshot per function name.
func (r *Runtime) Stats() map[string]FunctionStats {
	out := make(map[string]FunctionStats, len(r.fns))
	for name, f := range r.fns {
		var s FunctionStats
		f.pool.stats(&s)
		s.Invocations = f.stats.invocations.Load()
		s.Errors = f.stats.errors.Load()
		s.Timeouts = f.stats.timeouts.Load()
		s.ColdStarts = f.stats.coldStarts.Load()
		s.Throttles = f.stats.throttles.Load()
		out[name] = s
	}
	return out
}
