package esm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/questlog/questlog/local/internal/kafkalog"
	"github.com/questlog/questlog/local/invoke"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxPollRecords bounds one poll; the records are only queued to the
// partition workers, so the bound is about memory, not latency.
const maxPollRecords = 10000

// leaveTimeout bounds leaving the group at shutdown.
const leaveTimeout = 10 * time.Second

// Run runs the mapping until ctx is cancelled: it joins the consumer group
// m.GroupID(), invokes m.Function through inv with batches of records and
// commits their offsets once the function succeeded (see the package
// documentation for the rules). On cancellation it stops fetching, lets
// in-flight invocations finish (bounded by opts.DrainTimeout), commits what
// succeeded, leaves the group and returns nil. It returns an error only if
// the mapping is invalid or the client cannot be created.
func Run(ctx context.Context, m Mapping, inv invoke.Invoker, opts Options) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if inv == nil {
		return errors.New("esm: nil invoker")
	}
	filter, err := compileFilters(m.FilterPatterns)
	if err != nil {
		return err
	}
	log := opts.logger().With("function", m.Function, "topic", m.Topic, "group", m.GroupID())

	r := &runner{m: m, log: log, workers: map[int32]*worker{}, stats: opts.Stats}
	r.cfg = &workerConfig{
		function:   m.Function,
		batchSize:  m.batchSize(),
		window:     m.batchingWindow(),
		filter:     filter,
		prefix:     payloadPrefix(m.bootstrapServers()),
		maxPayload: invoke.MaxPayloadBytes,
		inv:        inv,
		opts:       opts,
		log:        log,
		stats:      opts.Stats,
		commit:     r.commit,
		pause:      r.pause,
		resume:     r.resume,
	}

	r.initGroupOffsets(ctx)

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(m.Brokers...),
		kgo.ConsumerGroup(m.GroupID()),
		kgo.ConsumeTopics(m.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(r.assigned),
		kgo.OnPartitionsRevoked(r.revoked),
		kgo.OnPartitionsLost(r.lost),
		kgo.ConsumeStartOffset(startOffset(m)),
		// Committed offsets that fell out of retention resume at the oldest
		// record, like an ESM whose records expired.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(fetchWait(m)),
		kgo.FetchMinBytes(fetchMinBytes(m)),
		kgo.WithLogger(kafkalog.Client(log)),
	)
	if err != nil {
		return fmt.Errorf("esm: create consumer: %w", err)
	}
	r.cl = cl
	log.Info("event source mapping started", "batch_size", r.cfg.batchSize, "batching_window", r.cfg.window,
		"starting_position", m.startingPosition(), "filters", len(m.FilterPatterns))

	r.poll(ctx)

	// Shutdown: stop every worker (in-flight invocations may finish and
	// commit), then leave the group. The final revoke finds no workers. The
	// leave is bounded so that a broker that is already gone does not hold
	// up the emulator's shutdown.
	r.stopWorkers(nil)
	leaveCtx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	if err := cl.LeaveGroupContext(leaveCtx); err != nil {
		log.Warn("could not leave the consumer group cleanly; the broker expires the member after its session timeout", "error", err)
	}
	cancel()
	cl.Close()
	log.Info("event source mapping stopped")
	return nil
}

type runner struct {
	m     Mapping
	cfg   *workerConfig
	log   *slog.Logger
	stats *Stats
	cl    *kgo.Client

	mu      sync.Mutex
	workers map[int32]*worker
}

func startOffset(m Mapping) kgo.Offset {
	switch m.startingPosition() {
	case Latest:
		return kgo.NewOffset().AtEnd()
	case AtTimestamp:
		return kgo.NewOffset().AfterMilli(m.StartingPositionTimestamp.UnixMilli())
	}
	return kgo.NewOffset().AtStart()
}

// initGroupOffsets fixes the starting position: for partitions of the topic
// without a committed offset in the group, it resolves StartingPosition to
// offsets and commits them. Partitions with commits keep them (the
// StartingPosition is then ignored, as in AWS). Failures are logged: the
// consumer then falls back to resolving StartingPosition itself when it is
// assigned the partitions.
func (r *runner) initGroupOffsets(ctx context.Context) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.m.Brokers...))
	if err != nil {
		r.log.Warn("cannot initialise the group's starting offsets", "error", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()

	committed, err := adm.FetchOffsetsForTopics(ctx, r.m.GroupID(), r.m.Topic)
	if errors.Is(err, kerr.GroupIDNotFound) {
		// A group that never existed (kfake says so; Kafka answers with
		// no offsets): nothing committed.
		committed, err = nil, nil
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		r.log.Warn("topic does not exist yet; the mapping waits for it", "starting_position", r.m.startingPosition())
		return
	}
	if err != nil {
		r.log.Warn("cannot read the group's committed offsets", "error", err)
		return
	}
	var listed kadm.ListedOffsets
	switch r.m.startingPosition() {
	case Latest:
		listed, err = adm.ListEndOffsets(ctx, r.m.Topic)
	case AtTimestamp:
		listed, err = adm.ListOffsetsAfterMilli(ctx, r.m.StartingPositionTimestamp.UnixMilli(), r.m.Topic)
	default:
		listed, err = adm.ListStartOffsets(ctx, r.m.Topic)
	}
	if err != nil {
		r.log.Warn("cannot resolve the starting position", "error", err)
		return
	}
	if e := listed.Error(); errors.Is(e, kerr.UnknownTopicOrPartition) {
		r.log.Warn("topic does not exist yet; the mapping waits for it", "starting_position", r.m.startingPosition())
		return
	}
	toCommit := kadm.Offsets{}
	listed.Each(func(l kadm.ListedOffset) {
		if l.Err != nil || l.Topic != r.m.Topic || l.Partition < 0 {
			return
		}
		if c, ok := committed.Lookup(l.Topic, l.Partition); ok && c.Err == nil && c.At >= 0 {
			return
		}
		toCommit.Add(kadm.Offset{Topic: l.Topic, Partition: l.Partition, At: l.Offset, LeaderEpoch: -1})
	})
	if len(toCommit) == 0 {
		return
	}
	resps, err := adm.CommitOffsets(ctx, r.m.GroupID(), toCommit)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		// Typically: another member of the group is active and already
		// owns the position.
		r.log.Warn("cannot commit the starting offsets; the consumer resolves the starting position itself", "error", err)
		return
	}
	r.log.Info("starting position resolved and committed", "starting_position", r.m.startingPosition(),
		"partitions", len(toCommit[r.m.Topic]))
}

