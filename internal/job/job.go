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
	"unsafe"

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

// Munge keeps every event, cleaned by event.Munge. The decoded event is
// the job's own, so it is munged in place.
func Munge(e *event.Event) (event.Event, bool, error) {
	event.MungeInPlace(e)
	return *e, true, nil
}

// Filter keeps the munged events the predicate matches, as the reference
// pipeline's filter jobs read its munged events.
func Filter(p *filter.Predicate) Transform {
	return func(e *event.Event) (event.Event, bool, error) {
		event.MungeInPlace(e)
		keep, err := p.Match(e)
		return *e, keep, err
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
	total, err := EachPartition(ctx, batch, j.partition)
	total.Dataset = j.Dataset
	if err != nil {
		return total, err
	}
	j.Log.Info("batch landed", "dataset", j.Dataset, "records", total.Records, "landed", total.Landed,
		"filtered", total.Filtered, "rejected", total.Rejected, "skipped", total.Skipped, "files", len(total.Files))
	return total, nil
}

// EachPartition runs fn on the records of every topic partition of batch,
// concurrently, and adds up the summaries.
func EachPartition(ctx context.Context, batch events.KafkaEvent, fn func(context.Context, []events.KafkaRecord) (Summary, error)) (Summary, error) {
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
			results[i], errs[i] = fn(ctx, batch.Records[key])
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", key, errs[i])
			}
		}()
	}
	wg.Wait()
	var total Summary
	for _, r := range results {
		total.Records += r.Records
		total.Landed += r.Landed
		total.Filtered += r.Filtered
		total.Rejected += r.Rejected
		total.Skipped += r.Skipped
		total.Files = append(total.Files, r.Files...)
	}
	return total, errors.Join(errs...)
}

// Decoded is a record that holds a valid event.
type Decoded struct {
	Event  event.Event
	Source event.Source
	Record *events.KafkaRecord // as delivered, for dead letters
}

// Partition is the records of one topic partition, decoded.
type Partition struct {
	Topic     string
	Partition int32
	Events    []Decoded
	Rejected  []sink.Record[Rejected] // the records that are not valid events
}

// DecodePartition decodes the records of one topic partition, setting
// aside those that are not valid events with the reason.
func DecodePartition(records []events.KafkaRecord) (*Partition, error) {
	if len(records) == 0 {
		return &Partition{}, nil
	}
	p := &Partition{Topic: records[0].Topic, Partition: int32(records[0].Partition), Events: make([]Decoded, 0, len(records))}
	// One buffer for every value: the events' strings point into it, so a
	// batch costs one allocation here instead of one per record.
	size := 0
	for i := range records {
		size += base64.StdEncoding.DecodedLen(len(records[i].Value))
	}
	arena := make([]byte, 0, size)
	var dec event.Decoder
	for i := range records {
		rec := &records[i]
		if rec.Topic != p.Topic || int32(rec.Partition) != p.Partition {
			return nil, fmt.Errorf("record at offset %d is from %s-%d, not %s-%d", rec.Offset, rec.Topic, rec.Partition, p.Topic, p.Partition)
		}
		src := event.Source{Topic: p.Topic, Partition: p.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp.UnixMilli()}
		start := len(arena)
		var err error
		arena, err = base64.StdEncoding.AppendDecode(arena, unsafe.Slice(unsafe.StringData(rec.Value), len(rec.Value)))
		if err != nil {
			arena = arena[:start]
			p.Reject(rec, "value is not base64: "+err.Error())
			continue
		}
		// The value's bytes are never written again: the event may alias them.
		e, err := dec.DecodeOwned(arena[start:len(arena):len(arena)])
		if err != nil {
			p.Reject(rec, err.Error())
			continue
		}
		p.Events = append(p.Events, Decoded{Event: e, Source: src, Record: rec})
	}
	return p, nil
}

// Reject sets a record aside as a dead letter.
func (p *Partition) Reject(rec *events.KafkaRecord, reason string) {
	p.Rejected = append(p.Rejected, sink.Record[Rejected]{Offset: rec.Offset, Date: rec.Timestamp.Time, Row: Rejected{
		KafkaTopic: p.Topic, KafkaPartition: p.Partition, KafkaOffset: rec.Offset, KafkaTimestamp: rec.Timestamp.UnixMilli(),
		Key: decodeOrRaw(rec.Key), Value: decodeOrRaw(rec.Value), Reason: reason,
	}})
}

// LandRejected lands the dead letters of a job writing dataset and logs them.
func (p *Partition) LandRejected(ctx context.Context, s *sink.Sink, dataset string, log *slog.Logger) (sink.Landed, error) {
	landed, err := sink.Land(ctx, s, sink.RejectedDataset(dataset), p.Topic, p.Partition, p.Rejected)
	if err != nil {
		return landed, err
	}
	for _, r := range p.Rejected {
		log.Warn("record rejected", "dataset", dataset, "topic", p.Topic, "partition", p.Partition, "offset", r.Offset, "reason", r.Row.Reason)
	}
	return landed, nil
}

// partition processes the records of one topic partition.
func (j *Job) partition(ctx context.Context, records []events.KafkaRecord) (Summary, error) {
	sum := Summary{Records: len(records)}
	part, err := DecodePartition(records)
	if err != nil || len(records) == 0 {
		return sum, err
	}
	rows := make([]sink.Record[event.Row], 0, len(part.Events))
	for i := range part.Events {
		d := &part.Events[i]
		out, keep, err := j.Transform(&d.Event)
		if err != nil {
			part.Reject(d.Record, err.Error())
			continue
		}
		if !keep {
			sum.Filtered++
			continue
		}
		rows = append(rows, sink.Record[event.Row]{Offset: d.Source.Offset, Date: out.EventTime.Time(), Row: event.NewRow(&out, d.Source)})
	}
	landed, err := sink.Land(ctx, j.Sink, j.Dataset, part.Topic, part.Partition, rows)
	if err != nil {
		return sum, err
	}
	dead, err := part.LandRejected(ctx, j.Sink, j.Dataset, j.Log)
	if err != nil {
		return sum, err
	}
	sum.Landed, sum.Rejected = landed.Rows, len(part.Rejected)
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
