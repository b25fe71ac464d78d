package esm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/questlog/questlog/local/invoke"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Integration tests: a real kfake broker on a 127.0.0.1 port, real produce
// and consume, and fake Invokers that record what they are sent. Nothing is
// asserted on elapsed time; waits poll for a condition with a generous
// deadline.

const waitDeadline = 30 * time.Second

type cluster struct {
	addrs []string
	adm   *kadm.Client
	prod  *kgo.Client
}

func newCluster(t *testing.T, topics map[string]int, opts ...kfake.Opt) *cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)
	for name, p := range topics {
		opts = append(opts, kfake.SeedTopics(int32(p), name))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admCl.Close)
	prod, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(16<<20), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return &cluster{addrs: addrs, adm: kadm.NewClient(admCl), prod: prod}
}

func (c *cluster) produce(t *testing.T, rs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	if err := c.prod.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// produceValues writes values to one partition.
func (c *cluster) produceValues(t *testing.T, topic string, p int32, values ...string) {
	t.Helper()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}
	}
	c.produce(t, rs...)
}

func (c *cluster) committed(t *testing.T, group, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	os, err := c.adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return map[int32]int64{}
	}
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	out := map[int32]int64{}
	for p, o := range os[topic] {
		if o.Err == nil {
			out[p] = o.At
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitDeadline, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeInvoker decodes every payload with aws-lambda-go's events.KafkaEvent
// and records it. behave, if set, decides each attempt's outcome.
type fakeInvoker struct {
	t      *testing.T
	behave func(ctx context.Context, c *call) (*invoke.Result, error)

	mu       sync.Mutex
	calls    []*call
	inflight map[string]int
}

type call struct {
	n       int // 0-based index among all calls
	payload []byte
	ev      events.KafkaEvent
	ok      bool
}

// first returns the first record of the call (payloads are never empty).
func (c *call) first() events.KafkaRecord {
	for _, rs := range c.ev.Records {
		return rs[0]
	}
	return events.KafkaRecord{}
}

func (c *call) count() int {
	n := 0
	for _, rs := range c.ev.Records {
		n += len(rs)
	}
	return n
}

func newFake(t *testing.T, behave func(context.Context, *call) (*invoke.Result, error)) *fakeInvoker {
	return &fakeInvoker{t: t, behave: behave, inflight: map[string]int{}}
}

func (f *fakeInvoker) Invoke(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
	c := &call{payload: bytes.Clone(req.Payload)}
	if len(req.Payload) > invoke.MaxPayloadBytes {
		f.t.Errorf("payload of %d bytes exceeds the %d limit", len(req.Payload), invoke.MaxPayloadBytes)
	}
	if err := json.Unmarshal(req.Payload, &c.ev); err != nil {
		f.t.Errorf("events.KafkaEvent cannot decode the payload: %v", err)
		return nil, err
	}
	f.mu.Lock()
	c.n = len(f.calls)
	f.calls = append(f.calls, c)
	for k := range c.ev.Records {
		f.inflight[k]++
		if f.inflight[k] > 1 {
			f.t.Errorf("two batches of partition %s in flight at once", k)
		}
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		for k := range c.ev.Records {
			f.inflight[k]--
		}
		f.mu.Unlock()
	}()

	res, err := &invoke.Result{RequestID: strconv.Itoa(c.n), Payload: []byte("null")}, error(nil)
	if f.behave != nil {
		res, err = f.behave(ctx, c)
	}
	if err == nil && res != nil && res.Error == nil {
		f.mu.Lock()
		c.ok = true
		f.mu.Unlock()
	}
	return res, err
}

func (f *fakeInvoker) snapshot() []*call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*call, len(f.calls))
	for i, c := range f.calls {
		cc := *c
		out[i] = &cc
	}
	return out
}

// succeeded returns the successful calls in order.
func (f *fakeInvoker) succeeded() []*call {
	var out []*call
	for _, c := range f.snapshot() {
		if c.ok {
			out = append(out, c)
		}
	}
	return out
}

// delivered returns the records of successful calls per partition, in
// delivery order.
func (f *fakeInvoker) delivered() map[int64][]events.KafkaRecord {
	out := map[int64][]events.KafkaRecord{}
	for _, c := range f.succeeded() {
		for _, rs := range c.ev.Records {
			for _, r := range rs {
				out[r.Partition] = append(out[r.Partition], r)
			}
		}
	}
	return out
}

func (f *fakeInvoker) deliveredCount() int {
	n := 0
	for _, rs := range f.delivered() {
		n += len(rs)
	}
	return n
}

func decodeValue(t *testing.T, r events.KafkaRecord) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(r.Value)
	if err != nil {
		t.Fatalf("value of offset %d is not base64: %v", r.Offset, err)
	}
	return string(b)
}

