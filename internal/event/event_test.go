package event_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
)

func sample() event.Event {
	return event.Event{
		SchemaVersion: event.SchemaVersion,
		EventID:       "019a6b1e-7c2d-7f00-8000-000000000001",
		EventType:     event.TypePurchaseSword,
		EventTime:     event.MillisOf(time.Date(2026, 11, 26, 23, 44, 55, 123_000_000, time.UTC)),
		UserName:      "divya",
		ItemType:      "sword",
		Quantity:      1,
		RemoteIP:      "203.0.113.7",
		UserAgent:     "curl/8.5.0",
		Host:          "localhost:3000",
		Headers:       map[string]string{"Accept": "*/*", "X-Note": "caf\u00e9 \"quoted\" \\ \n"},
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	want := sample()
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"event_time":"2026-11-26T23:44:55.123Z"`) {
		t.Errorf("event_time not in canonical form: %s", data)
	}
	got, err := event.Decode(data)
	if err != nil {
		t.Fatalf("Decode(%s): %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode = %+v, want %+v", got, want)
	}
	var viaStd event.Event
	if err := json.Unmarshal(data, &viaStd); err != nil || !reflect.DeepEqual(viaStd, want) {
		t.Errorf("encoding/json = %+v, %v", viaStd, err)
	}
}

func TestDecodeAcceptsWhatEncodingJSONAccepts(t *testing.T) {
	for _, in := range []string{
		`{"schema_version":1,"event_id":"a","event_type":"default","event_time":"2026-01-02T03:04:05Z","extra":[1,{"x":null},true,-1.5e3],"user_name":null}`,
		` { "schema_version" : 1 , "event_id" : "\u0061\ud83d\ude00" , "event_type" : "default" , "event_time" : "2026-01-02T03:04:05.1+01:00" , "headers" : { "A" : "\t" } } `,
		`{"schema_version":1,"event_id":"a","event_type":"default","event_time":"2026-01-02T03:04:05.000Z","headers":null}`,
	} {
		got, err := event.Decode([]byte(in))
		if err != nil {
			t.Errorf("Decode(%s): %v", in, err)
			continue
		}
		var want event.Event
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("encoding/json rejects %s: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Decode(%s) = %+v, encoding/json gives %+v", in, got, want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	valid := `"event_id":"a","event_type":"default","event_time":"2026-01-02T03:04:05.000Z"`
	for _, tc := range []struct{ in, reason string }{
		{``, "unexpected end"},
		{`garbage`, "expected '{'"},
		{`{"schema_version":1,` + valid, "unexpected end"},
		{`{"schema_version":1,` + valid + `} trailing`, "unexpected data"},
		{`{"schema_version":"1",` + valid + `}`, "schema_version must be an integer"},
		{`{"schema_version":2,` + valid + `}`, "unsupported schema_version 2"},
		{`{` + valid + `}`, "unsupported schema_version 0"},
		{`{"schema_version":1,"event_id":7,"event_type":"default","event_time":"2026-01-02T03:04:05Z"}`, "event_id must be a string"},
		{`{"schema_version":1,"event_type":"default","event_time":"2026-01-02T03:04:05Z"}`, "event_id is missing"},
		{`{"schema_version":1,` + valid + `,"event_time":"yesterday"}`, "not RFC 3339"},
		{`{"schema_version":1,` + valid + `,"headers":{"A":1}}`, "headers.A must be a string"},
		{`{"schema_version":1,` + valid + `,"headers":[]}`, "headers must be an object"},
		{`{"schema_version":1,` + valid + `,"quantity":1.5}`, "quantity must be an integer"},
		{`{"schema_version":1,` + valid + `,"quantity":-1}`, "quantity -1 is negative"},
		{`{"schema_version":1,` + valid + `,"user_name":"a/b"}`, `user_name "a/b"`},
		{`{"schema_version":1,` + valid + `,"x":"\q"}`, "invalid escape"},
		{`{"schema_version":1,` + valid + `,"x":tru}`, "invalid value"},
	} {
		_, err := event.Decode([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("Decode(%s) = %v, want error containing %q", tc.in, err, tc.reason)
		}
		if err != nil && !errors.Is(err, event.ErrInvalid) && !errors.Is(err, event.ErrUnsupportedVersion) {
			t.Errorf("Decode(%s) error %v wraps neither ErrInvalid nor ErrUnsupportedVersion", tc.in, err)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"divya": true, "a": true, "R2-D2_x.y": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "a b": false, "a/b": false, "..%2f": false, "é": false,
		".": false, "..": false, "...": true, ".a": true,
	} {
		if got := event.ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMunge(t *testing.T) {
	in := sample()
	in.UserName = "  divya "
	in.RemoteIP = "::ffff:203.0.113.7"
	in.Headers = map[string]string{
		"accept": " */* ", "x-forwarded-for": "1.1.1.1", "X-Forwarded-For": "2.2.2.2",
		"Empty": "  ", "user-agent": "curl", "Host": "h",
	}
	got := event.Munge(in)
	want := map[string]string{"Accept": "*/*", "X-Forwarded-For": "2.2.2.2, 1.1.1.1"}
	if !reflect.DeepEqual(got.Headers, want) {
		t.Errorf("Munge headers = %q, want %q", got.Headers, want)
	}
	if got.UserName != "divya" || got.RemoteIP != "203.0.113.7" {
		t.Errorf("Munge = user %q ip %q", got.UserName, got.RemoteIP)
	}
	if again := event.Munge(got); !reflect.DeepEqual(again, got) {
		t.Errorf("Munge is not idempotent: %+v then %+v", got, again)
	}
	if in.Headers["accept"] != " */* " {
		t.Error("Munge modified its input's headers")
	}
}

func TestMungeInPlaceIsMunge(t *testing.T) {
	for _, headers := range []map[string]string{
		nil, {}, {"Accept": " a "}, {"Accept": "a", "User-Agent": "u", "Host": "h", "Empty": " "},
		{"accept": "x", "Accept": "y"}, {" X-Pad ": "v"}, {"Only-Empty": ""},
	} {
		e := sample()
		e.RemoteIP = "::ffff:10.0.0.1"
		e.Headers = headers
		want := event.Munge(e)
		e.Headers = maps.Clone(headers)
		event.MungeInPlace(&e)
		if !reflect.DeepEqual(e, want) {
			t.Errorf("MungeInPlace(%v) = %+v, Munge = %+v", headers, e.Headers, want.Headers)
		}
	}
}

func FuzzDecode(f *testing.F) {
	data, _ := json.Marshal(sample())
	f.Add(data)
	f.Add([]byte(`{"schema_version":1,"x":[{"y":"\ud800"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := event.Decode(in)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			t.Fatalf("Decode accepted invalid JSON %q", in)
		}
		var d event.Decoder
		owned, err := d.DecodeOwned(append([]byte(nil), in...))
		if err != nil || !reflect.DeepEqual(owned, e) {
			t.Fatalf("DecodeOwned = %+v, %v; Decode = %+v", owned, err, e)
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		again, err := event.Decode(out)
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("re-decode of %s = %+v, %v; want %+v", out, again, err, e)
		}
	})
}
