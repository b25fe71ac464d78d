package esm

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/questlog/questlog/local/invoke"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A partition worker turns the records of one partition into batches,
// invokes the function with one batch at a time (retrying a failed batch
// until it succeeds or the worker is stopped) and reports every settled
// batch to commit. Run and Replay share it; they differ in where records come
// from and what commit does.

// workerConfig is shared by the workers of one mapping.
type workerConfig struct {
	function   string
	batchSize  int
	window     time.Duration // 0: invoke as soon as no more records are at hand
	fillUntil  bool          // Replay: ignore the window, fill batches until BatchSize or end of input
	filter     *filterSet
	prefix     []byte // payloadPrefix
	maxPayload int
	inv        invoke.Invoker
	opts       Options
	log        *slog.Logger
	stats      *Stats
	failed     func() // optional: called after each failed attempt

	// commit records that every offset of the partition below next is done.
	commit func(ctx context.Context, partition int32, next int64, epoch int32) error
	// pause and resume fetching a partition (backpressure); may be nil.
	pause, resume func(partition int32)
}

// Backpressure: a worker pauses fetching for its partition when this much is
// queued and not yet taken into a batch.
const pauseBytes = 2 * invoke.MaxPayloadBytes

func (c *workerConfig) pauseRecords() int { return max(2*c.batchSize, 1000) }

type worker struct {
	cfg       *workerConfig
	topic     string
	partition int32
	head      []byte // recordHead
	open      []byte // payloadPrefix + `"<topic>-<p>":[`
	log       *slog.Logger

	mu          sync.Mutex
	queue       []*kgo.Record
	queuedBytes int
	paused      bool
	inputDone   bool
	wake        chan struct{}

	stopOnce     sync.Once
	stopCh       chan struct{}
	invokeCtx    context.Context // cancelled DrainTimeout after stop
	cancelInvoke context.CancelFunc
	done         chan struct{}

	// Owned by the run goroutine.
	pending       []*kgo.Record
	doneNext      int64 // next offset after the last settled batch, -1 if none
	doneEpoch     int32
	committedNext int64
	lastLen       int // size of the previous payload, to size the next buffer
}

func newWorker(cfg *workerConfig, topic string, partition int32) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{
		cfg:           cfg,
		topic:         topic,
		partition:     partition,
		head:          recordHead(topic, partition),
		log:           cfg.log.With("partition", partition),
		wake:          make(chan struct{}, 1),
		stopCh:        make(chan struct{}),
		invokeCtx:     ctx,
		cancelInvoke:  cancel,
		done:          make(chan struct{}),
		doneNext:      -1,
		committedNext: -1,
	}
	w.open = appendGroupOpen(append([]byte(nil), cfg.prefix...), topic, partition)
	go w.run()
	return w
}

// enqueue hands polled records to the worker; it never blocks for long.
func (w *worker) enqueue(rs []*kgo.Record) {
	w.mu.Lock()
	w.queue = append(w.queue, rs...)
	for _, r := range rs {
		w.queuedBytes += len(r.Key) + len(r.Value)
	}
	if !w.paused && w.cfg.pause != nil && (len(w.queue) >= w.cfg.pauseRecords() || w.queuedBytes >= pauseBytes) {
		w.paused = true
		w.cfg.pause(w.partition)
	}
	w.mu.Unlock()
	w.signal()
}

// endInput tells the worker no more records will come (Replay): it flushes
// what it holds and exits.
func (w *worker) endInput() {
	w.mu.Lock()
	w.inputDone = true
	w.mu.Unlock()
	w.signal()
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) take() ([]*kgo.Record, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue, w.queuedBytes = nil, 0
	if w.paused {
		w.paused = false
		w.cfg.resume(w.partition)
	}
	return q, w.inputDone
}

// stop asks the worker to stop: no new batch is invoked, a batch in flight
// may finish for up to DrainTimeout, and a successful one is committed.
func (w *worker) stop() {
	w.stopOnce.Do(func() {
		close(w.stopCh)
		go func() {
			t := time.NewTimer(w.cfg.opts.drainTimeout())
			defer t.Stop()
			select {
			case <-t.C:
				w.log.Warn("in-flight invocation did not finish within the drain timeout; cancelling it",
					"drain_timeout", w.cfg.opts.drainTimeout())
				w.cancelInvoke()
			case <-w.done:
			}
		}()
		w.mu.Lock()
		if w.paused {
			w.paused = false
			w.cfg.resume(w.partition)
		}
		w.mu.Unlock()
	})
}

func (w *worker) stopped() bool {
	select {
	case <-w.stopCh:
		return true
	default:
		return false
	}
}

func (w *worker) run() {
	defer close(w.done)
	defer w.cancelInvoke()
	defer w.finalCommit()
	for !w.stopped() {
		b := w.gather()
		if b == nil || !w.settle(b) {
			return
		}
	}
}

// batch is a batch being gathered.
type batch struct {
	buf       []byte // payload so far: prefix, group open, records
	n         int    // records in buf
	filtered  int
	oversized int
	first     int64 // first covered offset
	next      int64 // offset after the last covered record
	epoch     int32 // leader epoch of the last covered record
	started   time.Time
}

func (b *batch) covered() bool { return b.started != (time.Time{}) }

func (b *batch) cover(r *kgo.Record) {
	if !b.covered() {
		b.started = time.Now()
		b.first = r.Offset
	}
	b.next = r.Offset + 1
	b.epoch = r.LeaderEpoch
}

type addResult uint8

