package kafkapub_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/questlog/questlog/internal/kafkapub"
	"github.com/questlog/questlog/internal/kafkatest"
)

func publisher(t *testing.T, addr string) *kafkapub.Publisher {
	t.Helper()
	pub, err := kafkapub.New(kafkapub.Config{Brokers: []string{"127.0.0.1:1", addr}, Topic: kafkatest.Topic, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	return pub
}

// Keyed records land in the partition Java's partitioner picks (murmur2),
// keyless ones anywhere; all are acknowledged and readable, in order per
// key. The first bootstrap server is down: the next one is used.
func TestPublishPartitionsLikeJava(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	pub := publisher(t, addr)
	for i := range 30 {
		key := []byte("player" + strconv.Itoa(i%7))
		if i%5 == 0 {
			key = nil
		}
		if err := pub.Publish(context.Background(), key, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	msgs := kafkatest.ReadAll(t, addr, 3)
	if len(msgs) != 30 {
		t.Fatalf("read %d records, want 30", len(msgs))
	}
	last := map[string]int{}
	for _, m := range msgs {
		n, _ := strconv.Atoi(string(m.Value))
		if m.Key == nil {
			continue
		}
		if want := (kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: m.Key}, 0, 1, 2); m.Partition != want {
			t.Errorf("key %s is in partition %d, Java's partitioner says %d", m.Key, m.Partition, want)
		}
		if prev, ok := last[string(m.Key)]; ok && n < prev {
			t.Errorf("key %s: record %d after %d", m.Key, n, prev)
		}
		last[string(m.Key)] = n
	}
}

// A broker restart breaks the connections; the next Publish reconnects to
// the new broker and is acknowledged.
func TestPublishReconnectsAfterABrokerRestart(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, kafkatest.Topic))
	if err != nil {
		t.Fatal(err)
	}
	addr := c.ListenAddrs()[0]
	pub := publisher(t, addr)
	key := []byte("divya")
	if err := pub.Publish(context.Background(), key, []byte("before")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	c2, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(3, kafkatest.Topic))
	if err != nil {
		t.Fatalf("restart the broker on %s: %v", addr, err)
	}
	defer c2.Close()
	if err := pub.Publish(context.Background(), key, []byte("after")); err != nil {
		t.Fatalf("publish after the restart: %v", err)
	}
	if msgs := kafkatest.ReadAll(t, addr, 3); len(msgs) != 1 || string(msgs[0].Value) != "after" {
		t.Fatalf("the restarted broker holds %v, want the one record published after the restart", msgs)
	}
}
