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
// across connections. It is counted in units, one token per unit; a
// request takes its whole share in one turn, so two requests never split
// what is free between them and both wait.
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

// acquire waits, until ctx ends, for n bytes of the budget.
func (b *bodyBudget) acquire(ctx context.Context, n int64) (release func(), err error) {
	units := min(int((n+budgetUnit-1)/budgetUnit), cap(b.tokens))
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, errBusy
	}
	defer func() { <-b.turn }()
	for got := 0; got < units; got++ {
		select {
		case <-b.tokens:
		case <-ctx.Done():
			b.put(got)
			return nil, errBusy
		}
	}
	return func() { b.put(units) }, nil
}

func (b *bodyBudget) put(units int) {
	for range units {
		b.tokens <- struct{}{}
	}
}

var bodyPool = sync.Pool{New: func() any { return new([]byte) }}

// readBody reads r's body into a buffer of exactly its Content-Length, or,
// for a body of unknown length, one that grows to at most maxBodyBytes+1:
// never more than the limit per request. Give the buffer back with
// putBody.
func readBody(r *http.Request) (*[]byte, error) {
	buf := bodyPool.Get().(*[]byte)
	b := (*buf)[:0]
	if n := r.ContentLength; n >= 0 {
		if n > maxBodyBytes {
			putBody(buf)
			return nil, errBodyTooLarge
		}
		if int64(cap(b)) < n {
			b = make([]byte, 0, n)
		}
		b = b[:n]
		_, err := io.ReadFull(r.Body, b)
		*buf = b
		return buf, err
	}
	for {
		if len(b) == cap(b) {
			if len(b) > maxBodyBytes {
				*buf = b
				putBody(buf)
				return nil, errBodyTooLarge
			}
			grown := make([]byte, len(b), min(max(2*cap(b), 64<<10), maxBodyBytes+1))
			copy(grown, b)
			b = grown
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			*buf = b
			return buf, err
		}
	}
	if len(b) > maxBodyBytes {
		*buf = b
		putBody(buf)
		return nil, errBodyTooLarge
	}
	*buf = b
	return buf, nil
}

func putBody(buf *[]byte) {
	if cap(*buf) <= maxPooledBufferSize {
		*buf = (*buf)[:0]
		bodyPool.Put(buf)
	}
}