// poll fetches and hands records to the partition workers until ctx ends.
func (r *runner) poll(ctx context.Context) {
	var lastErrLog time.Time
	for {
		fs := r.cl.PollRecords(ctx, maxPollRecords)
		if ctx.Err() != nil || fs.IsClientClosed() {
			r.cl.AllowRebalance()
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) || time.Since(lastErrLog) < 5*time.Second {
				return
			}
			lastErrLog = time.Now()
			r.log.Warn("fetch error", "fetch_topic", topic, "partition", p, "error", err)
		})
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Topic != r.m.Topic || len(p.Records) == 0 {
				return
			}
			r.stats.highWatermark(p.Partition, p.HighWatermark)
			r.worker(p.Partition).enqueue(p.Records)
		})
		// Rebalances (and their revoke callbacks) wait until here, so a
		// revoked partition's records are never queued after its worker
		// stopped.
		r.cl.AllowRebalance()
	}
}

func (r *runner) worker(p int32) *worker {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.workers[p]
	if !ok {
		w = newWorker(r.cfg, r.m.Topic, p)
		r.workers[p] = w
	}
	return w
}

// stopWorkers stops the workers of the given partitions (all when nil) and
// waits for them: in-flight invocations finish (bounded by DrainTimeout) and
// successful batches are committed before this returns.
func (r *runner) stopWorkers(ps []int32) {
	r.mu.Lock()
	var ws []*worker
	for p, w := range r.workers {
		if ps == nil || slices.Contains(ps, p) {
			ws = append(ws, w)
			delete(r.workers, p)
		}
	}
	r.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
	for _, w := range ws {
		<-w.done
	}
}

func (r *runner) assigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	if ps := m[r.m.Topic]; len(ps) > 0 {
		slices.Sort(ps)
		r.log.Info("partitions assigned", "partitions", ps)
		r.stats.setAssigned(ps, true)
	}
}

func (r *runner) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	if ps := m[r.m.Topic]; len(ps) > 0 {
		slices.Sort(ps)
		r.log.Info("partitions revoked; finishing in-flight batches and committing", "partitions", ps)
		r.stopWorkers(ps)
		r.stats.setAssigned(ps, false)
	}
}

func (r *runner) lost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	if ps := m[r.m.Topic]; len(ps) > 0 {
		slices.Sort(ps)
		r.log.Warn("partitions lost; their uncommitted batches will be delivered again", "partitions", ps)
		r.stopWorkers(ps)
		r.stats.setAssigned(ps, false)
	}
}

func (r *runner) commit(ctx context.Context, p int32, next int64, epoch int32) error {
	var rerr error
	r.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{r.m.Topic: {p: {Epoch: epoch, Offset: next}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				rerr = err
				return
			}
			for _, t := range resp.Topics {
				for _, pr := range t.Partitions {
					if err := kerr.ErrorForCode(pr.ErrorCode); err != nil {
						rerr = err
					}
				}
			}
		})
	return rerr
}

func (r *runner) pause(p int32) {
	r.cl.PauseFetchPartitions(map[string][]int32{r.m.Topic: {p}})
}

func (r *runner) resume(p int32) {
	r.cl.ResumeFetchPartitions(map[string][]int32{r.m.Topic: {p}})
}

// fetchWait and fetchMinBytes let the broker hold a fetch until about a
// batch of data is there or the batching window is over, as Lambda's
// pollers batch: without them every produced record would wake every
// mapping's consumer, which under load costs more than the invocations.
func fetchWait(m Mapping) time.Duration {
	if w := m.batchingWindow(); w > 0 && w < 500*time.Millisecond {
		return w
	}
	return 500 * time.Millisecond
}

func fetchMinBytes(m Mapping) int32 {
	if m.batchingWindow() <= 0 {
		return 1
	}
	// A low guess at a batch's size (256 bytes a record): the batch timer
	// still decides when to invoke; this only spares needless wake-ups.
	return int32(min(m.batchSize()*256, 1<<20))
}