// running is a Run in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startRun(t *testing.T, m Mapping, inv invoke.Invoker, opts Options) *running {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t, nil)
	}
	if opts.RetryInitial == 0 {
		opts.RetryInitial, opts.RetryMax = 5*time.Millisecond, 50*time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Run(ctx, m, inv, opts) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the Run and waits for it to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(waitDeadline):
			t.Fatal("Run did not return after cancellation")
		}
	})
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(t *testing.T, buf *logBuffer) *slog.Logger {
	if buf != nil {
		return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mapping(c *cluster, topic string) Mapping {
	return Mapping{
		Function:         "Sink",
		Brokers:          c.addrs,
		Topic:            topic,
		StartingPosition: TrimHorizon,
		BatchingWindow:   50 * time.Millisecond,
	}
}

func TestRunPayloadShape(t *testing.T) {
	c := newCluster(t, map[string]int{"game-events": 3})
	base := time.UnixMilli(1_700_000_000_123)
	var want []*kgo.Record
	for i := range 30 {
		r := &kgo.Record{
			Topic: "game-events", Partition: int32(i % 3),
			Key:       []byte("player-" + strconv.Itoa(i)),
			Value:     []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
			Headers:   []kgo.RecordHeader{{Key: "h", Value: []byte{0, 127, 128, 255, byte(i)}}, {Key: "h", Value: []byte("dup")}},
		}
		if i%5 == 0 {
			r.Key = nil
		}
		if i%7 == 0 {
			r.Value = nil // tombstone
		}
		want = append(want, r)
	}
	c.produce(t, want...)

	inv := newFake(t, nil)
	m := mapping(c, "game-events")
	m.BatchSize = 4
	startRun(t, m, inv, Options{})
	waitFor(t, "all 30 records delivered", func() bool { return inv.deliveredCount() >= 30 })

	for _, call := range inv.succeeded() {
		if call.ev.EventSource != "SelfManagedKafka" || call.ev.BootstrapServers != strings.Join(c.addrs, ",") {
			t.Errorf("eventSource %q bootstrapServers %q", call.ev.EventSource, call.ev.BootstrapServers)
		}
		if n := call.count(); n < 1 || n > 4 {
			t.Errorf("batch of %d records with BatchSize 4", n)
		}
		for key, rs := range call.ev.Records {
			for i, r := range rs {
				if key != fmt.Sprintf("%s-%d", r.Topic, r.Partition) {
					t.Errorf("record of %s/%d under key %q", r.Topic, r.Partition, key)
				}
				if i > 0 && r.Offset != rs[i-1].Offset+1 {
					t.Errorf("offsets %d then %d in one batch", rs[i-1].Offset, r.Offset)
				}
			}
		}
		// Raw JSON: integer timestamps, signed header bytes, value omitted when null.
		var raw struct {
			Records map[string][]map[string]json.RawMessage `json:"records"`
		}
		if err := json.Unmarshal(call.payload, &raw); err != nil {
			t.Fatal(err)
		}
		for _, rs := range raw.Records {
			for _, r := range rs {
				if _, err := strconv.ParseInt(string(r["timestamp"]), 10, 64); err != nil {
					t.Errorf("timestamp %s is not an integer", r["timestamp"])
				}
				if _, err := strconv.ParseInt(string(r["partition"]), 10, 32); err != nil {
					t.Errorf("partition %s is not a number", r["partition"])
				}
				if !bytes.HasPrefix(r["headers"], []byte(`[{"h":[0,127,-128,-1,`)) {
					t.Errorf("headers = %s", r["headers"])
				}
			}
		}
	}

	got := inv.delivered()
	for _, w := range want {
		rs := got[int64(w.Partition)]
		idx := slices.IndexFunc(rs, func(r events.KafkaRecord) bool { return r.Offset == w.Offset })
		if idx < 0 {
			t.Fatalf("record %d/%d not delivered", w.Partition, w.Offset)
		}
		r := rs[idx]
		if w.Value == nil {
			if r.Value != "" {
				t.Errorf("tombstone %d/%d has value %q", w.Partition, w.Offset, r.Value)
			}
		} else if decodeValue(t, r) != string(w.Value) {
			t.Errorf("value of %d/%d = %q, want %q", w.Partition, w.Offset, decodeValue(t, r), w.Value)
		}
		wantKey := ""
		if w.Key != nil {
			wantKey = base64.StdEncoding.EncodeToString(w.Key)
		}
		if r.Key != wantKey {
			t.Errorf("key of %d/%d = %q, want %q", w.Partition, w.Offset, r.Key, wantKey)
		}
		if r.Timestamp.UnixMilli() != w.Timestamp.UnixMilli() || r.TimestampType != "CREATE_TIME" {
			t.Errorf("timestamp of %d/%d = %d %s, want %d CREATE_TIME", w.Partition, w.Offset, r.Timestamp.UnixMilli(), r.TimestampType, w.Timestamp.UnixMilli())
		}
		if len(r.Headers) != 2 || !bytes.Equal(r.Headers[0]["h"], w.Headers[0].Value) || string(r.Headers[1]["h"]) != "dup" {
			t.Errorf("headers of %d/%d = %v", w.Partition, w.Offset, r.Headers)
		}
	}
	for p, rs := range got {
		if len(rs) != 10 {
			t.Errorf("partition %d: %d records delivered, want 10 (no duplicates)", p, len(rs))
		}
		for i := range rs {
			if rs[i].Offset != int64(i) {
				t.Fatalf("partition %d delivered offsets out of order: %v", p, rs)
			}
		}
	}
}

func TestRunBatchSize(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 1})
	for i := range 95 {
		c.produceValues(t, "t", 0, "v"+strconv.Itoa(i))
	}
	inv := newFake(t, nil)
	m := mapping(c, "t")
	m.BatchSize = 10
	m.BatchingWindow = time.Second // all records exist before Run: only BatchSize cuts the full batches
	stats := &Stats{}
	startRun(t, m, inv, Options{Stats: stats})
	waitFor(t, "95 records", func() bool { return inv.deliveredCount() >= 95 })
	var sizes []int
	for _, c := range inv.succeeded() {
		sizes = append(sizes, c.count())
	}
	want := []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 5}
	if !slices.Equal(sizes, want) {
		t.Fatalf("batch sizes %v, want %v", sizes, want)
	}
	waitFor(t, "commit of offset 95", func() bool { return c.committed(t, m.GroupID(), "t")[0] == 95 })
	waitFor(t, "stats of 95 committed records", func() bool { return stats.Snapshot().Committed[0] == 95 })
	s := stats.Snapshot()
	if s.Batches != 10 || s.Records != 95 || s.Lag != 0 || !slices.Equal(s.Assigned, []int32{0}) {
		t.Errorf("stats = %+v", s)
	}
}

