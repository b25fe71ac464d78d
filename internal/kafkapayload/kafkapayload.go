// Package kafkapayload is the Kafka-triggered functions' side of the
// invocation: it decodes the events.KafkaEvent JSON Lambda's Kafka
// event-source mapping sends, as aws-lambda-go's encoding/json decode would
// but several times faster and without copying the records' base64 text,
// and adapts a batch handler to aws-lambda-go's raw Handler, which receives
// the payload bytes.
//
// The decode was half of a job's cost per record with encoding/json (a
// 6 MB batch of 10,000 records is mostly base64 text that encoding/json
// copies into a string per record, then the job decodes again).
package kafkapayload

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/questlog/questlog/internal/jsonscan"
)

// Decode parses an invocation payload into events.KafkaEvent, accepting
// and returning what encoding/json would for that type. The strings of the
// result point into payload, so payload must not be modified while the
// event is in use.
func Decode(payload []byte) (events.KafkaEvent, error) {
	var ev events.KafkaEvent
	s := jsonscan.Scanner{Data: payload, Owned: true}
	if s.Null() { // encoding/json leaves the value as it is
		return ev, s.End()
	}
	err := s.Members(func(key []byte) error { return eventField(&s, &ev, key) })
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return events.KafkaEvent{}, fmt.Errorf("decode the Kafka event payload: %w", err)
	}
	return ev, nil
}

// The keys of events.KafkaEvent and events.KafkaRecord, for keys that
// match only ignoring case.
var (
	eventFields  = []string{"eventSource", "eventSourceArn", "bootstrapServers", "records"}
	recordFields = []string{"topic", "partition", "offset", "timestamp", "timestampType", "key", "value", "headers"}
)

func eventField(s *jsonscan.Scanner, ev *events.KafkaEvent, key []byte) error {
	var err error
	switch string(key) {
	case "eventSource":
		ev.EventSource, err = s.StringOrNull(key)
	case "eventSourceArn":
		ev.EventSourceARN, err = s.StringOrNull(key)
	case "bootstrapServers":
		ev.BootstrapServers, err = s.StringOrNull(key)
	case "records":
		ev.Records, err = records(s, ev.Records)
	default:
		if name := jsonscan.Fold(key, eventFields); name != "" {
			return eventField(s, ev, []byte(name))
		}
		err = s.Skip()
	}
	return err
}

// records reads the records by topic-partition into groups (a repeated
// "records" key adds to the same map, as encoding/json does).
func records(s *jsonscan.Scanner, groups map[string][]events.KafkaRecord) (map[string][]events.KafkaRecord, error) {
	if s.Null() {
		return nil, nil
	}
	if groups == nil {
		groups = map[string][]events.KafkaRecord{}
	}
	err := s.Members(func(key []byte) error {
		name := s.String(key)
		if s.Null() {
			groups[name] = nil
			return nil
		}
		rs := []events.KafkaRecord{}
		err := s.Elements(func() error {
			var r events.KafkaRecord
			if err := record(s, &r); err != nil {
				return fmt.Errorf("records[%q][%d]: %w", name, len(rs), err)
			}
			rs = append(rs, r)
			return nil
		})
		groups[name] = rs
		return err
	})
	return groups, err
}

func record(s *jsonscan.Scanner, r *events.KafkaRecord) error {
	if s.Null() {
		return nil
	}
	return s.Members(func(key []byte) error { return recordField(s, r, key) })
}

func recordField(s *jsonscan.Scanner, r *events.KafkaRecord, key []byte) error {
	var err error
	switch string(key) {
	case "topic":
		r.Topic, err = s.StringOrNull(key)
	case "partition":
		r.Partition, err = s.IntOrNull(key)
	case "offset":
		r.Offset, err = s.IntOrNull(key)
	case "timestamp":
		var ms int64 // null is 0, as MilliSecondsEpochTime.UnmarshalJSON makes it
		if ms, err = s.IntOrNull(key); err == nil {
			r.Timestamp = events.MilliSecondsEpochTime{Time: time.Unix(ms/1000, (ms%1000)*1e6)}
		}
	case "timestampType":
		r.TimestampType, err = s.StringOrNull(key)
	case "key":
		r.Key, err = s.StringOrNull(key)
	case "value":
		r.Value, err = s.StringOrNull(key)
	case "headers":
		r.Headers, err = headers(s)
	default:
		if name := jsonscan.Fold(key, recordFields); name != "" {
			return recordField(s, r, []byte(name))
		}
		err = s.Skip()
	}
	return err
}

// headers reads [{"name":[104,-1]},…]: header values as signed bytes.
func headers(s *jsonscan.Scanner) ([]map[string]events.JSONNumberBytes, error) {
	if s.Null() {
		return nil, nil
	}
	hs := []map[string]events.JSONNumberBytes{}
	err := s.Elements(func() error {
		if s.Null() {
			hs = append(hs, nil)
			return nil
		}
		h := map[string]events.JSONNumberBytes{}
		err := s.Members(func(key []byte) error {
			name := s.String(key)
			v := events.JSONNumberBytes{} // null too, as JSONNumberBytes.UnmarshalJSON makes it
			if s.Null() {
				h[name] = v
				return nil
			}
			err := s.Elements(func() error {
				n, err := s.IntOrNull(key)
				if err != nil || n < -128 || n > 127 {
					return fmt.Errorf("header %s must be an array of signed bytes", key)
				}
				v = append(v, byte(n))
				return nil
			})
			h[name] = v
			return err
		})
		hs = append(hs, h)
		return err
	})
	return hs, err
}

// Handler adapts a batch handler to aws-lambda-go's raw Handler: the
// payload is decoded with Decode and the response encoded with
// encoding/json, as lambda.Start would for handle.
func Handler[Out any](handle func(context.Context, events.KafkaEvent) (Out, error)) lambda.Handler {
	return rawHandler[Out](handle)
}

type rawHandler[Out any] func(context.Context, events.KafkaEvent) (Out, error)

func (h rawHandler[Out]) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ev, err := Decode(payload)
	if err != nil {
		return nil, err
	}
	out, err := h(ctx, ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
