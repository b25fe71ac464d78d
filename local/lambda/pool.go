package lambda

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/questlog/questlog/local/invoke"
)

// pool holds the execution environments of one function. It grows on demand
// up to limit, reuses the most recently used idle environment, retires
// environments idle for idleTimeout, and queues requests FIFO when every
// environment is busy and the limit is reached.
type pool struct {
	fn          *function
	limit       int
	idleTimeout time.Duration

	mu        sync.Mutex
	idle      []*environment // stack: the last one was used most recently
	all       map[*environment]struct{}
	total     int           // environments alive or starting, counted against limit
	finishing int           // busy environments that answered and will be free soon
	finished  chan struct{} // closed when finishing drops to 0; made by awaitFinishing
	waiters   []*waiter
	closed    bool // no new acquisitions
	stopping  bool // environments are being shut down; new ones are killed
}

// grant is what a waiting request receives: an environment, a permit to
// start one, or an error.
type grant struct {
	env   *environment
	spawn bool
	err   error
}

type waiter struct{ ch chan grant }

func newPool(fn *function, limit int, idleTimeout time.Duration) *pool {
	return &pool{fn: fn, limit: limit, idleTimeout: idleTimeout, all: make(map[*environment]struct{})}
}

// acquire returns an environment reserved for c. When none is free and the
// limit is reached it waits, first come first served, until one is free or
// ctx is done; then it fails with invoke.ErrThrottled. spawned reports a new
// environment, which has c queued already; otherwise the caller submits c.
func (p *pool) acquire(ctx context.Context, c *call) (e *environment, spawned bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		e := p.idle[n-1]
		p.idle = p.idle[:n-1]
		e.idle = false
		e.idleTimer.Stop()
		p.mu.Unlock()
		return e, false, nil
	}
	// An environment that has answered will be free within microseconds;
	// wait for it rather than start another, unless earlier waiters claim
	// all of them.
	if p.finishing <= len(p.waiters) && p.total < p.limit {
		p.total++
		p.mu.Unlock()
		e, err := p.start(c)
		return e, err == nil, err
	}
	w := &waiter{ch: make(chan grant, 1)}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	select {
	case g := <-w.ch:
		return p.take(g, c)
	case <-ctx.Done():
	}
	p.mu.Lock()
	if i := slices.Index(p.waiters, w); i >= 0 {
		p.waiters = slices.Delete(p.waiters, i, i+1)
		p.mu.Unlock()
		p.fn.stats.throttles.Add(1)
		return nil, false, fmt.Errorf("%w: %w", invoke.ErrThrottled, context.Cause(ctx))
	}
	p.mu.Unlock()
	// Granted while giving up: pass it on.
	g := <-w.ch
	p.giveBack(g)
	p.fn.stats.throttles.Add(1)
	return nil, false, fmt.Errorf("%w: %w", invoke.ErrThrottled, context.Cause(ctx))
}

func (p *pool) take(g grant, c *call) (*environment, bool, error) {
	switch {
	case g.err != nil:
		return nil, false, g.err
	case g.spawn:
		e, err := p.start(c)
		return e, err == nil, err
	default:
		return g.env, false, nil
	}
}

// giveBack returns a grant its waiter no longer wants.
func (p *pool) giveBack(g grant) {
	switch {
	case g.env != nil:
		p.release(g.env, false)
	case g.spawn:
		p.mu.Lock()
		p.total--
		p.grantLocked()
		p.mu.Unlock()
	}
}

// start spawns an environment for c whose slot (total) is already counted.
func (p *pool) start(c *call) (*environment, error) {
	e, err := p.fn.spawn(c)
	if err != nil {
		p.mu.Lock()
		p.total--
		p.grantLocked()
		p.mu.Unlock()
		return nil, err
	}
	return e, nil
}

// register adds a new environment whose process has started, before its
// goroutines start. It reports false when the pool is stopping; the caller
// then kills the process.
func (p *pool) register(e *environment) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.idleTimer = time.AfterFunc(p.idleTimeout, func() { p.reap(e) })
	e.idleTimer.Stop()
	p.all[e] = struct{}{}
	return !p.stopping
}

