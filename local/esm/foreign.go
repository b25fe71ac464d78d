package esm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A Kafka job lands a record once per topic, partition and offset, so an
// invocation with records that are not the topic's (a sample event, an
// edited one) would land made-up rows in the live datasets and make the
// real records at those offsets be skipped as landed. Foreign tells them
// apart.

// KafkaEventOf parses payload as a Kafka event with records; ok is false
// for any other payload, which holds nothing of a topic's to falsify.
func KafkaEventOf(payload []byte) (ev events.KafkaEvent, ok bool) {
	return ev, json.Unmarshal(payload, &ev) == nil && len(ev.Records) > 0
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
	topic, partition := recs[0].Topic, recs[0].Partition
	where := func(offset int64) string { return fmt.Sprintf("%s partition %d offset %d", topic, partition, offset) }
	want := map[int64]*events.KafkaRecord{}
	lo, hi := recs[0].Offset, recs[0].Offset
	for i := range recs {
		r := &recs[i]
		if r.Topic != topic || r.Partition != partition {
			return fmt.Sprintf("the event groups %s-%d with %s-%d", r.Topic, r.Partition, topic, partition), nil
		}
		want[r.Offset] = r
		lo, hi = min(lo, r.Offset), max(hi, r.Offset)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {int32(partition): kgo.NewOffset().At(lo)}}))
	if err != nil {
		return "", err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("read the offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("read the offsets of %s: %w", topic, err)
	}
	first, okFirst := starts.Lookup(topic, int32(partition))
	last, okLast := ends.Lookup(topic, int32(partition))
	switch {
	case !okFirst || !okLast || first.Err != nil || last.Err != nil:
		return fmt.Sprintf("the live Kafka has no %s partition %d", topic, partition), nil
	case first.Offset == last.Offset:
		return fmt.Sprintf("%s partition %d is empty", topic, partition), nil
	case lo < first.Offset || hi >= last.Offset:
		return fmt.Sprintf("%s partition %d holds offsets %d-%d, not %d-%d", topic, partition, first.Offset, last.Offset-1, lo, hi), nil
	}
	for len(want) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("read %s partition %d: %w", topic, partition, err)
		}
		if err := fetches.Err(); err != nil {
			return "", fmt.Errorf("read %s partition %d: %w", topic, partition, err)
		}
		mismatch := ""
		fetches.EachRecord(func(m *kgo.Record) {
			if r, ok := want[m.Offset]; ok {
				delete(want, m.Offset)
				if mismatch == "" && (!sameBytes(r.Key, m.Key) || !sameBytes(r.Value, m.Value)) {
					mismatch = where(m.Offset) + " holds other bytes than the event's record"
				}
			}
			if m.Offset >= hi {
				// Past the event's last offset: what is still wanted was
				// compacted away.
				for offset := range want {
					if offset < m.Offset {
						delete(want, offset)
						mismatch = cmp.Or(mismatch, where(offset)+" is not in the live topic")
					}
				}
			}
		})
		if mismatch != "" {
			return mismatch, nil
		}
	}
	return "", nil
}

// sameBytes compares a record field as the event carries it (base64) with
// the bytes the topic holds.
func sameBytes(encoded string, b []byte) bool {
	decoded, err := base64.StdEncoding.DecodeString(encoded)
	return err == nil && bytes.Equal(decoded, b)
}
