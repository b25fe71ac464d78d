package esm

import (
	"github.com/questlog/questlog/local/internal/jsonenc"

	"encoding/base64"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The invocation payload is the events.KafkaEvent JSON Lambda sends for a
// self-managed Kafka event source:
//
//	{"eventSource":"SelfManagedKafka","bootstrapServers":"h:p,h:p",
//	 "records":{"<topic>-<partition>":[
//	   {"topic":…,"partition":0,"offset":5,"timestamp":1595035749700,
//	    "timestampType":"CREATE_TIME","key":"<base64>","value":"<base64>",
//	    "headers":[{"name":[104,-1]}]}]}}
//
// It is built by appending bytes rather than with encoding/json: batches
// hold up to 10,000 records and the exact size must be known record by
// record to honour the 6 MB limit. key and value are omitted when null,
// headers are a list of single-key objects with signed byte values (Java
// style, as aws-lambda-go's JSONNumberBytes expects), timestamps are integer
// milliseconds. eventSourceArn is absent, as for self-managed clusters.

// payloadPrefix returns everything before the first "records" key.
func payloadPrefix(bootstrapServers string) []byte {
	b := make([]byte, 0, 64+len(bootstrapServers))
	b = append(b, `{"eventSource":"`+EventSource+`","bootstrapServers":`...)
	b = jsonenc.AppendString(b, bootstrapServers)
	b = append(b, `,"records":{`...)
	return b
}

const payloadSuffix = "}}"

// appendGroupOpen appends `"<topic>-<partition>":[`.
func appendGroupOpen(b []byte, topic string, partition int32) []byte {
	b = jsonenc.AppendString(b, topic)
	b = b[:len(b)-1] // reopen the key: the partition follows the topic
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(partition), 10)
	return append(b, `":[`...)
}

// recordHead returns `{"topic":"<t>","partition":<p>,"offset":`, which is the
// same for every record of a partition.
func recordHead(topic string, partition int32) []byte {
	b := make([]byte, 0, 40+len(topic))
	b = append(b, `{"topic":`...)
	b = jsonenc.AppendString(b, topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(partition), 10)
	return append(b, `,"offset":`...)
}

// appendRecord appends one record object; head is recordHead(r.Topic,
// r.Partition).
func appendRecord(b, head []byte, r *kgo.Record) []byte {
	b = append(b, head...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
	if r.Attrs.TimestampType() == 1 {
		b = append(b, `,"timestampType":"LOG_APPEND_TIME"`...)
	} else {
		b = append(b, `,"timestampType":"CREATE_TIME"`...)
	}
	if r.Key != nil {
		b = append(b, `,"key":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Key)
		b = append(b, '"')
	}
	if r.Value != nil {
		b = append(b, `,"value":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Value)
		b = append(b, '"')
	}
	b = append(b, `,"headers":[`...)
	for i, h := range r.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = jsonenc.AppendString(b, h.Key)
		b = append(b, ":["...)
		for j, c := range h.Value {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, signedByte[c]...)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

// signedByte[b] is the decimal text of int8(b).
var signedByte = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(int(int8(i)))
	}
	return t
}()

// EncodePayload appends a complete payload for records grouped by
// partition; every group must be non-empty and hold records of one
// topic-partition in offset order. It is what the batcher produces
// incrementally, and what the benchmarks measure.
func EncodePayload(dst []byte, bootstrapServers string, groups [][]*kgo.Record) []byte {
	dst = append(dst, payloadPrefix(bootstrapServers)...)
	for gi, g := range groups {
		if gi > 0 {
			dst = append(dst, ',')
		}
		dst = appendGroupOpen(dst, g[0].Topic, g[0].Partition)
		head := recordHead(g[0].Topic, g[0].Partition)
		for i, r := range g {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendRecord(dst, head, r)
		}
		dst = append(dst, ']')
	}
	return append(dst, payloadSuffix...)
}
