package lambda

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/lambda/runtimeapi"
)

// outputGrace is how long wait lets the output copier drain after the
// process group died.
const outputGrace = time.Second

// Reasons the platform kills an environment's process.
const (
	killTimeout     = "timeout"
	killInitTimeout = "init timeout"
	killInitError   = "init error"
	killIdle        = "idle"
	killShutdown    = "shutdown"
)

// errEnvironmentGone is returned by submit when the environment died (or is
// dying) after it was acquired.
var errEnvironmentGone = errors.New("execution environment is gone")

// startError is a failure to start the bootstrap process itself; the
// invocation fails with Runtime.InvalidEntrypoint, as in Lambda.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// environment is one execution environment: a bootstrap process and the
// Runtime API server it polls. It runs one invocation at a time; the pool
// decides which invocation. It implements runtimeapi.Observer.
type environment struct {
	fn     *function
	id     string
	srv    *runtimeapi.Server
	cmd    *exec.Cmd
	pid    int
	start  time.Time
	mem    *memoryProbe
	served chan struct{} // closed when srv.Serve returned
	output chan struct{} // closed when the output pipe hit EOF
	exited chan struct{} // closed when everything is cleaned up
	out    *outputCopier

	initTimer *time.Timer

	mu          sync.Mutex
	initialized bool
	initDur     time.Duration
	initErr     *runtimeapi.ErrorReport
	uses        int   // invocations handed to the runtime
	call        *call // assigned invocation, from submit until it ends
	finishing   bool  // call answered; waiting for the runtime's next poll
	killed      string
	reaped      bool
	dead        bool

	// Guarded by the pool's mutex.
	idle      bool
	idleSince time.Time
	idleTimer *time.Timer
	discarded bool
}

