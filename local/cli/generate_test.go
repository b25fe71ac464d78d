package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/local/kafka"
)

// The README's curls land on whichever partitions their keys hash to;
// generate-event kafka --from-topic takes the topic's first records from
// all of them. It used to read partition 0 only and fail with
// "game-events[0] is empty".
func TestGenerateEventFromTopicReadsEveryPartition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := kafka.Start(ctx, kafka.Config{Addr: "127.0.0.1:0", Topics: []kafka.Topic{{Name: "game-events", Partitions: 3}}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range 12 { // 4 on partition 1, 8 on partition 2, in time order
		r := &kgo.Record{Topic: "game-events", Partition: int32(1 + min(1, i%3)), Value: fmt.Appendf(nil, `{"n":%d}`, i), Timestamp: base.Add(time.Duration(i) * time.Second)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	args := []string{"generate-event", "kafka", "--from-topic", "--count", "10", "--data-dir", t.TempDir(),
		"--parameter-overrides", "KafkaBootstrapServers=" + b.Addrs()[0] + " DatasetRoot=file://" + t.TempDir()}
	stdout, stderr, status := questlog(t, "", args...)
	if status != 0 {
		t.Fatalf("exit status %d:\n%s", status, stderr)
	}
	var ev events.KafkaEvent
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	var got []string
	for _, key := range []string{"game-events-0", "game-events-1", "game-events-2"} {
		for _, r := range ev.Records[key] {
			got = append(got, fmt.Sprintf("%d/%d", r.Partition, r.Offset))
		}
	}
	// The first ten by time: i = 0..9, of which 0, 3, 6, 9 went to partition 1.
	if want := "1/0 1/1 1/2 1/3 2/0 2/1 2/2 2/3 2/4 2/5"; strings.Join(got, " ") != want {
		t.Errorf("records %s, want %s", strings.Join(got, " "), want)
	}

	stdout, _, status = questlog(t, "", append(args, "--count", "2", "--partition", "2")...)
	if status != 0 || !strings.Contains(stdout, `"game-events-2"`) || strings.Contains(stdout, `"game-events-1"`) {
		t.Errorf("--partition 2: status %d\n%s", status, stdout)
	}
}
