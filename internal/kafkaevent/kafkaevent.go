// Package kafkaevent builds the events.KafkaEvent Lambda's Kafka
// event-source mapping would deliver for records read with kafka-go: for
// sample payloads (generate-event) and tests. The emulator's mappings have
// their own, faster encoder in local/esm.
package kafkaevent

import (
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/segmentio/kafka-go"
)

// FromMessages groups msgs by topic-partition, as Lambda does, with base64
// keys and values and the headers in order.
func FromMessages(bootstrapServers string, msgs []kafka.Message) events.KafkaEvent {
	ev := events.KafkaEvent{EventSource: "SelfManagedKafka", BootstrapServers: bootstrapServers, Records: map[string][]events.KafkaRecord{}}
	for _, m := range msgs {
		rec := events.KafkaRecord{
			Topic: m.Topic, Partition: int64(m.Partition), Offset: m.Offset,
			Timestamp:     events.MilliSecondsEpochTime{Time: m.Time},
			TimestampType: "CREATE_TIME",
			Headers:       []map[string]events.JSONNumberBytes{},
		}
		if m.Key != nil {
			rec.Key = base64.StdEncoding.EncodeToString(m.Key)
		}
		if m.Value != nil {
			rec.Value = base64.StdEncoding.EncodeToString(m.Value)
		}
		for _, h := range m.Headers {
			rec.Headers = append(rec.Headers, map[string]events.JSONNumberBytes{h.Key: h.Value})
		}
		key := fmt.Sprintf("%s-%d", m.Topic, m.Partition)
		ev.Records[key] = append(ev.Records[key], rec)
	}
	return ev
}
