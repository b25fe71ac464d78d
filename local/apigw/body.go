package apigw

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/questlog/questlog/local/invoke"
)

// maxBodyBytes is the largest request body the gateway reads: the HTTP
// API's 10 MB limit, or, lower, Lambda's 6 MB invoke limit, since the
// event holds the body and a larger one could never be invoked.
const maxBodyBytes = min(MaxRequestBodyBytes, invoke.MaxPayloadBytes)

var (
	errBodyTooLarge = errors.New("request body too large")
	errBusy         = errors.New("request bodies in memory at their limit")
)

// bodyBudget bounds the bytes of request bodies held in memory at once,
// across connections. It is counted in units, one token per unit. A body's
// buffer grows only once the bytes it holds have arrived, and each growth
// is paid for first, so a client that declares a large body and sends it
// slowly, or not at all, holds only what it sent. A growth takes its units
// in one turn, so two requests never split what is free between them.
type bodyBudget struct {
	turn   chan struct{}
	tokens chan struct{}
}

const budgetUnit = 64 << 10

func newBodyBudget(bytes int64) *bodyBudget {
	units := max(1, int(bytes/budgetUnit))
	b := &bodyBudget{turn: make(chan struct{}, 1), tokens: make(chan struct{}, units)}
	for range units {
		b.tokens <- struct{}{}
	}
	return b
}

// unitsFor is the number of units that pay for n bytes.
func unitsFor(n int) int { return (n + budgetUnit - 1) / budgetUnit }

// acquire waits, until ctx ends, for n units.
func (b *bodyBudget) acquire(ctx context.Context, n int) error {
	n = min(n, cap(b.tokens))
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return errBusy
	}
	defer func() { <-b.turn }()
	for got := 0; got < n; got++ {
		select {
		case <-b.tokens:
		case <-ctx.Done():
			b.put(got)
			return errBusy
		}
	}
	return nil
}

func (b *bodyBudget) put(units int) {
	for range units {
		b.tokens <- struct{}{}
	}
}

var bodyPool = sync.Pool{New: func() any { return new([]byte) }}

// body is a request body read into memory paid for from a bodyBudget.
type body struct {
	budget *bodyBudget
	buf    *[]byte
	held   int // units taken from budget
}

// payFor makes the units held cover capacity bytes, waiting until ctx
// ends.
func (b *body) payFor(ctx context.Context, capacity int) error {
	need := unitsFor(capacity) - b.held
	if need <= 0 {
		return nil
	}
	if err := b.budget.acquire(ctx, need); err != nil {
		return err
	}
	b.held += need
	return nil
}

// release gives the buffer back to the pool and the units to the budget.
func (b *body) release() {
	if b.buf != nil {
		putBody(b.buf)
		b.buf = nil
	}
	b.budget.put(b.held)
	b.held = 0
}

// readBody reads r's body into a buffer that is paid for from budget
// (waiting until ctx ends) only as bytes arrive: a window of budgetUnit
// first, doubled each time it fills, never beyond maxBodyBytes+1, nor
// beyond the body's Content-Length. A pooled buffer's spare capacity is
// used within the window only, so a client that declares a large body and
// sends nothing holds one unit. The caller releases the result, also on
// error.
func readBody(ctx context.Context, budget *bodyBudget, r *http.Request) (*body, error) {
	limit := maxBodyBytes + 1
	if n := r.ContentLength; n >= 0 {
		if n > maxBodyBytes {
			return &body{budget: budget}, errBodyTooLarge
		}
		limit = int(n)
	}
	bd := &body{budget: budget, buf: bodyPool.Get().(*[]byte)}
	b := (*bd.buf)[:0]
	for len(b) < limit {
		window := min(bd.held*budgetUnit, limit)
		if len(b) == window {
			if err := bd.payFor(ctx, min(max(2*len(b), budgetUnit), limit)); err != nil {
				*bd.buf = b
				return bd, err
			}
			window = min(bd.held*budgetUnit, limit)
		}
		if cap(b) < window {
			next := make([]byte, len(b), window)
			copy(next, b)
			b = next
		}
		n, err := r.Body.Read(b[len(b):window])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			if r.ContentLength >= 0 && len(b) < limit {
				err = io.ErrUnexpectedEOF
			} else {
				break
			}
		}
		if err != nil {
			*bd.buf = b
			return bd, err
		}
	}
	*bd.buf = b
	if len(b) > maxBodyBytes {
		return bd, errBodyTooLarge
	}
	return bd, nil
}

func putBody(buf *[]byte) {
	if cap(*buf) <= maxPooledBufferSize {
		*buf = (*buf)[:0]
		bodyPool.Put(buf)
	}
}