func TestRunBatchingWindow(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 1})
	inv := newFake(t, nil)
	m := mapping(c, "t")
	m.BatchSize = 10000
	m.BatchingWindow = 200 * time.Millisecond
	stats := &Stats{}
	startRun(t, m, inv, Options{Stats: stats})
	waitFor(t, "assignment", func() bool { return len(stats.Snapshot().Assigned) == 1 })

	// Far fewer records than BatchSize: only the window can send them.
	c.produceValues(t, "t", 0, "a", "b", "c")
	waitFor(t, "first batch", func() bool { return len(inv.succeeded()) == 1 })
	c.produceValues(t, "t", 0, "d", "e")
	waitFor(t, "second batch", func() bool { return len(inv.succeeded()) == 2 })
	calls := inv.succeeded()
	if calls[0].count() != 3 || calls[1].count() != 2 {
		t.Fatalf("batches of %d and %d records, want 3 and 2", calls[0].count(), calls[1].count())
	}
}

func TestRunStartingPositions(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 2})
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := old.Add(time.Hour)
	var rs []*kgo.Record
	for i := range 10 {
		ts := old
		if i >= 6 {
			ts = recent
		}
		rs = append(rs, &kgo.Record{Topic: "t", Partition: int32(i % 2), Value: []byte("pre-" + strconv.Itoa(i)), Timestamp: ts})
	}
	c.produce(t, rs...)

	values := func(inv *fakeInvoker) []string {
		var out []string
		for _, rs := range inv.delivered() {
			for _, r := range rs {
				out = append(out, decodeValue(t, r))
			}
		}
		slices.Sort(out)
		return out
	}

	t.Run("TRIM_HORIZON", func(t *testing.T) {
		inv := newFake(t, nil)
		m := mapping(c, "t")
		m.Function = "TrimHorizon"
		r := startRun(t, m, inv, Options{})
		waitFor(t, "10 records", func() bool { return inv.deliveredCount() >= 10 })
		r.stop(t)
		if got := values(inv); len(got) != 10 {
			t.Fatalf("delivered %v, want the 10 existing records", got)
		}
	})
	t.Run("LATEST", func(t *testing.T) {
		inv := newFake(t, nil)
		m := mapping(c, "t")
		m.Function, m.StartingPosition = "Latest", Latest
		stats := &Stats{}
		r := startRun(t, m, inv, Options{Stats: stats})
		waitFor(t, "assignment", func() bool { return len(stats.Snapshot().Assigned) == 2 })
		c.produceValues(t, "t", 0, "new-0")
		c.produceValues(t, "t", 1, "new-1")
		waitFor(t, "2 new records", func() bool { return inv.deliveredCount() >= 2 })
		r.stop(t)
		if got := values(inv); !slices.Equal(got, []string{"new-0", "new-1"}) {
			t.Fatalf("delivered %v, want only the records produced after start", got)
		}
		// The position was fixed when the mapping first started: a
		// mapping that starts, stops before any record arrives, and
		// starts again still gets what was produced in between.
		m.Function = "Latest2"
		r = startRun(t, m, inv, Options{})
		waitFor(t, "starting offsets committed", func() bool { return len(c.committed(t, m.GroupID(), "t")) == 2 })
		r.stop(t)
		c.produceValues(t, "t", 1, "while-stopped")
		r = startRun(t, m, inv, Options{})
		waitFor(t, "record produced while stopped", func() bool { return inv.deliveredCount() >= 3 })
		r.stop(t)
		if got := values(inv); !slices.Equal(got, []string{"new-0", "new-1", "while-stopped"}) {
			t.Fatalf("delivered %v", got)
		}
	})
	t.Run("AT_TIMESTAMP", func(t *testing.T) {
		inv := newFake(t, nil)
		m := mapping(c, "t")
		m.Function, m.StartingPosition, m.StartingPositionTimestamp = "AtTimestamp", AtTimestamp, old.Add(30*time.Minute)
		r := startRun(t, m, inv, Options{})
		// pre-6..9 are recent; new-0, new-1 and while-stopped came later.
		waitFor(t, "7 records", func() bool { return inv.deliveredCount() >= 7 })
		r.stop(t)
		if got := values(inv); !slices.Equal(got, []string{"new-0", "new-1", "pre-6", "pre-7", "pre-8", "pre-9", "while-stopped"}) {
			t.Fatalf("delivered %v, want the records at or after the timestamp", got)
		}
	})
}