// spawn starts a new environment of f for c: it binds the Runtime API,
// queues c, then starts the bootstrap process pointed at the API. It does not
// wait for init; the runtime's first GET /next receives c.
func (f *function) spawn(c *call) (*environment, error) {
	if !f.rt.addEnvironment() { // Done by wait, or below when the process does not start
		return nil, ErrClosed
	}
	seq := f.seq.Add(1)
	e := &environment{
		fn:     f,
		id:     f.cfg.Name + "#" + strconv.FormatUint(seq, 10),
		served: make(chan struct{}),
		output: make(chan struct{}),
		exited: make(chan struct{}),
	}
	start, listen := (*exec.Cmd).Start, net.Listen
	if n := f.rt.network; n != nil {
		start, listen = n.Start, n.Listen
	}
	e.srv = runtimeapi.NewServer(runtimeapi.Config{
		Observer:        e,
		MaxPayloadBytes: invoke.MaxPayloadBytes,
		Logger:          f.rt.logger.With("function", f.cfg.Name, "env", e.id),
		Listen:          listen,
	})
	if err := e.srv.Listen("127.0.0.1:0"); err != nil {
		f.rt.envWG.Done()
		return nil, fmt.Errorf("start environment %s: %w", e.id, err)
	}
	pr, pw, err := os.Pipe()
	if err == nil {
		e.out, err = newOutputCopier(pr, f.rt.sink, f.prefix)
	}
	if err == nil {
		e.out.tail, e.out.env = &f.metrics, e.id
	}
	if err != nil {
		if pr != nil {
			_ = pr.Close()
			_ = pw.Close()
		}
		_ = e.srv.Close()
		f.rt.envWG.Done()
		return nil, fmt.Errorf("start environment %s: %w", e.id, err)
	}
	e.call = c
	c.queuedAt = time.Now()
	_ = e.srv.Submit(&c.inv) // cannot fail: new and open

	cmd := exec.Command(f.cfg.Bootstrap)
	cmd.Dir = filepath.Dir(f.cfg.Bootstrap)
	env := make([]string, len(f.env), len(f.env)+2)
	copy(env, f.env)
	cmd.Env = append(env,
		"AWS_LAMBDA_RUNTIME_API="+e.srv.Addr(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+logStreamName(),
	)
	cmd.Stdin = nil
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.SysProcAttr = sysProcAttr()
	e.cmd = cmd

	// The listener is bound already, so the runtime can connect at once; its
	// first request is served when Serve starts below. Starting Serve only
	// after the process fields are set keeps the observer free of races.
	e.start = time.Now()
	if err := start(cmd); err != nil {
		_ = pr.Close()
		_ = pw.Close()
		_ = e.srv.Close()
		f.rt.envWG.Done()
		return nil, &startError{err: fmt.Errorf("start environment %s: %w", e.id, err)}
	}
	_ = pw.Close()
	e.pid = cmd.Process.Pid
	e.mem = openMemoryProbe(e.pid)
	e.initTimer = time.AfterFunc(f.rt.initTimeout, e.initTimedOut)
	if !f.pool.register(e) {
		e.kill(killShutdown) // Close is under way; wait below reaps it
	}
	go func() {
		defer close(e.served)
		if err := e.srv.Serve(); err != nil {
			f.rt.logger.Error("runtime api stopped", "function", f.cfg.Name, "env", e.id, "err", err)
		}
	}()
	go func() {
		defer close(e.output)
		e.out.run()
	}()
	go e.wait()
	f.rt.logger.Info("environment started", "function", f.cfg.Name, "env", e.id, "pid", e.pid,
		"runtime_api", e.srv.Addr())
	return e, nil
}

// logStreamName is YYYY/MM/DD/[$LATEST]<32 hex>, as Lambda names streams.
func logStreamName() string {
	return time.Now().UTC().Format("2006/01/02") + "/[" + functionVersion + "]" + randomHex(16)
}

// submit assigns c to the environment and queues it for the runtime.
func (e *environment) submit(c *call) error {
	e.mu.Lock()
	if e.dead || e.killed != "" || e.call != nil {
		e.mu.Unlock()
		return errEnvironmentGone
	}
	e.call = c
	c.queuedAt = time.Now()
	e.mu.Unlock()
	if err := e.srv.Submit(&c.inv); err != nil {
		e.mu.Lock()
		if e.call == c {
			e.call = nil
		}
		e.mu.Unlock()
		return fmt.Errorf("%w: %w", errEnvironmentGone, err)
	}
	return nil
}

// withdraw takes c back if the runtime has not received it yet.
func (e *environment) withdraw(c *call) bool {
	if !e.srv.Withdraw(&c.inv) {
		return false
	}
	e.mu.Lock()
	if e.call == c {
		e.call = nil
	}
	e.mu.Unlock()
	return true
}

// current returns the assigned call if it is inv.
func (e *environment) currentLocked(inv *runtimeapi.Invocation) *call {
	if c := e.call; c != nil && &c.inv == inv {
		return c
	}
	return nil
}

// Initialized ends the init phase (runtimeapi.Observer).
func (e *environment) Initialized() {
	e.initTimer.Stop()
	e.mu.Lock()
	e.initialized = true
	e.initDur = time.Since(e.start)
	d := e.initDur
	e.mu.Unlock()
	e.fn.rt.logger.Debug("environment initialized", "function", e.fn.cfg.Name, "env", e.id,
		"init_duration", d)
}

// InitFailed records an /init/error report and tears the environment down
// (runtimeapi.Observer); the pending invocation fails with that error.
func (e *environment) InitFailed(rep runtimeapi.ErrorReport) {
	e.mu.Lock()
	e.initErr = &rep
	e.mu.Unlock()
	e.kill(killInitError)
}

// Invoked starts the clock of an invocation handed to the runtime
// (runtimeapi.Observer).
func (e *environment) Invoked(inv *runtimeapi.Invocation) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.currentLocked(inv)
	if c == nil {
		return
	}
	c.handedAt = now
	c.cold = e.uses == 0
	e.uses++
	e.fn.stats.invocations.Add(1)
	if c.cold {
		e.fn.stats.coldStarts.Add(1)
	}
	e.platform("START RequestId: " + inv.RequestID + " Version: " + functionVersion)
	c.timer = time.AfterFunc(inv.Timeout, func() { e.timedOut(c) })
}

