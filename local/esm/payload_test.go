package esm

import (
	"github.com/questlog/questlog/local/internal/jsonenc"

	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafkaEvent builds, with aws-lambda-go's types, the event the payload must
// be equivalent to.
func kafkaEvent(bootstrap string, groups [][]*kgo.Record) events.KafkaEvent {
	ev := events.KafkaEvent{EventSource: EventSource, BootstrapServers: bootstrap, Records: map[string][]events.KafkaRecord{}}
	for _, g := range groups {
		key := g[0].Topic + "-" + strconv.Itoa(int(g[0].Partition))
		for _, r := range g {
			kr := events.KafkaRecord{
				Topic: r.Topic, Partition: int64(r.Partition), Offset: r.Offset,
				Timestamp:     events.MilliSecondsEpochTime{Time: time.UnixMilli(r.Timestamp.UnixMilli())},
				TimestampType: "CREATE_TIME",
				Headers:       []map[string]events.JSONNumberBytes{},
			}
			if r.Attrs.TimestampType() == 1 {
				kr.TimestampType = "LOG_APPEND_TIME"
			}
			if r.Key != nil {
				kr.Key = base64.StdEncoding.EncodeToString(r.Key)
			}
			if r.Value != nil {
				kr.Value = base64.StdEncoding.EncodeToString(r.Value)
			}
			for _, h := range r.Headers {
				kr.Headers = append(kr.Headers, map[string]events.JSONNumberBytes{h.Key: h.Value})
			}
			ev.Records[key] = append(ev.Records[key], kr)
		}
	}
	return ev
}

func testRecords(topic string, partition int32, n int, valueSize int) []*kgo.Record {
	rs := make([]*kgo.Record, n)
	val := bytes.Repeat([]byte("x"), valueSize)
	for i := range rs {
		rs[i] = &kgo.Record{
			Topic: topic, Partition: partition, Offset: int64(1000 + i),
			Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i)),
			Key:       []byte("player-" + strconv.Itoa(i%97)),
			Value:     append(append([]byte(nil), val...), strconv.Itoa(i)...),
			Headers: []kgo.RecordHeader{
				{Key: "event-type", Value: []byte("quest.completed")},
				{Key: "trace", Value: []byte{0, 127, 128, 200, 255}},
			},
		}
	}
	return rs
}

func TestEncodeEventMatchesAWSLambdaGo(t *testing.T) {
	weird := &kgo.Record{
		Topic: "t.weird_1", Partition: 2, Offset: 7, Timestamp: time.UnixMilli(1595035749700),
		Key: nil, Value: nil,
		Headers: []kgo.RecordHeader{
			{Key: `quote" back\slash`, Value: []byte{0x80, 0xff, 0x00, 0x7f}},
			{Key: "ctl\x01\n\t", Value: nil},
			{Key: "ünï€ode 🎮", Value: []byte{}},
			{Key: "bad\xffutf8", Value: []byte{1}},
			{Key: "dup", Value: []byte{1}},
			{Key: "dup", Value: []byte{2}},
		},
	}
	empty := &kgo.Record{Topic: "t.weird_1", Partition: 2, Offset: 8, Timestamp: time.UnixMilli(1), Key: []byte{}, Value: []byte{}}
	logAppend := logAppendTimeRecord(t, "t.weird_1", 2, 9, 5, []byte{0xff})
	groups := [][]*kgo.Record{
		testRecords("game-events", 0, 3, 10),
		{weird, empty, logAppend},
		testRecords("game-events", 11, 2, 0),
	}
	bootstrap := `127.0.0.1:9092,"odd":1`

	got := EncodePayload(nil, bootstrap, groups)
	if !json.Valid(got) {
		t.Fatalf("payload is not valid JSON: %s", got)
	}

	// Decoding with aws-lambda-go gives exactly the event built with it.
	var dec events.KafkaEvent
	if err := json.Unmarshal(got, &dec); err != nil {
		t.Fatalf("events.KafkaEvent cannot decode the payload: %v\n%s", err, got)
	}
	want := kafkaEvent(bootstrap, groups)
	// json.Marshal would turn invalid UTF-8 into U+FFFD as we do.
	want.Records["t.weird_1-2"][0].Headers[3] = map[string]events.JSONNumberBytes{"bad\uFFFDutf8": {1}}
	for _, rs := range dec.Records {
		for i := range rs {
			rs[i].Timestamp.Time = rs[i].Timestamp.UTC()
		}
	}
	for _, rs := range want.Records {
		for i := range rs {
			rs[i].Timestamp.Time = rs[i].Timestamp.UTC()
		}
	}
	if !reflect.DeepEqual(normalize(dec), normalize(want)) {
		t.Errorf("decoded payload differs from the expected event\n got: %+v\nwant: %+v", dec, want)
	}

	// Same JSON document as json.Marshal of the aws-lambda-go event, except
	// eventSourceArn, which self-managed events do not carry.
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(wantJSON, &w); err != nil {
		t.Fatal(err)
	}
	delete(w, "eventSourceArn")
	// json.Marshal omits an empty key/value (omitempty); Lambda sends ""
	// for an empty, non-null key or value, as we do.
	rec := g["records"].(map[string]any)["t.weird_1-2"].([]any)[1].(map[string]any)
	if rec["key"] != "" || rec["value"] != "" {
		t.Errorf("empty key/value: got key %v value %v, want \"\"", rec["key"], rec["value"])
	}
	delete(rec, "key")
	delete(rec, "value")
	if !reflect.DeepEqual(g, w) {
		t.Errorf("payload JSON differs from json.Marshal(events.KafkaEvent)\n got: %s\nwant: %s", got, wantJSON)
	}

	// Raw shape checks.
	for _, s := range []string{
		`"eventSource":"SelfManagedKafka"`,
		`"headers":[{"quote\" back\\slash":[-128,-1,0,127]},{"ctl\u0001\n\t":[]}`,
		`"timestamp":1595035749700,"timestampType":"CREATE_TIME","headers"`, // key and value omitted when null
		`"timestampType":"LOG_APPEND_TIME"`,
		`"partition":2,"offset":7`,
	} {
		if !bytes.Contains(got, []byte(s)) {
			t.Errorf("payload lacks %s\n%s", s, got)
		}
	}
	if bytes.Contains(got, []byte("eventSourceArn")) {
		t.Error("payload has eventSourceArn; self-managed Kafka events do not")
	}
}

