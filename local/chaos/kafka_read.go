package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaReader reads topics and group offsets back from the stack's broker.
type kafkaReader struct {
	brokers []string
	cl      *kgo.Client
	adm     *kadm.Client
}

func newKafkaReader(brokers []string) (*kafkaReader, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	return &kafkaReader{brokers: brokers, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (rd *kafkaReader) close() { rd.cl.Close() }

// partitions returns the partition count of topic.
func (rd *kafkaReader) partitions(ctx context.Context, topic string) (int, error) {
	topics, err := rd.adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, err
	}
	t, ok := topics[topic]
	if !ok || t.Err != nil || len(t.Partitions) == 0 {
		return 0, fmt.Errorf("topic %s not found: %v", topic, t.Err)
	}
	return len(t.Partitions), nil
}

// each calls fn for every record of topic, from the start of each
// partition to its end as of the call.
func (rd *kafkaReader) each(ctx context.Context, topic string, fn func(*kgo.Record)) error {
	adm, brokers := rd.adm, rd.brokers
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("list the start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("list the end offsets of %s: %w", topic, err)
	}
	from := map[int32]kgo.Offset{}
	remaining := map[int32]int64{} // partition → its end offset
	ends.Each(func(o kadm.ListedOffset) {
		start, _ := starts.Lookup(topic, o.Partition)
		if o.Offset > start.Offset {
			from[o.Partition] = kgo.NewOffset().At(start.Offset)
			remaining[o.Partition] = o.Offset
		}
	})
	if len(remaining) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %d partitions not read to their end: %w", topic, len(remaining), err)
		}
		// Fetch errors are retried by the client; a partition that never
		// reaches its end fails the read when ctx does.
		fetches.EachRecord(func(r *kgo.Record) {
			end, open := remaining[r.Partition]
			if !open || r.Offset >= end {
				return
			}
			fn(r)
			if r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	return nil
}

// lagOf returns each group's lag on topic: the records after its committed
// offsets, summed over the partitions.
func lagOf(ctx context.Context, adm *kadm.Client, topic string, groups []string) (map[string]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	lag := map[string]int64{}
	for _, g := range groups {
		committed, err := adm.FetchOffsets(ctx, g)
		if err != nil {
			return nil, fmt.Errorf("fetch the offsets of group %s: %w", g, err)
		}
		lag[g] = 0
		ends.Each(func(o kadm.ListedOffset) {
			at := int64(0)
			if c, ok := committed.Lookup(topic, o.Partition); ok && c.At > 0 {
				at = c.At
			}
			lag[g] += max(0, o.Offset-at)
		})
	}
	return lag, nil
}

// drain waits until every group has committed to the end of topic, until
// the total lag stops going down for stall, or until within has passed,
// and returns the lag it ended with.
func drain(ctx context.Context, adm *kadm.Client, topic string, groups []string, within, stall time.Duration, progress func(total int64)) map[string]int64 {
	deadline := time.Now().Add(within)
	best, bestAt := int64(-1), time.Now()
	var lag map[string]int64
	for {
		l, err := lagOf(ctx, adm, topic, groups)
		if err == nil {
			lag = l
			total := int64(0)
			for _, n := range l {
				total += n
			}
			progress(total)
			if total == 0 {
				return lag
			}
			if best < 0 || total < best {
				best, bestAt = total, time.Now()
			}
		}
		if time.Now().After(deadline) || time.Since(bestAt) > stall || ctx.Err() != nil {
			return lag
		}
		time.Sleep(time.Second)
	}
}
