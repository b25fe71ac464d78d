package esm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/questlog/questlog/local/internal/kafkalog"
	"github.com/questlog/questlog/local/invoke"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReplayOptions configure Replay.
type ReplayOptions struct {
	Options
	// Progress, if set, is called after every settled batch (serially).
	Progress func(ReplayProgress)
}

// ReplayProgress reports how far a replay is.
type ReplayProgress struct {
	RecordsDone  int64 // offsets covered so far, delivered or filtered
	RecordsTotal int64 // offsets between the earliest and latest at the start
	Batches      int64 // successful invocations
	Invoked      int64 // records delivered
	Filtered     int64
	Errors       int64 // failed invocation attempts
}

// ReplaySummary is the result of a replay.
type ReplaySummary struct {
	Partitions map[int32]PartitionReplay
	Records    int64 // offsets covered (RecordsDone at the end)
	Invoked    int64 // records delivered to the function
	Filtered   int64
	Oversized  int64
	Batches    int64
	Errors     int64 // failed invocation attempts (each retried)
	Duration   time.Duration
}

// PartitionReplay is one partition's part of a replay: offsets [Start, End).
type PartitionReplay struct {
	Start, End int64
	Done       int64 // offsets covered
	Invoked    int64
	Filtered   int64
	Oversized  int64
	Batches    int64
}

// Replay is the batch counterpart of Run: it snapshots the earliest and
// latest offsets of every partition of m.Topic, then invokes m.Function for
// every record in between, in batches of m.BatchSize (with the same payload
// format, 6 MB limit, FilterPatterns and retries as Run; the batching window
// does not apply, a batch is cut only by BatchSize, the payload limit or the
// end of the partition). Partitions are replayed concurrently, each in
// offset order. Replay reads without a consumer group and commits nothing,
// so the live mapping's group is not disturbed.
//
// It returns when every partition reached its snapshot end, or with ctx's
// error (and the partial summary) when ctx is cancelled; a batch being
// invoked then finishes within opts.DrainTimeout.
//
// Replay assumes a plain topic: if the newest offsets of a partition hold
// only transaction markers (transactional producers), it cannot see the end
// and runs until ctx is cancelled.
func Replay(ctx context.Context, m Mapping, inv invoke.Invoker, opts ReplayOptions) (ReplaySummary, error) {
	started := time.Now()
	if err := m.Validate(); err != nil {
		return ReplaySummary{}, err
	}
	if inv == nil {
		return ReplaySummary{}, errors.New("esm: nil invoker")
	}
	filter, err := compileFilters(m.FilterPatterns)
	if err != nil {
		return ReplaySummary{}, err
	}
	log := opts.logger().With("function", m.Function, "topic", m.Topic, "replay", true)

	// Snapshot [start, end) per partition.
	admCl, err := kgo.NewClient(kgo.SeedBrokers(m.Brokers...))
	if err != nil {
		return ReplaySummary{}, fmt.Errorf("esm: replay: %w", err)
	}
	adm := kadm.NewClient(admCl)
	starts, err := adm.ListStartOffsets(ctx, m.Topic)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		ends, err = adm.ListEndOffsets(ctx, m.Topic)
		if err == nil {
			err = ends.Error()
		}
	}
	admCl.Close()
	if err != nil {
		return ReplaySummary{}, fmt.Errorf("esm: replay: list offsets of topic %q: %w", m.Topic, err)
	}

	rp := &replay{
		opts: opts,
		sum:  ReplaySummary{Partitions: map[int32]PartitionReplay{}},
	}
	consume := map[int32]kgo.Offset{}
	for p, s := range starts[m.Topic] {
		e, ok := ends.Lookup(m.Topic, p)
		if !ok {
			continue
		}
		pr := PartitionReplay{Start: s.Offset, End: e.Offset}
		rp.sum.Partitions[p] = pr
		rp.total += max(0, pr.End-pr.Start)
		if pr.End > pr.Start {
			consume[p] = kgo.NewOffset().At(pr.Start)
		}
	}
	log.Info("replay started", "records", rp.total, "partitions", len(rp.sum.Partitions))
	if len(consume) == 0 {
		rp.sum.Duration = time.Since(started)
		return rp.sum, nil
	}

	var cl *kgo.Client
	cfg := &workerConfig{
		function:   m.Function,
		batchSize:  m.batchSize(),
		fillUntil:  true,
		filter:     filter,
		prefix:     payloadPrefix(m.bootstrapServers()),
		maxPayload: invoke.MaxPayloadBytes,
		inv:        inv,
		opts:       opts.Options,
		log:        log,
		stats:      opts.Stats,
		failed:     rp.failed,
		commit:     func(context.Context, int32, int64, int32) error { return nil },
		pause:      func(p int32) { cl.PauseFetchPartitions(map[string][]int32{m.Topic: {p}}) },
		resume: func(p int32) {
			// A partition that reached its end stays paused.
			if !rp.ended(p) {
				cl.ResumeFetchPartitions(map[string][]int32{m.Topic: {p}})
			}
		},
	}
	userOnBatch := opts.OnBatch
	cfg.opts.OnBatch = func(b BatchInfo) {
		rp.settled(b)
		if userOnBatch != nil {
			userOnBatch(b)
		}
	}
	cl, err = kgo.NewClient(
		kgo.SeedBrokers(m.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{m.Topic: consume}),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.WithLogger(kafkalog.Client(log)),
	)
	if err != nil {
		return ReplaySummary{}, fmt.Errorf("esm: replay: %w", err)
	}
	defer cl.Close()

	workers := map[int32]*worker{}
	for p := range consume {
		workers[p] = newWorker(cfg, m.Topic, p)
	}
	allDone := make(chan struct{})
	go func() {
		for _, w := range workers {
			<-w.done
		}
		close(allDone)
	}()

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go func() {
		select {
		case <-allDone:
			stopPolling()
		case <-pollCtx.Done():
		}
	}()
	for pollCtx.Err() == nil {
		fs := cl.PollRecords(pollCtx, maxPollRecords)
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			w, ok := workers[fp.Partition]
			if !ok || rp.ended(fp.Partition) || len(fp.Records) == 0 {
				return
			}
			end := rp.sum.Partitions[fp.Partition].End
			recs := fp.Records
			if i := slices.IndexFunc(recs, func(r *kgo.Record) bool { return r.Offset >= end }); i >= 0 {
				recs = recs[:i]
			}
			w.enqueue(recs)
			if len(fp.Records) > len(recs) || (len(recs) > 0 && recs[len(recs)-1].Offset >= end-1) {
				rp.setEnded(fp.Partition)
				cl.PauseFetchPartitions(map[string][]int32{m.Topic: {fp.Partition}})
				w.endInput()
			}
		})
	}

	select {
	case <-allDone:
	default:
		// Cancelled: stop the workers; in-flight batches may finish.
		for _, w := range workers {
			w.stop()
		}
		<-allDone
	}
	sum := rp.summary()
	sum.Duration = time.Since(started)
	if err := ctx.Err(); err != nil && sum.Records < rp.total {
		log.Warn("replay cancelled", "done", sum.Records, "total", rp.total)
		return sum, fmt.Errorf("esm: replay cancelled after %d of %d records: %w", sum.Records, rp.total, err)
	}
	log.Info("replay finished", "records", sum.Records, "invoked", sum.Invoked, "filtered", sum.Filtered,
		"batches", sum.Batches, "errors", sum.Errors, "duration", sum.Duration)
	return sum, nil
}

