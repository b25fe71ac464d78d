// Package kafkaevent builds the events.KafkaEvent Lambda's Kafka
// event-source mapping would deliver for records (franz-go's kgo.Record):
// for sample payloads (generate-event) and tests. The emulator's mappings
// have their own, faster encoder in local/esm.
package kafkaevent

import (
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"
)

// FromRecords groups recs by topic-partition, as Lambda does, with base64
// keys and values and the headers in order.
func FromRecords(bootstrapServers string, recs []*kgo.Record) events.KafkaEvent {
	ev := events.KafkaEvent{EventSource: "SelfManagedKafka", BootstrapServers: bootstrapServers, Records: map[string][]events.KafkaRecord{}}
	for _, r := range recs {
		rec := events.KafkaRecord{
			Topic: r.Topic, Partition: int64(r.Partition), Offset: r.Offset,
			Timestamp:     events.MilliSecondsEpochTime{Time: r.Timestamp},
			TimestampType: "CREATE_TIME",
			Headers:       []map[string]events.JSONNumberBytes{},
		}
		if r.Key != nil {
			rec.Key = base64.StdEncoding.EncodeToString(r.Key)
		}
		if r.Value != nil {
			rec.Value = base64.StdEncoding.EncodeToString(r.Value)
		}
		for _, h := range r.Headers {
			rec.Headers = append(rec.Headers, map[string]events.JSONNumberBytes{h.Key: h.Value})
		}
		key := fmt.Sprintf("%s-%d", r.Topic, r.Partition)
		ev.Records[key] = append(ev.Records[key], rec)
	}
	return ev
}