func TestRunResumesFromCommittedOffsets(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 3})
	produce := func(from, n int) {
		var rs []*kgo.Record
		for i := from; i < from+n; i++ {
			rs = append(rs, &kgo.Record{Topic: "t", Partition: int32(i % 3), Value: []byte("v" + strconv.Itoa(i))})
		}
		c.produce(t, rs...)
	}
	produce(0, 60)
	inv := newFake(t, nil)
	m := mapping(c, "t")
	m.BatchSize = 7

	r1 := startRun(t, m, inv, Options{})
	waitFor(t, "60 records", func() bool { return inv.deliveredCount() >= 60 })
	r1.stop(t)
	if got := c.committed(t, m.GroupID(), "t"); got[0] != 20 || got[1] != 20 || got[2] != 20 {
		t.Fatalf("committed after clean stop = %v, want 20 per partition", got)
	}

	// Produced while stopped; the restart (even with LATEST, which an
	// existing group ignores) delivers exactly these.
	produce(60, 30)
	m.StartingPosition = Latest
	r2 := startRun(t, m, inv, Options{})
	waitFor(t, "90 records", func() bool { return inv.deliveredCount() >= 90 })
	waitFor(t, "commits of 30 per partition", func() bool {
		got := c.committed(t, m.GroupID(), "t")
		return got[0] == 30 && got[1] == 30 && got[2] == 30
	})
	r2.stop(t)

	seen := map[string]int{}
	for _, rs := range inv.delivered() {
		for _, r := range rs {
			seen[fmt.Sprintf("%d/%d", r.Partition, r.Offset)]++
		}
	}
	if len(seen) != 90 {
		t.Errorf("%d distinct records delivered, want 90", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("record %s delivered %d times", k, n)
		}
	}
}