// Responded delivers the runtime's answer to the caller
// (runtimeapi.Observer). The environment stays busy until Completed.
func (e *environment) Responded(inv *runtimeapi.Invocation, out runtimeapi.Outcome) {
	e.mu.Lock()
	c := e.currentLocked(inv)
	if c == nil {
		e.mu.Unlock()
		return
	}
	if out.Error != nil && out.Error.Type == runtimeapi.ErrorTypeResponseSizeTooLarge {
		c.failType = out.Error.Type
	}
	if out.Error != nil {
		c.fnError = out.Error.Type
	}
	// Count the environment as finishing before the caller can see the
	// result, so that a caller invoking again right away waits for this
	// environment instead of starting another one.
	e.finishing = true
	e.fn.pool.addFinishing()
	e.mu.Unlock()

	res := &invoke.Result{RequestID: inv.RequestID, Payload: out.Body}
	if out.Error != nil {
		res.Error = &invoke.FunctionError{Type: out.Error.Type, Message: out.Error.Message}
	}
	c.finish(res, &e.fn.stats.errors)
}

// Completed ends an invocation when the runtime polls again
// (runtimeapi.Observer): the environment is released, then END and REPORT are
// written. The runtime gets its next invocation only after this returns, on
// the same goroutine, so the lines still precede the next START.
func (e *environment) Completed(inv *runtimeapi.Invocation) {
	now := time.Now()
	e.mu.Lock()
	c := e.currentLocked(inv)
	if c == nil {
		e.mu.Unlock()
		return
	}
	e.call = nil
	wasFinishing := e.finishing
	e.finishing = false
	if c.timer != nil {
		c.timer.Stop()
	}
	rep := e.reportLocked(c, now)
	e.mu.Unlock()

	e.fn.pool.release(e, wasFinishing)
	if c.failType != "" {
		rep.status, rep.errorType = "error", c.failType
	}
	e.writeEnd(rep, e.mem.peakKB())
}

// reportLocked fills the REPORT fields known when c ends.
func (e *environment) reportLocked(c *call, now time.Time) report {
	r := report{
		requestID: c.inv.RequestID,
		duration:  now.Sub(c.handedAt),
		memoryMB:  e.fn.cfg.memoryMB(),

		functionError: c.fnError,
	}
	if c.cold {
		r.init = e.initDur
	}
	return r
}

// writeEnd writes the END and REPORT lines of an invocation.
func (e *environment) writeEnd(r report, peakKB int64) {
	r.maxUsedMB = int((peakKB + 1023) / 1024)
	e.platform("END RequestId: "+r.requestID, r.line())
	e.fn.metrics.record(e.id, r, time.Now())
}

// platform writes platform lines after the function output written so far:
// the function writes its output before it calls the Runtime API, and the
// platform lines answer such calls, so the log keeps the order of events.
func (e *environment) platform(lines ...string) {
	e.out.settle()
	e.fn.rt.sink.writeLines(e.fn.prefix, lines...)
	now := time.Now()
	for _, l := range lines {
		logLine(&e.fn.metrics, e.id, l, now)
	}
}

// timedOut enforces the function timeout: the caller gets Sandbox.Timedout
// and the process is killed, so the next invocation starts a new one.
func (e *environment) timedOut(c *call) {
	now := time.Now()
	e.mu.Lock()
	if e.call != c {
		e.mu.Unlock()
		return
	}
	e.call = nil
	rep := e.reportLocked(c, now)
	peak := e.mem.peakKB()
	e.killLocked(killTimeout)
	e.mu.Unlock()

	e.fn.stats.timeouts.Add(1)
	c.finish(timeoutFailure(c.inv.RequestID, c.inv.Timeout, now), &e.fn.stats.errors)
	rep.status = "timeout"
	e.writeEnd(rep, peak)
	e.fn.rt.logger.Info("environment killed", "function", e.fn.cfg.Name, "env", e.id, "pid", e.pid,
		"reason", killTimeout, "request_id", c.inv.RequestID)
}

// initTimedOut kills a process that did not finish init in time.
func (e *environment) initTimedOut() {
	e.mu.Lock()
	if e.initialized {
		e.mu.Unlock()
		return
	}
	e.killLocked(killInitTimeout)
	e.mu.Unlock()
	e.fn.rt.logger.Info("environment killed", "function", e.fn.cfg.Name, "env", e.id, "pid", e.pid,
		"reason", killInitTimeout)
}

// kill SIGKILLs the process group.
func (e *environment) kill(reason string) {
	e.mu.Lock()
	e.killLocked(reason)
	e.mu.Unlock()
}