const (
	added addResult = iota
	skipped
	full
)

func (w *worker) add(b *batch, r *kgo.Record) addResult {
	if !w.cfg.filter.match(r.Value) {
		b.cover(r)
		b.filtered++
		return skipped
	}
	mark := len(b.buf)
	if b.n > 0 {
		b.buf = append(b.buf, ',')
	}
	b.buf = appendRecord(b.buf, w.head, r)
	if len(b.buf)+len("]"+payloadSuffix) > w.cfg.maxPayload {
		size := len(b.buf) - mark
		b.buf = b.buf[:mark]
		if b.n > 0 {
			return full
		}
		w.log.Error("record too large for a Lambda payload; committing it without invoking the function",
			"offset", r.Offset, "encoded_bytes", size,
			"payload_limit", w.cfg.maxPayload)
		b.cover(r)
		b.oversized++
		return skipped
	}
	b.n++
	b.cover(r)
	return added
}

// gather builds the next batch; nil when stopped or when the input ended
// with nothing left.
func (w *worker) gather() *batch {
	b := &batch{buf: make([]byte, 0, max(w.lastLen+w.lastLen/8, len(w.open)+4096))}
	b.buf = append(b.buf, w.open...)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		for len(w.pending) > 0 {
			r := w.pending[0]
			if w.add(b, r) == full {
				return b
			}
			w.pending[0] = nil
			w.pending = w.pending[1:]
			if b.n >= w.cfg.batchSize {
				return b
			}
		}
		recs, inputDone := w.take()
		if len(recs) > 0 {
			w.pending = recs
			if b.covered() && !w.cfg.fillUntil && w.cfg.window > 0 && time.Since(b.started) >= w.cfg.window {
				return b
			}
			continue
		}
		var timeout <-chan time.Time
		switch {
		case inputDone:
			if b.covered() {
				return b
			}
			return nil
		case !b.covered() || w.cfg.fillUntil:
			// wait for records
		case w.cfg.window <= 0:
			return b
		default:
			left := w.cfg.window - time.Since(b.started)
			if left <= 0 {
				return b
			}
			if timer == nil {
				timer = time.NewTimer(left)
			} else {
				timer.Reset(left)
			}
			timeout = timer.C
		}
		select {
		case <-w.wake:
		case <-timeout:
			return b
		case <-w.stopCh:
			return nil
		}
	}
}

// settle invokes the batch until it succeeds and commits it; false when the
// worker was stopped first (nothing committed for the batch).
func (w *worker) settle(b *batch) bool {
	info := BatchInfo{
		Topic: w.topic, Partition: w.partition,
		FirstOffset: b.first, NextOffset: b.next,
		Records: b.n, Filtered: b.filtered, Oversized: b.oversized,
	}
	if b.n > 0 {
		if w.stopped() {
			return false
		}
		payload := append(b.buf, "]"+payloadSuffix...)
		w.lastLen = len(payload)
		info.PayloadBytes = len(payload)
		for attempt := 1; ; attempt++ {
			info.Attempts = attempt
			err := w.invoke(payload)
			if err == nil {
				break
			}
			if w.invokeCtx.Err() != nil {
				w.log.Warn("invocation abandoned at shutdown; the batch will be delivered again",
					"first_offset", b.first, "records", b.n)
				return false
			}
			w.cfg.stats.failedAttempt()
			if w.cfg.failed != nil {
				w.cfg.failed()
			}
			delay := w.cfg.opts.backoff(attempt)
			attrs := []any{"first_offset", b.first, "last_offset", b.next - 1,
				"records", b.n, "attempt", attempt, "retry_in", delay}
			var fe *invoke.FunctionError
			if errors.As(err, &fe) {
				attrs = append(attrs, "error_type", fe.Type, "error_message", fe.Message)
			} else {
				attrs = append(attrs, "error_type", "InvokeError", "error_message", err.Error())
			}
			w.log.Error("function failed for batch; retrying the same batch", attrs...)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-w.stopCh:
				t.Stop()
				w.log.Info("stopped while retrying a failed batch; it will be delivered again",
					"first_offset", b.first, "attempt", attempt)
				return false
			}
		}
	}
	w.cfg.stats.settled(info)
	w.doneNext, w.doneEpoch = b.next, b.epoch
	w.commitDone(w.invokeCtx)
	if w.cfg.opts.OnBatch != nil {
		w.cfg.opts.OnBatch(info)
	}
	return true
}

// invoke runs one attempt; the error is a *invoke.FunctionError when the
// function ran and failed.
func (w *worker) invoke(payload []byte) error {
	res, err := w.cfg.inv.Invoke(w.invokeCtx, invoke.Request{Function: w.cfg.function, Payload: payload})
	switch {
	case err != nil:
		return err
	case res == nil:
		return errors.New("invoker returned no result")
	case res.Error != nil:
		return res.Error
	}
	return nil
}

func (w *worker) commitDone(ctx context.Context) {
	if w.doneNext <= w.committedNext {
		return
	}
	if err := w.cfg.commit(ctx, w.partition, w.doneNext, w.doneEpoch); err != nil {
		w.log.Warn("offset commit failed; the next commit will cover it",
			"next_offset", w.doneNext, "error", err)
		return
	}
	w.committedNext = w.doneNext
	w.cfg.stats.committedOffset(w.partition, w.doneNext)
}

// finalCommit retries a commit that failed, before the worker exits.
func (w *worker) finalCommit() {
	if w.doneNext <= w.committedNext {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.commitDone(ctx)
}