// addFinishing counts an environment that answered its invocation.
func (p *pool) addFinishing() {
	p.mu.Lock()
	p.finishing++
	p.mu.Unlock()
}

// finishedLocked counts down an environment that was finishing.
func (p *pool) finishedLocked() {
	p.finishing--
	if p.finishing == 0 && p.finished != nil {
		close(p.finished)
		p.finished = nil
	}
}

// awaitFinishing waits until every environment that answered has polled
// again, or ctx is done.
func (p *pool) awaitFinishing(ctx context.Context) {
	p.mu.Lock()
	if p.finishing == 0 {
		p.mu.Unlock()
		return
	}
	if p.finished == nil {
		p.finished = make(chan struct{})
	}
	ch := p.finished
	p.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// release makes e available again: to the first waiter, else as idle.
func (p *pool) release(e *environment, wasFinishing bool) {
	p.mu.Lock()
	if wasFinishing {
		p.finishedLocked()
	}
	if e.discarded || p.closed {
		p.mu.Unlock()
		return
	}
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = slices.Delete(p.waiters, 0, 1)
		p.mu.Unlock()
		w.ch <- grant{env: e}
		return
	}
	e.idle = true
	e.idleSince = time.Now()
	p.idle = append(p.idle, e)
	e.idleTimer.Reset(p.idleTimeout)
	p.mu.Unlock()
}

// reap retires e if it has been idle for idleTimeout.
func (p *pool) reap(e *environment) {
	p.mu.Lock()
	if !e.idle || time.Since(e.idleSince) < p.idleTimeout {
		p.mu.Unlock()
		return
	}
	if i := slices.Index(p.idle, e); i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
	}
	e.idle = false
	p.mu.Unlock()
	e.fn.rt.logger.Info("environment reaped", "function", e.fn.cfg.Name, "env", e.id, "pid", e.pid,
		"idle_timeout", p.idleTimeout)
	e.kill(killIdle)
}

// discard forgets an environment whose process is gone and lets a waiter
// start a replacement.
func (p *pool) discard(e *environment, wasFinishing bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if wasFinishing {
		p.finishedLocked()
	}
	if e.discarded {
		return
	}
	e.discarded = true
	delete(p.all, e)
	p.total--
	if e.idle {
		if i := slices.Index(p.idle, e); i >= 0 {
			p.idle = slices.Delete(p.idle, i, i+1)
		}
		e.idle = false
	}
	if e.idleTimer != nil {
		e.idleTimer.Stop()
	}
	p.grantLocked()
}

// grantLocked lets the first waiter start an environment when there is room
// and no finishing environment will serve it.
func (p *pool) grantLocked() {
	if p.closed || len(p.waiters) <= p.finishing || p.total >= p.limit {
		return
	}
	w := p.waiters[0]
	p.waiters = slices.Delete(p.waiters, 0, 1)
	p.total++
	w.ch <- grant{spawn: true}
}

// close stops handing out environments; waiting requests fail with
// ErrClosed.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	ws := p.waiters
	p.waiters = nil
	for _, e := range p.idle {
		e.idle = false
		e.idleTimer.Stop()
	}
	p.idle = nil
	p.mu.Unlock()
	for _, w := range ws {
		w.ch <- grant{err: ErrClosed}
	}
}

// stop marks the pool stopping and returns every live environment.
func (p *pool) stop() []*environment {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopping = true
	envs := make([]*environment, 0, len(p.all))
	for e := range p.all {
		envs = append(envs, e)
	}
	return envs
}

// pids lists the processes of the environments that have one.
func (p *pool) pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for e := range p.all {
		pids = append(pids, e.pid) // set before register

	}
	return pids
}

// stats fills the pool fields of s.
func (p *pool) stats(s *FunctionStats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.Environments = p.total
	s.Idle = len(p.idle)
	s.Busy = p.total - len(p.idle)
	s.Waiting = len(p.waiters)
}
