// Package kafkatest starts a real Kafka-protocol broker (kfake) in the test
// process, on a loopback port, with the topic the tests use.
package kafkatest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/kafkaevent"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topic is the topic Start creates.
const Topic = "game-events"

// Start runs a broker with Topic, and any extra topics, in the given number
// of partitions and returns its address; it stops when the test ends.
func Start(t testing.TB, partitions int32, extraTopics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, append([]string{Topic}, extraTopics...)...))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// ReadAll reads every record of Topic, from the beginning to the end as of
// the call.
func ReadAll(t testing.TB, addr string, partitions int) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all []kafka.Message
	for p := range partitions {
		conn, err := kafka.DialLeader(ctx, "tcp", addr, Topic, p)
		if err != nil {
			t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: Topic, Partition: p, MaxWait: 50 * time.Millisecond})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s[%d]: %v", Topic, p, err)
			}
			all = append(all, m)
			if m.Offset == last-1 {
				break
			}
		}
		r.Close()
	}
	return all
}

// Event builds the events.KafkaEvent Lambda's event-source mapping would
// deliver for msgs, round-tripped through its JSON form.
func Event(t testing.TB, addr string, msgs []kafka.Message) events.KafkaEvent {
	t.Helper()
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = &kgo.Record{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset, Timestamp: m.Time, Key: m.Key, Value: m.Value}
		for _, h := range m.Headers {
			recs[i].Headers = append(recs[i].Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
	}
	ev := kafkaevent.FromRecords(addr, recs)
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var out events.KafkaEvent
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Produce writes raw records straight to Topic.
func Produce(t testing.TB, addr string, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: Topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
}