func (e *environment) killLocked(reason string) {
	if e.reaped {
		return
	}
	if e.killed == "" {
		e.killed = reason
	}
	_ = signalGroup(e.pid, syscall.SIGKILL)
}

// terminate stops the process for shutdown: SIGTERM, then SIGKILL after
// grace. It returns when the environment is cleaned up.
func (e *environment) terminate(grace time.Duration) {
	e.mu.Lock()
	if !e.reaped {
		if e.killed == "" {
			e.killed = killShutdown
		}
		_ = signalGroup(e.pid, syscall.SIGTERM)
	}
	e.mu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-e.exited:
		return
	case <-t.C:
	}
	e.kill(killShutdown)
	<-e.exited
}

// wait reaps the process and cleans up. An invocation still assigned to the
// environment fails (Runtime.ExitError, or the init error or init timeout
// that caused the exit), the Runtime API closes, and the pool forgets the
// environment.
func (e *environment) wait() {
	defer e.fn.rt.envWG.Done()
	defer close(e.exited)

	_ = waitExited(e.pid)
	e.mu.Lock()
	// The leader is a zombie, so its group id is still ours: take down
	// anything it left behind, then reap it.
	_ = signalGroup(e.pid, syscall.SIGKILL)
	e.reaped = true
	e.mu.Unlock()
	_ = e.cmd.Wait()
	// With the group dead the pipe reaches EOF, unless a process that left
	// the group still holds it: then stop copying after a grace period.
	select {
	case <-e.output:
	case <-time.After(outputGrace):
		e.out.abort()
		<-e.output
	}
	e.initTimer.Stop()
	e.mem.close()
	status := e.cmd.ProcessState.String()
	peak := maxRSSKB(e.cmd.ProcessState)
	now := time.Now()

	e.mu.Lock()
	e.dead = true
	c := e.call
	e.call = nil
	wasFinishing := e.finishing
	e.finishing = false
	killed, initErr, initialized := e.killed, e.initErr, e.initialized
	initDur := now.Sub(e.start)
	if e.initialized {
		initDur = e.initDur
	}
	var rep report
	if c != nil {
		if c.timer != nil {
			c.timer.Stop()
		}
		rep = e.reportLocked(c, now)
	}
	e.mu.Unlock()

	_ = e.srv.Close()
	<-e.served

	if c != nil {
		e.failCall(c, rep, status, killed, initErr, initialized, initDur, peak, now)
	}
	e.fn.pool.discard(e, wasFinishing)
	e.fn.rt.logger.Info("environment exited", "function", e.fn.cfg.Name, "env", e.id, "pid", e.pid,
		"status", status, "reason", killed)
}

// failCall ends the call of an environment whose process is gone.
func (e *environment) failCall(c *call, rep report, status, killed string,
	initErr *runtimeapi.ErrorReport, initialized bool, initDur time.Duration, peakKB int64, now time.Time) {
	id := c.inv.RequestID
	var res *invoke.Result
	switch {
	case initErr != nil:
		res = &invoke.Result{RequestID: id, Payload: initErr.Body,
			Error: &invoke.FunctionError{Type: initErr.Type, Message: initErr.Message}}
	case killed == killInitTimeout:
		res = initTimeoutFailure(id, e.fn.rt.initTimeout, now)
	default:
		res = exitFailure(id, status)
	}
	res.Error.Init = !initialized
	c.finish(res, &e.fn.stats.errors)
	rep.status, rep.errorType = "error", ErrorTypeExit
	switch {
	case initErr != nil || killed == killInitTimeout:
		rep.errorType = res.Error.Type
	case c.failType != "":
		rep.errorType = c.failType // e.g. the runtime exited after a 413
	}
	if c.handedAt.IsZero() {
		// The runtime never received the invocation, usually because init
		// failed.
		var lines []string
		if !initialized {
			initStatus := "error"
			if killed == killInitTimeout {
				initStatus = "timeout"
			}
			lines = append(lines, "INIT_REPORT Init Duration: "+string(appendMillis(nil, initDur))+
				" ms\tPhase: init\tStatus: "+initStatus+"\tError Type: "+rep.errorType+"\t")
		}
		e.platform(append(lines, "START RequestId: "+id+" Version: "+functionVersion)...)
		rep.duration = now.Sub(c.queuedAt)
		rep.init = 0
	}
	e.writeEnd(rep, peakKB)
}
