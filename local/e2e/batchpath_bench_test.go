package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/kafkapayload"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/bench"
	"github.com/questlog/questlog/local/esm"
	"github.com/questlog/questlog/local/kafka"
)

// BenchmarkBatchPath is the batch path stage by stage, in one process on
// one core (-cpu 1), for batches of 100, 1,000 and 10,000 records: the
// mapping reading the topic from the broker, building the KafkaEvent
// payload; the function decoding the payload, then each record (base64 and
// event JSON), munging, encoding Parquet, landing the file (lock, journal,
// write, fsync, rename: reported with the encoding, see land-with-parquet).
// Each stage reports the CPU time it takes per event.
func BenchmarkBatchPath(b *testing.B) {
	for _, size := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { batchPathStages(b, size) })
	}
}

func batchPathStages(b *testing.B, size int) {
	values := browserEvents(size)
	topic := newRecordsTopic(b, values)
	records := topic.read(b)

	// stage measures fn, run b.N times, in CPU time per event; setup runs
	// before each call, unmeasured.
	stage := func(name string, setup func(), fn func()) {
		b.Run(name, func(b *testing.B) {
			var used time.Duration
			for range b.N {
				if setup != nil {
					setup()
				}
				start := bench.SelfCPU()
				fn()
				used += bench.SelfCPU() - start
			}
			b.ReportMetric(bench.PerOp(used, b.N*size)*1000, "cpu-ns/event")
		})
	}
	// Each stage's input, made once: -bench may select any stage alone.
	payload := esm.EncodePayload(nil, "127.0.0.1:9092", [][]*kgo.Record{records})
	batch := mustDecodePayload(b, payload)
	part := mustDecodePartition(b, batch)
	rows := make([]sink.Record[event.Row], len(part.Events))
	for i, d := range part.Events {
		rows[i] = sink.Record[event.Row]{Offset: d.Source.Offset, Date: d.Event.EventTime.Time(), Row: event.NewRow(&d.Event, d.Source)}
	}

	stage("1-read", nil, func() { records = topic.read(b) })
	stage("2-payload", nil, func() {
		payload = esm.EncodePayload(payload[:0], "127.0.0.1:9092", [][]*kgo.Record{records})
	})
	stage("3-payload-decode", nil, func() { batch = mustDecodePayload(b, payload) })
	stage("4-record-decode", nil, func() { part = mustDecodePartition(b, batch) })
	stage("5-munge", func() { part = mustDecodePartition(b, batch) }, func() {
		for i := range part.Events {
			event.MungeInPlace(&part.Events[i].Event)
		}
	})
	stage("6-parquet", nil, func() {
		if err := sink.Encode(io.Discard, rows); err != nil {
			b.Fatal(err)
		}
	})
	st, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	s := sink.New(st, nil)
	// One dataset, as a job lands into: each landing is the next batch of
	// the partition.
	next := make([]sink.Record[event.Row], len(rows))
	stage("7-land-with-parquet", func() {
		for i, r := range rows {
			r.Offset += next[len(next)-1].Offset + 1
			r.Row.KafkaOffset = r.Offset
			next[i] = r
		}
	}, func() {
		landed, err := sink.Land(context.Background(), s, "extracted_events", "game-events", 0, next)
		if err != nil || landed.Rows != len(next) {
			b.Fatalf("land: %+v %v", landed, err)
		}
	})
}

// browserEvents returns n wire events of the seed's mix, with a browser's
// headers, as the API publishes them.
func browserEvents(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i], _ = json.Marshal(kafkatest.BrowserEvent(i))
	}
	return out
}

// recordsTopic is a partition of a persisted embedded broker, as the
// emulator runs it, holding the benchmark's records, and a consumer like
// the mappings'.
type recordsTopic struct {
	cl *kgo.Client
	n  int
}

func newRecordsTopic(b *testing.B, values [][]byte) *recordsTopic {
	ctx := context.Background()
	br, err := kafka.Start(ctx, kafka.Config{Addr: "127.0.0.1:0", DataDir: b.TempDir(), Topics: []kafka.Topic{{Name: "game-events", Partitions: 1}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(br.Close)
	producer, err := kgo.NewClient(kgo.SeedBrokers(br.Addrs()...), kgo.DefaultProduceTopic("game-events"))
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Key: []byte(fmt.Sprintf("player%d", i%500)), Value: v}
	}
	if err := producer.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addrs()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"game-events": {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return &recordsTopic{cl: cl, n: len(values)}
}

// read reads the partition from the start.
func (t *recordsTopic) read(b *testing.B) []*kgo.Record {
	t.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{"game-events": {0: {Epoch: -1, Offset: 0}}})
	out := make([]*kgo.Record, 0, t.n)
	for len(out) < t.n {
		fs := t.cl.PollFetches(context.Background())
		if err := fs.Err(); err != nil {
			b.Fatal(err)
		}
		out = append(out, fs.Records()...)
	}
	return out[:t.n]
}

func mustDecodePayload(b *testing.B, payload []byte) []events.KafkaRecord {
	ev, err := kafkapayload.Decode(payload)
	if err != nil || len(ev.Records) != 1 {
		b.Fatalf("decode payload: %d groups, %v", len(ev.Records), err)
	}
	for _, rs := range ev.Records {
		return rs
	}
	return nil
}

func mustDecodePartition(b *testing.B, records []events.KafkaRecord) *job.Partition {
	part, err := job.DecodePartition(records)
	if err != nil || len(part.Events) != len(records) {
		b.Fatalf("decode records: %d of %d, %v", len(part.Events), len(records), err)
	}
	return part
}
