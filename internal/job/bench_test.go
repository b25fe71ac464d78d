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
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

const benchBatch = 10_000

// benchEvent is a realistic batch: the seed's event mix with browser headers.
func benchEvent(b *testing.B) events.KafkaEvent {
	records := make([]events.KafkaRecord, benchBatch)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := range records {
		e := event.Event{
			SchemaVersion: 1, EventID: fmt.Sprintf("019a6b1e-7c2d-7f00-8000-%012d", i),
			EventType: []string{event.TypeDefault, event.TypePurchaseSword, event.TypeJoinGuild}[i%3],
			EventTime: event.MillisOf(start.Add(time.Duration(i) * time.Millisecond)),
			UserName:  fmt.Sprintf("player%d", i%500), RemoteIP: "203.0.113.7", Host: "localhost:3000",
			UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.181 Safari/537.36",
			Headers: map[string]string{
				"Accept":                    "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8",
				"Accept-Encoding":           "gzip, deflate",
				"Accept-Language":           "en-US,en;q=0.9",
				"Cache-Control":             "max-age=0",
				"Upgrade-Insecure-Requests": "1",
				"User-Agent":                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.181 Safari/537.36",
			},
		}
		if e.EventType == event.TypeJoinGuild {
			e.GuildName = fmt.Sprintf("guild%d", i%20)
		}
		value, _ := json.Marshal(e)
		records[i] = events.KafkaRecord{
			Topic: "game-events", Partition: 0, Offset: int64(i), TimestampType: "CREATE_TIME",
			Timestamp: events.MilliSecondsEpochTime{Time: start}, Key: base64.StdEncoding.EncodeToString([]byte(e.UserName)),
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
	defer debug.SetGCPercent(debug.SetGCPercent(job.GCPercent))
	payload, _ := json.Marshal(benchEvent(b))
	p, _ := filter.Compile(`event_type != "nothing"`)
	st, _ := store.Open(context.Background(), b.TempDir())
	s := sink.New(st, quiet)
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		var batch events.KafkaEvent
		if err := json.Unmarshal(payload, &batch); err != nil {
			b.Fatal(err)
		}
		j := &job.Job{Dataset: fmt.Sprintf("bench_%d", i), Transform: job.Filter(p), Sink: s, Log: quiet}
		if _, err := j.Handle(context.Background(), batch); err != nil {
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

// BenchmarkSinkPathFromRawPayload is the same through the raw handler the
// jobs run (kafkapayload.Handler): the payload decoded by kafkapayload.
func BenchmarkSinkPathFromRawPayload(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(job.GCPercent))
	payload, _ := json.Marshal(benchEvent(b))
	p, _ := filter.Compile(`event_type != "nothing"`)
	st, _ := store.Open(context.Background(), b.TempDir())
	s := sink.New(st, quiet)
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		j := &job.Job{Dataset: fmt.Sprintf("bench_%d", i), Transform: job.Filter(p), Sink: s, Log: quiet}
		if _, err := kafkapayload.Handler(j.Handle).Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, cpu)
}
