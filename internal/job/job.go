// Package job is the Kafka-triggered side of questlog: a Job turns an
// events.KafkaEvent, exactly as Lambda's Kafka event-source mapping delivers
// it, into rows of one Parquet dataset, exactly once per record.
//
// Records that are not valid events (not JSON, wrong types, an unknown
// schema_version) never fail the batch: they go to the job's dead-letter
// dataset, _rejected/dataset=<dataset>, with their raw bytes and the reason,
// and the rest of the batch goes on. A batch fails, and Lambda retries it,
// only when the store cannot be written.
package job

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/filter"
	"github.com/questlog/questlog/internal/sink"
)

// Transform maps a decoded event to the row the dataset stores; keep is
// false for events the job leaves out.
type Transform func(e *event.Event) (out event.Event, keep bool, err error)

// Extract keeps every event as it is.
func Extract(e *event.Event) (event.Event, bool, error) { return *e, true, nil }

// Munge keeps every event, cleaned by event.Munge.
func Munge(e *event.Event) (event.Event, bool, error) { return event.Munge(*e), true, nil }

// Filter keeps the munged events the predicate matches, as the reference
// pipeline's filter jobs read its munged events.
func Filter(p *filter.Predicate) Transform {
	return func(e *event.Event) (event.Event, bool, error) {
		m := event.Munge(*e)
		keep, err := p.Match(&m)
		return m, keep, err
	}
}

// Job lands one dataset.
type Job struct {
	Dataset   string
	Transform Transform
	Sink      *sink.Sink
	Log       *slog.Logger
}

// Rejected is a row of a dead-letter dataset.
type Rejected struct {
	KafkaTopic     string `parquet:"kafka_topic,dict"`
	KafkaPartition int32  `parquet:"kafka_partition"`
	KafkaOffset    int64  `parquet:"kafka_offset"`
	KafkaTimestamp int64  `parquet:"kafka_timestamp,timestamp(millisecond:utc)"`
	Key            []byte `parquet:"kafka_key,optional"`
	Value          []byte `parquet:"kafka_value,optional"`
	Reason         string `parquet:"reason"`
}

// Summary is what an invocation did; it is the function's response.
type Summary struct {
	Dataset  string   `json:"dataset"`
	Records  int      `json:"records"`
	Landed   int      `json:"landed"`
	Filtered int      `json:"filtered"`
	Rejected int      `json:"rejected"`
	Skipped  int      `json:"skipped_already_landed"`
	Files    []string `json:"files,omitempty"`
}

// Handle processes one batch. Partitions are processed concurrently, each
// in offset order.
func (j *Job) Handle(ctx context.Context, batch events.KafkaEvent) (Summary, error) {
	keys := make([]string, 0, len(batch.Records))
	for key := range batch.Records {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	results := make([]Summary, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = j.partition(ctx, batch.Records[key])
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", key, errs[i])
			}
		}()
	}
	wg.Wait()
	total := Summary{Dataset: j.Dataset}
	for _, r := range results {
		total.Records += r.Records
		total.Landed += r.Landed
		total.Filtered += r.Filtered
		total.Rejected += r.Rejected
		total.Skipped += r.Skipped
		total.Files = append(total.Files, r.Files...)
	}
	if err := errors.Join(errs...); err != nil {
		return total, err
	}
	j.Log.Info("batch landed", "dataset", j.Dataset, "records", total.Records, "landed", total.Landed,
		"filtered", total.Filtered, "rejected", total.Rejected, "skipped", total.Skipped, "files", len(total.Files))
	return total, nil
}

// partition processes the records of one topic partition.
func (j *Job) partition(ctx context.Context, records []events.KafkaRecord) (Summary, error) {
	sum := Summary{Records: len(records)}
	if len(records) == 0 {
		return sum, nil
	}
	topic, partition := records[0].Topic, int32(records[0].Partition)
	var (
		dec      event.Decoder
		rows     = make([]sink.Record[event.Row], 0, len(records))
		rejected []sink.Record[Rejected]
	)
	for i := range records {
		rec := &records[i]
		if rec.Topic != topic || int32(rec.Partition) != partition {
			return sum, fmt.Errorf("record at offset %d is from %s-%d, not %s-%d", rec.Offset, rec.Topic, rec.Partition, topic, partition)
		}
		kafkaTime := rec.Timestamp.Time
		reject := func(reason string) {
			rejected = append(rejected, sink.Record[Rejected]{Offset: rec.Offset, Date: kafkaTime, Row: Rejected{
				KafkaTopic: topic, KafkaPartition: partition, KafkaOffset: rec.Offset, KafkaTimestamp: kafkaTime.UnixMilli(),
				Key: decodeOrRaw(rec.Key), Value: decodeOrRaw(rec.Value), Reason: reason,
			}})
		}
		value, err := base64.StdEncoding.DecodeString(rec.Value)
		if err != nil {
			reject("value is not base64: " + err.Error())
			continue
		}
		e, err := dec.DecodeOwned(value) // the event's strings share value's bytes
		if err != nil {
			reject(err.Error())
			continue
		}
		out, keep, err := j.Transform(&e)
		if err != nil {
			reject(err.Error())
			continue
		}
		if !keep {
			sum.Filtered++
			continue
		}
		src := event.Source{Topic: topic, Partition: partition, Offset: rec.Offset, Timestamp: kafkaTime.UnixMilli()}
		rows = append(rows, sink.Record[event.Row]{Offset: rec.Offset, Date: out.EventTime.Time(), Row: event.NewRow(&out, src)})
	}
	landed, err := sink.Land(ctx, j.Sink, j.Dataset, topic, partition, rows)
	if err != nil {
		return sum, err
	}
	dead, err := sink.Land(ctx, j.Sink, sink.RejectedDataset(j.Dataset), topic, partition, rejected)
	if err != nil {
		return sum, err
	}
	for _, r := range rejected {
		j.Log.Warn("record rejected", "topic", topic, "partition", partition, "offset", r.Offset, "reason", r.Row.Reason)
	}
	sum.Landed, sum.Rejected = landed.Rows, len(rejected)
	sum.Skipped = landed.Skipped + dead.Skipped
	sum.Files = append(landed.Files, dead.Files...)
	return sum, nil
}

// decodeOrRaw returns the bytes a base64 field carries, or the field's own
// bytes when it is not base64, so a dead letter always keeps what arrived.
func decodeOrRaw(s string) []byte {
	if s == "" {
		return nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return []byte(s)
}
