// Package kafkatest starts a real Kafka-protocol broker (kfake) in the test
// process, on a loopback port, with the topic the tests use.
package kafkatest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/event"
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

// BrowserEvent is the i-th event of a realistic sequence for benchmarks:
// the seed's mix of event types, 500 players, 20 guilds, a browser's
// headers, one event a millisecond.
func BrowserEvent(i int) event.Event {
	const agent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.181 Safari/537.36"
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	e := event.Event{
		SchemaVersion: 1, EventID: fmt.Sprintf("019a6b1e-7c2d-7f00-8000-%012d", i),
		EventType: []string{event.TypeDefault, event.TypePurchaseSword, event.TypeJoinGuild}[i%3],
		EventTime: event.MillisOf(start.Add(time.Duration(i) * time.Millisecond)),
		UserName:  fmt.Sprintf("player%d", i%500), RemoteIP: "203.0.113.7", Host: "localhost:3000", UserAgent: agent,
		Headers: map[string]string{
			"Accept":                    "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8",
			"Accept-Encoding":           "gzip, deflate",
			"Accept-Language":           "en-US,en;q=0.9",
			"Cache-Control":             "max-age=0",
			"Upgrade-Insecure-Requests": "1",
			"User-Agent":                agent,
		},
	}
	if e.EventType == event.TypeJoinGuild {
		e.GuildName = fmt.Sprintf("guild%d", i%20)
	}
	return e
}