func TestRunRetriesSameBatchUntilSuccess(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 1})
	for i := range 12 {
		c.produceValues(t, "t", 0, "v"+strconv.Itoa(i))
	}
	secondAttempt := make(chan struct{})
	release := make(chan struct{})
	inv := newFake(t, func(ctx context.Context, call *call) (*invoke.Result, error) {
		switch call.n {
		case 0:
			return &invoke.Result{
				Payload: []byte(`{"errorMessage":"boom","errorType":"errorString"}`),
				Error:   &invoke.FunctionError{Type: "errorString", Message: "boom"},
			}, nil
		case 1:
			close(secondAttempt)
			<-release
			return nil, invoke.ErrThrottled
		}
		return &invoke.Result{Payload: []byte("null")}, nil
	})
	logs := &logBuffer{}
	m := mapping(c, "t")
	m.BatchSize = 5
	stats := &Stats{}
	startRun(t, m, inv, Options{Stats: stats, Logger: testLogger(t, logs), RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond})

	select {
	case <-secondAttempt:
	case <-time.After(waitDeadline):
		t.Fatal("the failed batch was not retried")
	}
	// While the first batch fails, nothing of it is committed.
	if got := c.committed(t, m.GroupID(), "t")[0]; got != 0 {
		t.Errorf("committed offset %d while the first batch is failing, want 0", got)
	}
	close(release)
	waitFor(t, "12 records", func() bool { return inv.deliveredCount() >= 12 })
	waitFor(t, "commit of 12", func() bool { return c.committed(t, m.GroupID(), "t")[0] == 12 })

	calls := inv.snapshot()
	if len(calls) < 5 {
		t.Fatalf("%d calls, want 3 attempts of the first batch and 2 more batches", len(calls))
	}
	for i := 1; i < 3; i++ {
		if !bytes.Equal(calls[i].payload, calls[0].payload) {
			t.Errorf("attempt %d sent a different payload than attempt 1", i+1)
		}
	}
	if calls[0].first().Offset != 0 || calls[0].count() != 5 || !calls[2].ok {
		t.Errorf("first batch: offset %d, %d records, third attempt ok=%v", calls[0].first().Offset, calls[0].count(), calls[2].ok)
	}
	if calls[3].first().Offset != 5 {
		t.Errorf("the batch after the retried one starts at %d, want 5", calls[3].first().Offset)
	}
	waitFor(t, "stats of 12 committed records", func() bool { return stats.Snapshot().Committed[0] == 12 })
	if s := stats.Snapshot(); s.Errors != 2 || s.Batches != 3 || s.Records != 12 {
		t.Errorf("stats %+v, want 2 errors, 3 batches, 12 records", s)
	}
	out := logs.String()
	for _, want := range []string{"attempt=1", "error_type=errorString", "error_message=boom", "attempt=2", "error_type=InvokeError", "rate exceeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
}

func TestRunFilterCommitsFilteredRecords(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 1})
	for i := range 10 {
		kind := "drop"
		if i%2 == 0 {
			kind = "keep"
		}
		c.produceValues(t, "t", 0, fmt.Sprintf(`{"kind":%q,"n":%d}`, kind, i))
	}
	inv := newFake(t, nil)
	m := mapping(c, "t")
	m.FilterPatterns = []string{`{"value":{"kind":["keep"]}}`}
	stats := &Stats{}
	startRun(t, m, inv, Options{Stats: stats})
	waitFor(t, "commit of 10", func() bool { return c.committed(t, m.GroupID(), "t")[0] == 10 })
	for _, r := range inv.delivered()[0] {
		if r.Offset%2 != 0 {
			t.Errorf("filtered-out record %d was delivered", r.Offset)
		}
	}
	if n := inv.deliveredCount(); n != 5 {
		t.Errorf("%d records delivered, want 5", n)
	}

	// A window holding only filtered records: committed, nothing invoked.
	calls := len(inv.snapshot())
	c.produceValues(t, "t", 0, `{"kind":"drop"}`, `{"kind":"drop"}`, "not json")
	waitFor(t, "commit of 13", func() bool { return c.committed(t, m.GroupID(), "t")[0] == 13 })
	if n := len(inv.snapshot()); n != calls {
		t.Errorf("%d invocations for filtered-out records", n-calls)
	}
	waitFor(t, "stats of 13 committed records", func() bool { return stats.Snapshot().Committed[0] == 13 })
	if s := stats.Snapshot(); s.Filtered != 8 || s.Records != 5 {
		t.Errorf("stats %+v, want 8 filtered, 5 records", s)
	}
}

