package kafkapayload_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/kafkaevent"
	"github.com/questlog/questlog/internal/kafkapayload"
)

// batch is a 1,000-record payload of typical events (~700 bytes each).
func batch(b *testing.B) []byte {
	recs := make([]*kgo.Record, 1000)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "game-events", Partition: int32(i % 3), Offset: int64(i), Timestamp: time.UnixMilli(1795739426568),
			Key:   []byte(fmt.Sprint("player", i%500)),
			Value: []byte(fmt.Sprintf(`{"schema_version":1,"event_id":"019a6b1e-7c2d-7f00-8000-%012d","event_type":"purchase_sword","event_time":"2026-11-27T00:22:45.123Z","user_name":"player%d","item_type":"sword","item_name":"Iron Sword","item_rarity":"common","quantity":1,"price_cents":1500,"currency":"gold","remote_ip":"203.0.113.7","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.181 Safari/537.36","host":"localhost:3000","headers":{"Accept":"text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8","Accept-Language":"en-US,en;q=0.9"}}`, i, i%500))}
	}
	data, _ := json.Marshal(kafkaevent.FromRecords("127.0.0.1:9092", recs))
	return data
}

// BenchmarkDecode is a job's decode of its invocation payload, per batch
// of 1,000 records; BenchmarkDecodeEncodingJSON is what aws-lambda-go's
// reflection-based decode costs for the same payload.
func BenchmarkDecode(b *testing.B) {
	data := batch(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := kafkapayload.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEncodingJSON(b *testing.B) {
	data := batch(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var ev events.KafkaEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}