// logAppendTimeRecord returns a record as kgo decodes it from a batch with
// the LOG_APPEND_TIME timestamp type (kgo's producer never writes one, and
// RecordAttrs cannot be set directly).
func logAppendTimeRecord(t *testing.T, topic string, partition int32, offset, ts int64, value []byte) *kgo.Record {
	t.Helper()
	rec := kmsg.Record{Value: value}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1)
	rb := kmsg.RecordBatch{
		FirstOffset: offset, Magic: 2, Attributes: 0x08, // timestamp type: log append time
		FirstTimestamp: ts, MaxTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: 1, Records: rec.AppendTo(nil),
	}
	rb.Length = int32(len(rb.AppendTo(nil)) - 12)
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
		Topic: topic, Partition: partition, Offset: offset, DisableCRCValidation: true,
	}, &kmsg.FetchResponseTopicPartition{Partition: partition, HighWatermark: offset + 1, RecordBatches: rb.AppendTo(nil)},
		kgo.DefaultDecompressor(), nil)
	if fp.Err != nil || len(fp.Records) != 1 {
		t.Fatalf("decode log-append-time batch: %v, %d records", fp.Err, len(fp.Records))
	}
	r := fp.Records[0]
	if r.Attrs.TimestampType() != 1 || r.Timestamp.UnixMilli() != ts {
		t.Fatalf("record has timestamp type %d at %d, want 1 at %d", r.Attrs.TimestampType(), r.Timestamp.UnixMilli(), ts)
	}
	return r
}

// normalize makes nil and empty header values comparable.
func normalize(ev events.KafkaEvent) events.KafkaEvent {
	for _, rs := range ev.Records {
		for _, r := range rs {
			for _, h := range r.Headers {
				for k, v := range h {
					if len(v) == 0 {
						h[k] = events.JSONNumberBytes{}
					}
				}
			}
		}
	}
	return ev
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"\`, "\x00\x1f\x7f", "<>&", "\u2028\u2029", "é🎮", "\xff", "a\xc3", "\xed\xa0\x80"} {
		got := jsonenc.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("AppendString(%q) = %s: invalid JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("AppendString(%q) decodes to %q, encoding/json round trip gives %q", s, back, wantBack)
		}
	}
}

const benchRecords = 10000

func BenchmarkEncodePayload10k(b *testing.B) {
	groups := [][]*kgo.Record{testRecords("game-events", 3, benchRecords, 200)}
	buf := EncodePayload(nil, "127.0.0.1:9092", groups)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = EncodePayload(buf[:0], "127.0.0.1:9092", groups)
	}
	b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodePayload10kBatcher measures the hot path as the worker runs
// it: filter check, append, size check per record, fresh buffer per batch.
func BenchmarkEncodePayload10kBatcher(b *testing.B) {
	rs := testRecords("game-events", 3, benchRecords, 200)
	cfg := &workerConfig{batchSize: benchRecords, prefix: payloadPrefix("127.0.0.1:9092"), maxPayload: 1 << 30}
	w := &worker{cfg: cfg, head: recordHead("game-events", 3), open: appendGroupOpen(payloadPrefix("127.0.0.1:9092"), "game-events", 3)}
	var size int
	b.ReportAllocs()
	for b.Loop() {
		bt := &batch{buf: make([]byte, 0, max(size, 4096))}
		bt.buf = append(bt.buf, w.open...)
		for _, r := range rs {
			w.add(bt, r)
		}
		out := append(bt.buf, "]}}"...)
		size = cap(out)
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkJSONMarshal10k(b *testing.B) {
	groups := [][]*kgo.Record{testRecords("game-events", 3, benchRecords, 200)}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		// Building the struct (base64) is part of the cost, as it is for us.
		out, err := json.Marshal(kafkaEvent("127.0.0.1:9092", groups))
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.SetBytes(int64(n))
	b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
}

func ExampleMapping_GroupID() {
	m := Mapping{Function: "ParquetWriter", Topic: "game-events"}
	fmt.Println(m.GroupID())
	m.ConsumerGroupID = "parquet-writer"
	fmt.Println(m.GroupID())
	// Output:
	// lambda-esm-ParquetWriter-game-events-4e71a41dd0abf4f0
	// parquet-writer
}