// bigValue returns n bytes that do not compress to nothing.
func bigValue(n int, seed int) []byte {
	b := make([]byte, n)
	x := uint32(seed*7919 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func TestRunPayloadLimitSplitsBatches(t *testing.T) {
	c := newCluster(t, map[string]int{"big": 1}, kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(16 << 20)}))
	// 900,000-byte values are 1.2 MB in base64: five fit in 6 MB, six do
	// not. Offset 10 is 5 MB (6.7 MB in base64): it can never fit. The
	// seven small records at the end fill a batch of BatchSize 7.
	for i := range 10 {
		c.produce(t, &kgo.Record{Topic: "big", Value: bigValue(900_000, i)})
	}
	c.produce(t, &kgo.Record{Topic: "big", Value: bigValue(5_000_000, 10)})
	for i := 11; i < 18; i++ {
		c.produceValues(t, "big", 0, "small-"+strconv.Itoa(i))
	}

	inv := newFake(t, nil)
	logs := &logBuffer{}
	m := mapping(c, "big")
	m.BatchSize = 7
	m.BatchingWindow = MaxBatchingWindow // only size and count cut batches
	stats := &Stats{}
	startRun(t, m, inv, Options{Stats: stats, Logger: testLogger(t, logs)})
	waitFor(t, "commit of 18", func() bool { return c.committed(t, m.GroupID(), "big")[0] == 18 })

	var got [][2]int64 // first offset, count
	for _, call := range inv.succeeded() {
		if len(call.payload) > invoke.MaxPayloadBytes {
			t.Errorf("payload of %d bytes", len(call.payload))
		}
		got = append(got, [2]int64{call.first().Offset, int64(call.count())})
	}
	want := [][2]int64{{0, 5}, {5, 5}, {11, 7}}
	if !slices.Equal(got, want) {
		t.Fatalf("batches (first offset, records) = %v, want %v", got, want)
	}
	waitFor(t, "stats of 18 committed records", func() bool { return stats.Snapshot().Committed[0] == 18 })
	if s := stats.Snapshot(); s.Oversized != 1 || s.Records != 17 {
		t.Errorf("stats %+v, want 1 oversized and 17 records", s)
	}
	if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "offset=10") || !strings.Contains(out, "topic=big") || !strings.Contains(out, "partition=0") {
		t.Errorf("oversized record not logged at ERROR with topic/partition/offset:\n%s", out)
	}
}

func TestRunShutdownDrainsInFlight(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 1})
	c.produceValues(t, "t", 0, "a", "b", "c")
	started := make(chan struct{})
	release := make(chan struct{})
	var ctxErrAtRelease error
	inv := newFake(t, func(ctx context.Context, call *call) (*invoke.Result, error) {
		if call.n == 0 {
			close(started)
			<-release
			ctxErrAtRelease = ctx.Err()
		}
		return &invoke.Result{}, nil
	})
	m := mapping(c, "t")
	r := startRun(t, m, inv, Options{})
	<-started
	r.cancel()
	// Records produced after shutdown began are not fetched or invoked.
	c.produceValues(t, "t", 0, "late")
	close(release)
	r.stop(t)
	if ctxErrAtRelease != nil {
		t.Errorf("the in-flight invocation's context was cancelled (%v); it must be allowed to finish", ctxErrAtRelease)
	}
	if got := c.committed(t, m.GroupID(), "t")[0]; got != 3 {
		t.Errorf("committed %d after drain, want 3", got)
	}
	if n := len(inv.snapshot()); n != 1 {
		t.Errorf("%d invocations, want 1", n)
	}
	// The member left the group.
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	dg, err := c.adm.DescribeGroups(ctx, m.GroupID())
	if err != nil {
		t.Fatal(err)
	}
	if g := dg[m.GroupID()]; len(g.Members) != 0 {
		t.Errorf("group still has %d members after Run returned", len(g.Members))
	}
}

func TestRunShutdownDrainTimeout(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 1})
	c.produceValues(t, "t", 0, "a")
	started := make(chan struct{})
	inv := newFake(t, func(ctx context.Context, call *call) (*invoke.Result, error) {
		close(started)
		<-ctx.Done() // a function that never finishes
		return nil, ctx.Err()
	})
	m := mapping(c, "t")
	r := startRun(t, m, inv, Options{DrainTimeout: 100 * time.Millisecond})
	<-started
	r.stop(t)
	if got := c.committed(t, m.GroupID(), "t")[0]; got != 0 {
		t.Errorf("committed %d for an abandoned batch, want 0", got)
	}
}

func TestRunPartitionsIndependent(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 2})
	c.produceValues(t, "t", 0, "p0")
	release := make(chan struct{})
	inv := newFake(t, func(ctx context.Context, call *call) (*invoke.Result, error) {
		if call.first().Partition == 0 {
			<-release
		}
		return &invoke.Result{}, nil
	})
	m := mapping(c, "t")
	startRun(t, m, inv, Options{})
	// Partition 0 is blocked in its invocation; partition 1 keeps going.
	for i := range 3 {
		c.produceValues(t, "t", 1, "p1-"+strconv.Itoa(i))
		waitFor(t, "partition 1 batch", func() bool { return len(inv.delivered()[1]) == i+1 })
	}
	close(release)
	waitFor(t, "partition 0", func() bool { return len(inv.delivered()[0]) == 1 })
}

