package job_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/filter"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/kafkapayload"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

const benchBatch = 10_000

// benchEvent is a realistic batch: the seed's event mix with browser headers.
func benchEvent(b *testing.B) events.KafkaEvent {
	records := make([]events.KafkaRecord, benchBatch)
	for i := range records {
		e := kafkatest.BrowserEvent(i)
		value, _ := json.Marshal(e)
		records[i] = events.KafkaRecord{
			Topic: "game-events", Partition: 0, Offset: int64(i), TimestampType: "CREATE_TIME",
			Timestamp: events.MilliSecondsEpochTime{Time: e.EventTime.Time()}, Key: base64.StdEncoding.EncodeToString([]byte(e.UserName)),
			Value: base64.StdEncoding.EncodeToString(value),
		}
	}
	return events.KafkaEvent{EventSource: "SelfManagedKafka", Records: map[string][]events.KafkaRecord{"game-events-0": records}}
}

// reportRate reports events per second of wall time and per second of CPU
// time used by the process; the second is steadier on a shared machine and
// is the "one core" rate.
func reportRate(b *testing.B, cpuStart time.Duration) {
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N*benchBatch)/(cpuTime()-cpuStart).Seconds(), "events/cpu-s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSinkPath is a filter job's whole work on a 10,000-event batch:
// base64 + decode + validate + munge + CEL predicate + Parquet (zstd) +
// landing in a file store, lock and rename included.
//
// It runs with the garbage-collector setting the job functions use.
func BenchmarkSinkPath(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(job.GCPercent))
	batch := benchEvent(b)
	p, _ := filter.Compile(`event_type != "nothing"`) // keeps every event: the worst case
	st, _ := store.Open(context.Background(), b.TempDir())
	s := sink.New(st, quiet)
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		j := &job.Job{Dataset: fmt.Sprintf("bench_%d", i), Transform: job.Filter(p), Sink: s, Log: quiet}
		sum, err := j.Handle(context.Background(), batch)
		if err != nil || sum.Landed != benchBatch {
			b.Fatalf("%+v %v", sum, err)
		}
	}
	reportRate(b, cpu)
}

// BenchmarkSinkPathFromPayload adds decoding the invocation payload with
// encoding/json, as aws-lambda-go's lambda.Start(j.Handle) would.
func BenchmarkSinkPathFromPayload(b *testing.B) {
	sinkPathFromPayload(b, func(j *job.Job, payload []byte) error {
		var batch events.KafkaEvent
		if err := json.Unmarshal(payload, &batch); err != nil {
			return err
		}
		_, err := j.Handle(context.Background(), batch)
		return err
	})
}

// BenchmarkSinkPathFromRawPayload is the same through the raw handler the
// jobs run (kafkapayload.Handler): the payload decoded by kafkapayload.
func BenchmarkSinkPathFromRawPayload(b *testing.B) {
	sinkPathFromPayload(b, func(j *job.Job, payload []byte) error {
		_, err := kafkapayload.Handler(j.Handle).Invoke(context.Background(), payload)
		return err
	})
}

func sinkPathFromPayload(b *testing.B, handle func(j *job.Job, payload []byte) error) {
	defer debug.SetGCPercent(debug.SetGCPercent(job.GCPercent))
	payload, _ := json.Marshal(benchEvent(b))
	p, _ := filter.Compile(`event_type != "nothing"`)
	st, _ := store.Open(context.Background(), b.TempDir())
	s := sink.New(st, quiet)
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		j := &job.Job{Dataset: fmt.Sprintf("bench_%d", i), Transform: job.Filter(p), Sink: s, Log: quiet}
		if err := handle(j, payload); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, cpu)
}

// BenchmarkBaselineJSONDecode is the baseline: base64 + encoding/json
// decode of the same values into event.Event, and nothing else.
func BenchmarkBaselineJSONDecode(b *testing.B) {
	batch := benchEvent(b)
	records := batch.Records["game-events-0"]
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		for _, r := range records {
			value, _ := base64.StdEncoding.DecodeString(r.Value)
			var e event.Event
			if err := json.Unmarshal(value, &e); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b, cpu)
}
