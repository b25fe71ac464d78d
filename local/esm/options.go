package esm

import (
	"log/slog"
	"math/rand/v2"
	"time"
)

// Defaults for Options.
const (
	DefaultRetryInitial = 100 * time.Millisecond
	DefaultRetryMax     = 30 * time.Second
	DefaultDrainTimeout = 30 * time.Second
)

// Options tune how Run and Replay operate (not what the mapping means).
type Options struct {
	// Logger receives the mapping's logs. Default: slog.Default().
	Logger *slog.Logger

	// RetryInitial is the delay before the first retry of a failed batch;
	// it doubles per attempt up to RetryMax, with jitter (each delay is
	// drawn from [d/2, d]). Defaults: 100ms and 30s.
	RetryInitial time.Duration
	RetryMax     time.Duration

	// DrainTimeout bounds how long a stopping mapping (Run's context
	// cancelled, partitions revoked) waits for in-flight invocations
	// before cancelling their context. Keep it below the group's rebalance
	// timeout (60s). Default: 30s.
	DrainTimeout time.Duration

	// Stats, if set, is updated as the mapping runs; read it with
	// Stats.Snapshot at any time. One Stats per mapping.
	Stats *Stats

	// OnBatch, if set, is called after each batch is settled: invoked
	// successfully, or filtered out entirely. It runs on the partition's
	// worker goroutine and must not block.
	OnBatch func(BatchInfo)
}

// BatchInfo describes a settled batch.
type BatchInfo struct {
	Topic     string
	Partition int32
	// FirstOffset and NextOffset delimit the offsets the batch covered,
	// including filtered and oversized records; NextOffset is what was
	// committed.
	FirstOffset, NextOffset int64
	Records                 int // records sent to the function (0: none were)
	Filtered                int
	Oversized               int
	PayloadBytes            int
	Attempts                int // invocations it took (0 when nothing was sent)
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

func (o Options) retryInitial() time.Duration {
	if o.RetryInitial > 0 {
		return o.RetryInitial
	}
	return DefaultRetryInitial
}

func (o Options) retryMax() time.Duration {
	if o.RetryMax > 0 {
		return o.RetryMax
	}
	return DefaultRetryMax
}

func (o Options) drainTimeout() time.Duration {
	if o.DrainTimeout > 0 {
		return o.DrainTimeout
	}
	return DefaultDrainTimeout
}

// backoff returns the delay after the given failed attempt (1-based).
func (o Options) backoff(attempt int) time.Duration {
	d, limit := o.retryInitial(), o.retryMax()
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(d-half+1)
}