func TestRunRebalanceHandsOverCommittedWork(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 4})
	inv := newFake(t, nil)
	m := mapping(c, "t")
	m.BatchSize = 5
	statsA, statsB := &Stats{}, &Stats{}
	a := startRun(t, m, inv, Options{Stats: statsA})
	waitFor(t, "member A owns 4 partitions", func() bool { return len(statsA.Snapshot().Assigned) == 4 })

	produce := func(from, n int) {
		var rs []*kgo.Record
		for i := from; i < from+n; i++ {
			rs = append(rs, &kgo.Record{Topic: "t", Partition: int32(i % 4), Value: []byte(strconv.Itoa(i))})
		}
		c.produce(t, rs...)
	}
	produce(0, 100)
	b := startRun(t, m, inv, Options{Stats: statsB})
	waitFor(t, "partitions shared by A and B", func() bool {
		return len(statsA.Snapshot().Assigned) == 2 && len(statsB.Snapshot().Assigned) == 2
	})
	produce(100, 100)
	a.stop(t) // A leaves: B takes everything
	waitFor(t, "member B owns 4 partitions", func() bool { return len(statsB.Snapshot().Assigned) == 4 })
	produce(200, 100)
	waitFor(t, "300 records", func() bool { return inv.deliveredCount() >= 300 })
	b.stop(t)

	seen := map[string]int{}
	for _, rs := range inv.delivered() {
		for _, r := range rs {
			seen[fmt.Sprintf("%d/%d", r.Partition, r.Offset)]++
		}
	}
	if len(seen) != 300 {
		t.Errorf("%d distinct records, want 300", len(seen))
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("record %s delivered %d times across the rebalance", k, n)
		}
	}
	if got := c.committed(t, m.GroupID(), "t"); got[0] != 75 || got[1] != 75 || got[2] != 75 || got[3] != 75 {
		t.Errorf("committed %v, want 75 per partition", got)
	}
}

