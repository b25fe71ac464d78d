package kafkapayload_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/kafkaevent"
	"github.com/questlog/questlog/internal/kafkapayload"
)

// generated is a batch as the emulator's mappings send it: two partitions,
// keys, a null key, headers with bytes above 127.
func generated(t testing.TB) []byte {
	at := time.UnixMilli(1795739426568)
	ev := kafkaevent.FromRecords("127.0.0.1:9092", []*kgo.Record{
		{Topic: "game-events", Partition: 0, Offset: 7, Timestamp: at, Key: []byte("divya"), Value: []byte(`{"event_type":"default"}`)},
		{Topic: "game-events", Partition: 0, Offset: 8, Timestamp: at, Value: []byte(`{}`),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte{0, 104, 200, 255}}, {Key: "empty", Value: []byte{}}}},
		{Topic: "game-events", Partition: 2, Offset: 1, Timestamp: at.Add(time.Second), Key: []byte{}, Value: []byte("not json")},
	})
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func samples(t testing.TB) map[string][]byte {
	file, err := os.ReadFile("../../events/kafka-event.json")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := os.ReadFile("../../events/kafka-event-with-bad-records.json")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"events/kafka-event.json":                  file,
		"events/kafka-event-with-bad-records.json": bad,
		"generated":    generated(t),
		"null":         []byte(` null `),
		"empty object": []byte(`{}`),
		"null fields": []byte(`{"eventSource":null,"records":{"t-0":[{"topic":null,"partition":null,"offset":null,` +
			`"timestamp":null,"timestampType":null,"key":null,"value":null,"headers":null}],"t-1":null}}`),
		"null header": []byte(`{"records":{"t-0":[{"headers":[null,{"a":null},{"b":[1,null,-1]}]}]}}`),
		"unknown fields": []byte(`{"x":{"y":[1,2.5e3,true,false,null,"z"]},"records":{"t-0":[{"topic":"t","extra":{"a":[]},` +
			`"offset":3}]},"eventSourceArn":"arn:aws:kafka:us-east-1:1:cluster/c/1"}`),
		"escapes":       []byte(`{"records":{"t\u002d0":[{"topic":"t\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","value":"eyJ9"}]}}`),
		"whitespace":    []byte(" {\n\t\"records\" : { \"t-0\" : [ { \"offset\" : -5 , \"timestamp\" : -1500 } ] } }\r\n"),
		"invalid utf-8": []byte("{\"eventSource\":\"a\xffb\",\"records\":{\"t-0\":[{\"topic\":\"\xc3\"}]}}"),
		"repeated keys": []byte(`{"records":{"a-0":[{"offset":1}]},"records":{"b-0":[{"offset":2}],"b-0":[{"offset":3,"offset":4}]}}`),
		"empty groups":  []byte(`{"records":{"t-0":[]}}`),
	}
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for name, payload := range samples(t) {
		t.Run(name, func(t *testing.T) {
			var want events.KafkaEvent
			if err := json.Unmarshal(payload, &want); err != nil {
				t.Fatalf("encoding/json rejects the sample: %v", err)
			}
			got, err := kafkapayload.Decode(payload)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Decode =\n%+v\nencoding/json =\n%+v", got, want)
			}
		})
	}
}

func TestDecodeRejectsWhatEncodingJSONRejects(t *testing.T) {
	for _, payload := range []string{
		``, `{`, `[]`, `"x"`, `{"records":[]}`, `{"records":{"t-0":{}}}`, `{"records":{"t-0":[{"offset":"5"}]}}`,
		`{"records":{"t-0":[{"offset":1.5}]}}`, `{"records":{"t-0":[{"partition":99999999999999999999}]}}`,
		`{"records":{"t-0":[{"headers":[{"a":[128]}]}]}}`, `{"records":{"t-0":[{"headers":[{"a":[-129]}]}]}}`,
		`{"records":{"t-0":[{"headers":{"a":[1]}}]}}`, `{"records":{"t-0":[{"value":"a` + "\x01" + `"}]}}`,
		`{"records":{"t-0":[{"topic":"t"}]}} x`, `{"eventSource":"a",}`, `{"records":{"t-0":[{"offset":01}]}}`,
		`{"records":{"t-0":[{"key":"\x"}]}}`, `{"records":{"t-0":[{"timestamp":true}]}}`,
	} {
		var want events.KafkaEvent
		if err := json.Unmarshal([]byte(payload), &want); err == nil {
			t.Fatalf("encoding/json accepts %q: not a rejection sample", payload)
		}
		if ev, err := kafkapayload.Decode([]byte(payload)); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", payload, ev)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, payload := range samples(f) {
		f.Add(payload)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := kafkapayload.Decode(append([]byte(nil), payload...))
		if err != nil {
			return
		}
		var want events.KafkaEvent
		if err := json.Unmarshal(payload, &want); err != nil {
			t.Fatalf("Decode accepted %q, which encoding/json rejects: %v", payload, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) =\n%+v\nencoding/json =\n%+v", payload, got, want)
		}
	})
}

func TestHandlerDecodesThePayloadAndEncodesTheResult(t *testing.T) {
	type summary struct {
		Records int    `json:"records"`
		First   string `json:"first"`
	}
	h := kafkapayload.Handler(func(_ context.Context, ev events.KafkaEvent) (summary, error) {
		rs := ev.Records["game-events-0"]
		return summary{Records: len(rs), First: rs[0].Key}, nil
	})
	out, err := h.Invoke(context.Background(), generated(t))
	if err != nil || string(out) != `{"records":2,"first":"ZGl2eWE="}` {
		t.Errorf("Invoke = %s, %v", out, err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"records":`)); err == nil || !strings.Contains(err.Error(), "decode the Kafka event payload") {
		t.Errorf("truncated payload: err = %v", err)
	}
	failing := kafkapayload.Handler(func(context.Context, events.KafkaEvent) (summary, error) { return summary{}, errors.New("store down") })
	if _, err := failing.Invoke(context.Background(), generated(t)); err == nil || err.Error() != "store down" {
		t.Errorf("handler error = %v", err)
	}
}
