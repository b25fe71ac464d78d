package esm

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

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
	b = appendJSONString(b, bootstrapServers)
	b = append(b, `,"records":{`...)
	return b
}

const payloadSuffix = "}}"

// appendGroupOpen appends `"<topic>-<partition>":[`.
func appendGroupOpen(b []byte, topic string, partition int32) []byte {
	b = append(b, '"')
	b = appendJSONStringBody(b, topic)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(partition), 10)
	return append(b, `":[`...)
}

// recordHead returns `{"topic":"<t>","partition":<p>,"offset":`, which is the
// same for every record of a partition.
func recordHead(topic string, partition int32) []byte {
	b := make([]byte, 0, 40+len(topic))
	b = append(b, `{"topic":`...)
	b = appendJSONString(b, topic)
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
		b = appendJSONString(b, h.Key)
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

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONStringBody(b, s)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONStringBody escapes s for a JSON string: quotes, backslashes and
// control characters are escaped and invalid UTF-8 becomes U+FFFD, as
// encoding/json does (without its HTML escaping, which JSON does not need).
func appendJSONStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// encodeEvent encodes a complete payload for records grouped by partition;
// every group must be non-empty and hold records of one topic-partition in
// offset order. It is what the batcher produces incrementally, and what the
// benchmark measures.
func encodeEvent(dst []byte, bootstrapServers string, groups [][]*kgo.Record) []byte {
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