type replay struct {
	opts  ReplayOptions
	total int64

	mu   sync.Mutex
	sum  ReplaySummary
	ends map[int32]bool // partitions whose input ended
}

func (rp *replay) ended(p int32) bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.ends[p]
}

func (rp *replay) setEnded(p int32) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.ends == nil {
		rp.ends = map[int32]bool{}
	}
	rp.ends[p] = true
}

func (rp *replay) failed() {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.sum.Errors++
	rp.progressLocked()
}

func (rp *replay) settled(b BatchInfo) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	pr := rp.sum.Partitions[b.Partition]
	pr.Done = b.NextOffset - pr.Start
	pr.Invoked += int64(b.Records)
	pr.Filtered += int64(b.Filtered)
	pr.Oversized += int64(b.Oversized)
	if b.Records > 0 {
		pr.Batches++
		rp.sum.Batches++
	}
	rp.sum.Partitions[b.Partition] = pr
	rp.sum.Invoked += int64(b.Records)
	rp.sum.Filtered += int64(b.Filtered)
	rp.sum.Oversized += int64(b.Oversized)
	rp.progressLocked()
}

func (rp *replay) progressLocked() {
	if rp.opts.Progress == nil {
		return
	}
	var done int64
	for _, p := range rp.sum.Partitions {
		done += p.Done
	}
	rp.opts.Progress(ReplayProgress{
		RecordsDone: done, RecordsTotal: rp.total,
		Batches: rp.sum.Batches, Invoked: rp.sum.Invoked, Filtered: rp.sum.Filtered, Errors: rp.sum.Errors,
	})
}

func (rp *replay) summary() ReplaySummary {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	s := rp.sum
	s.Partitions = maps.Clone(rp.sum.Partitions)
	s.Records = 0
	for _, p := range s.Partitions {
		s.Records += p.Done
	}
	return s
}