func TestReplay(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 3})
	sizes := map[int32]int{0: 23, 1: 10, 2: 0} // partition 2 stays empty
	for p, n := range sizes {
		for i := range n {
			kind := "keep"
			if i%4 == 3 {
				kind = "drop"
			}
			c.produceValues(t, "t", p, fmt.Sprintf(`{"kind":%q,"i":%d}`, kind, i))
		}
	}
	m := mapping(c, "t")
	m.BatchSize = 10
	// The live mapping's group has offsets; Replay must leave them alone.
	ctx := context.Background()
	if err := c.adm.CommitAllOffsets(ctx, m.GroupID(), kadm.Offsets{"t": {
		0: {Topic: "t", Partition: 0, At: 4, LeaderEpoch: -1},
		1: {Topic: "t", Partition: 1, At: 9, LeaderEpoch: -1},
	}}); err != nil {
		t.Fatal(err)
	}

	produceDuring := sync.OnceFunc(func() { c.produceValues(t, "t", 1, `{"kind":"keep","late":true}`) })
	inv := newFake(t, func(ctx context.Context, call *call) (*invoke.Result, error) {
		produceDuring() // after the snapshot: must not be replayed
		if call.n == 0 {
			return &invoke.Result{Error: &invoke.FunctionError{Type: "errorString", Message: "first attempt fails"}}, nil
		}
		return &invoke.Result{}, nil
	})
	var progress []ReplayProgress
	sum, err := Replay(ctx, m, inv, ReplayOptions{
		Options:  Options{Logger: testLogger(t, nil), RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond},
		Progress: func(p ReplayProgress) { progress = append(progress, p) },
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}

	got := inv.delivered()
	for p, n := range sizes {
		rs := got[int64(p)]
		if len(rs) != n {
			t.Errorf("partition %d: %d records replayed, want %d", p, len(rs), n)
		}
		for i, r := range rs {
			if r.Offset != int64(i) {
				t.Errorf("partition %d: record %d has offset %d", p, i, r.Offset)
			}
		}
	}
	// BatchSize cuts batches exactly (no window in a replay).
	var batchSizes []int
	for _, call := range inv.succeeded() {
		if call.first().Partition == 0 {
			batchSizes = append(batchSizes, call.count())
		}
	}
	if !slices.Equal(batchSizes, []int{10, 10, 3}) {
		t.Errorf("partition 0 batches %v, want [10 10 3]", batchSizes)
	}
	if sum.Records != 33 || sum.Invoked != 33 || sum.Filtered != 0 || sum.Batches != 4 || sum.Errors != 1 || sum.Duration <= 0 {
		t.Errorf("summary %+v", sum)
	}
	if p := sum.Partitions[0]; p.Start != 0 || p.End != 23 || p.Invoked != 23 || p.Batches != 3 {
		t.Errorf("partition 0 summary %+v", p)
	}
	if p := sum.Partitions[2]; p.End != 0 || p.Invoked != 0 {
		t.Errorf("partition 2 summary %+v", p)
	}
	last := progress[len(progress)-1]
	if last.RecordsDone != 33 || last.RecordsTotal != 33 || last.Batches != 4 || last.Errors != 1 {
		t.Errorf("last progress %+v", last)
	}
	if got := c.committed(t, m.GroupID(), "t"); got[0] != 4 || got[1] != 9 || len(got) != 2 {
		t.Errorf("group offsets after replay %v, want {0:4 1:9}", got)
	}

	// With a filter: filtered records are counted, not sent.
	m.FilterPatterns = []string{`{"value":{"kind":["keep"]}}`}
	inv2 := newFake(t, nil)
	sum, err = Replay(ctx, m, inv2, ReplayOptions{Options: Options{Logger: testLogger(t, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	// Partition 1 now holds 11 records (the late one is included in this
	// second replay's snapshot).
	if sum.Records != 34 || sum.Filtered != 7 || sum.Invoked != 27 || inv2.deliveredCount() != 27 {
		t.Errorf("filtered replay summary %+v, delivered %d", sum, inv2.deliveredCount())
	}
}

func TestReplayCancelled(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 1})
	c.produceValues(t, "t", 0, "a", "b")
	ctx, cancel := context.WithCancel(context.Background())
	inv := newFake(t, func(context.Context, *call) (*invoke.Result, error) {
		cancel()
		return nil, errors.New("emulator down")
	})
	m := mapping(c, "t")
	sum, err := Replay(ctx, m, inv, ReplayOptions{Options: Options{Logger: testLogger(t, nil)}})
	if !errors.Is(err, context.Canceled) || sum.Records != 0 {
		t.Fatalf("Replay = %+v, %v; want context.Canceled and nothing done", sum, err)
	}
}

func TestRunWaitsForMissingTopic(t *testing.T) {
	c := newCluster(t, map[string]int{"other": 1})
	inv := newFake(t, nil)
	m := mapping(c, "late-topic")
	startRun(t, m, inv, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	if _, err := c.adm.CreateTopic(ctx, 2, -1, nil, "late-topic"); err != nil {
		t.Fatal(err)
	}
	c.produceValues(t, "late-topic", 0, "a")
	c.produceValues(t, "late-topic", 1, "b")
	waitFor(t, "records of the topic created after start", func() bool { return inv.deliveredCount() == 2 })
}

func TestRunShutdownWithBrokerGone(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	m := Mapping{Function: "F", Brokers: kc.ListenAddrs(), Topic: "t"}
	stats := &Stats{}
	r := startRun(t, m, newFake(t, nil), Options{Stats: stats})
	waitFor(t, "assignment", func() bool { return len(stats.Snapshot().Assigned) == 1 })
	kc.Close()
	r.stop(t) // returns (bounded leave) although the broker is gone
}

// A partition revoked while its batch is failing is not committed by the old
// owner; the new owner delivers the same records.
func TestRunRebalanceDuringRetries(t *testing.T) {
	c := newCluster(t, map[string]int{"t": 2})
	var failing sync.Map // partition -> true while its batches fail
	failing.Store(int64(0), true)
	failing.Store(int64(1), true)
	inv := newFake(t, func(ctx context.Context, call *call) (*invoke.Result, error) {
		if v, _ := failing.Load(call.first().Partition); v == true {
			return &invoke.Result{Error: &invoke.FunctionError{Type: "errorString", Message: "not yet"}}, nil
		}
		return &invoke.Result{}, nil
	})
	m := mapping(c, "t")
	statsA, statsB := &Stats{}, &Stats{}
	startRun(t, m, inv, Options{Stats: statsA})
	c.produceValues(t, "t", 0, "a0", "a1", "a2")
	c.produceValues(t, "t", 1, "b0", "b1")
	waitFor(t, "failing attempts on both partitions", func() bool { return statsA.Snapshot().Errors >= 4 })

	startRun(t, m, inv, Options{Stats: statsB})
	waitFor(t, "one partition moved to B", func() bool {
		return len(statsA.Snapshot().Assigned) == 1 && len(statsB.Snapshot().Assigned) == 1
	})
	if got := c.committed(t, m.GroupID(), "t"); got[0] != 0 || got[1] != 0 {
		t.Fatalf("committed %v while every batch was failing, want 0s", got)
	}
	failing.Store(int64(0), false)
	failing.Store(int64(1), false)
	waitFor(t, "all records", func() bool { return inv.deliveredCount() >= 5 })
	waitFor(t, "commits", func() bool {
		got := c.committed(t, m.GroupID(), "t")
		return got[0] == 3 && got[1] == 2
	})
	if n := inv.deliveredCount(); n != 5 {
		t.Errorf("%d records delivered successfully, want 5 (no duplicates)", n)
	}
	if statsB.Snapshot().Records == 0 {
		t.Error("the new owner delivered nothing")
	}
}
