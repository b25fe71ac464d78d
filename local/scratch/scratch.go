// Package scratch keeps invocations of made-up Kafka events away from the
// live datasets.
//
// A Kafka job lands a record once per topic, partition and offset: the
// sink skips offsets a dataset already holds. A sample event (the
// README's events/kafka-event.json, `generate-event kafka`) claims
// offsets of the live topic that real records hold or will hold, so
// landing it in the live datasets would falsify them and make the real
// records there be skipped as already landed. So an invocation runs live
// only when every record of its event is in the live topic at its
// partition and offset with the same key and value bytes (what
// `generate-event kafka --from-topic` prints); any other event runs on a
// scratch stack of its own, an embedded broker and file:// datasets under
// <DataDir>/scratch, which the live datasets never see.
package scratch

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/local/emulator"
)

// For returns the configuration to invoke a function on payload with:
// cfg itself, or, if payload is a Kafka event with records that are not in
// the live topic as they are in the event, a scratch stack's, and a note
// that says why and where its datasets are.
func For(ctx context.Context, cfg emulator.Config, payload []byte) (emulator.Config, string, error) {
	var ev events.KafkaEvent
	if json.Unmarshal(payload, &ev) != nil || len(ev.Records) == 0 {
		return cfg, "", nil // not a Kafka event: nothing of the topic's to falsify
	}
	live, err := emulator.StartServicesOnly(ctx, cfg)
	if err != nil {
		return cfg, "", err
	}
	mismatch, err := Foreign(ctx, live.Brokers, ev)
	live.Close(context.Background())
	if err != nil {
		return cfg, "", fmt.Errorf("compare the event's records with the live topic: %w", err)
	}
	if mismatch == "" {
		return cfg, "", nil
	}
	cfg = cfg.WithDefaults()
	dir := filepath.Join(cfg.DataDir, "scratch")
	root := "file://" + filepath.Join(dir, "datasets")
	scratch := cfg
	scratch.DataDir = dir
	scratch.KafkaAddr, scratch.HDFSAddr = "127.0.0.1:0", "127.0.0.1:0"
	scratch.ParameterOverrides = map[string]string{}
	for k, v := range cfg.ParameterOverrides {
		if k != emulator.ParamKafka { // a real cluster is live too
			scratch.ParameterOverrides[k] = v
		}
	}
	scratch.ParameterOverrides[emulator.ParamDatasetRoot] = root
	note := fmt.Sprintf("questlog invoke: %s, so this is not a live record: the event runs on a scratch stack "+
		"(its own Kafka, datasets in %s); the live topic and datasets are untouched. "+
		"See what it landed: go run ./local show <dataset> --parameter-overrides DatasetRoot=%s", mismatch, root, root)
	return scratch, note, nil
}

// Foreign describes the first record of ev that is not in the topic on
// brokers at its partition and offset with the same key and value, or
// returns "" if every record is.
func Foreign(ctx context.Context, brokers []string, ev events.KafkaEvent) (string, error) {
	for _, key := range slices.Sorted(maps.Keys(ev.Records)) {
		recs := ev.Records[key]
		if len(recs) == 0 {
			continue
		}
		why, err := foreignIn(ctx, brokers, recs)
		if err != nil || why != "" {
			return why, err
		}
	}
	return "", nil
}

// foreignIn checks records of one topic partition against the topic.
func foreignIn(ctx context.Context, brokers []string, recs []events.KafkaRecord) (string, error) {
	topic, partition := recs[0].Topic, int(recs[0].Partition)
	where := func(offset int64) string { return fmt.Sprintf("%s partition %d offset %d", topic, partition, offset) }
	want := map[int64]*events.KafkaRecord{}
	lo, hi := recs[0].Offset, recs[0].Offset
	for i := range recs {
		r := &recs[i]
		if r.Topic != topic || int(r.Partition) != partition {
			return fmt.Sprintf("the event groups %s-%d with %s-%d", r.Topic, r.Partition, topic, partition), nil
		}
		want[r.Offset] = r
		lo, hi = min(lo, r.Offset), max(hi, r.Offset)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := dialLeader(ctx, brokers, topic, partition)
	var kafkaErr kafka.Error
	if errors.As(err, &kafkaErr) {
		return fmt.Sprintf("the live Kafka has no %s partition %d (%v)", topic, partition, err), nil
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return "", err
	}
	switch {
	case first == last:
		return fmt.Sprintf("%s partition %d is empty", topic, partition), nil
	case lo < first || hi >= last:
		return fmt.Sprintf("%s partition %d holds offsets %d-%d, not %d-%d", topic, partition, first, last-1, lo, hi), nil
	}
	deadline, _ := ctx.Deadline()
	conn.SetReadDeadline(deadline)
	for next := lo; len(want) > 0 && next <= hi; {
		if _, err := conn.Seek(next, kafka.SeekAbsolute); err != nil {
			return "", err
		}
		from := next
		batch := conn.ReadBatch(1, 64<<20)
		for next <= hi {
			m, err := batch.ReadMessage()
			if err != nil {
				break // the end of what this fetch returned
			}
			next = m.Offset + 1
			if r, ok := want[m.Offset]; ok {
				delete(want, m.Offset)
				if !sameBytes(r.Key, m.Key) || !sameBytes(r.Value, m.Value) {
					batch.Close()
					return where(m.Offset) + " holds other bytes than the event's record", nil
				}
			}
		}
		if err := batch.Close(); err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		if next == from {
			break // nothing more to read: compaction removed the rest
		}
	}
	for _, offset := range slices.Sorted(maps.Keys(want)) {
		return where(offset) + " is not in the live topic", nil
	}
	return "", nil
}

// sameBytes compares a record field as the event carries it (base64) with
// the bytes the topic holds.
func sameBytes(encoded string, b []byte) bool {
	decoded, err := base64.StdEncoding.DecodeString(encoded)
	return err == nil && bytes.Equal(decoded, b)
}

// dialLeader connects to the leader of a partition, or explains, as a
// kafka.Error, that the topic or partition does not exist (DialLeader
// alone would wait for them until ctx ends).
func dialLeader(ctx context.Context, brokers []string, topic string, partition int) (*kafka.Conn, error) {
	var lastErr error
	for _, b := range brokers {
		conn, err := kafka.DialContext(ctx, "tcp", b)
		if err != nil {
			lastErr = err
			continue
		}
		parts, err := conn.ReadPartitions(topic)
		conn.Close()
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(parts, func(p kafka.Partition) bool { return p.ID == partition }) {
			return nil, kafka.UnknownTopicOrPartition
		}
		return kafka.DialLeader(ctx, "tcp", b, topic, partition)
	}
	return nil, fmt.Errorf("reach kafka %v: %w", brokers, lastErr)
}
