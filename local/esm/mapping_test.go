package esm

import (
	"context"
	"strings"
	"testing"
	"time"
)

func validMapping() Mapping {
	return Mapping{Function: "F", Brokers: []string{"127.0.0.1:9092"}, Topic: "game-events"}
}

func TestMappingValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Mapping)
		want   string // "" means valid
	}{
		{"defaults", func(*Mapping) {}, ""},
		{"full", func(m *Mapping) {
			m.StartingPosition, m.StartingPositionTimestamp = AtTimestamp, time.Unix(1700000000, 0)
			m.BatchSize, m.BatchingWindow, m.ConsumerGroupID = MaxBatchSize, MaxBatchingWindow, "g"
			m.FilterPatterns = []string{`{"value":{"a":["b"]}}`}
		}, ""},
		{"no window", func(m *Mapping) { m.BatchingWindow = NoBatchingWindow }, ""},
		{"no function", func(m *Mapping) { m.Function = "" }, "function is required"},
		{"no brokers", func(m *Mapping) { m.Brokers = nil }, "at least one broker"},
		{"bad broker", func(m *Mapping) { m.Brokers = []string{"localhost"} }, `broker "localhost" is not host:port`},
		{"no topic", func(m *Mapping) { m.Topic = "" }, "topic is required"},
		{"bad topic", func(m *Mapping) { m.Topic = "a b" }, `topic "a b" has characters`},
		{"bad position", func(m *Mapping) { m.StartingPosition = "EARLIEST" }, `starting position "EARLIEST"`},
		{"lower-case position", func(m *Mapping) { m.StartingPosition = "latest" }, `starting position "latest"`},
		{"timestamp missing", func(m *Mapping) { m.StartingPosition = AtTimestamp }, "needs a starting position timestamp"},
		{"timestamp not allowed", func(m *Mapping) { m.StartingPositionTimestamp = time.Now() }, "only allowed with AT_TIMESTAMP"},
		{"batch too big", func(m *Mapping) { m.BatchSize = 10001 }, "batch size 10001 is out of range 1..10000"},
		{"batch negative", func(m *Mapping) { m.BatchSize = -1 }, "batch size -1"},
		{"window too long", func(m *Mapping) { m.BatchingWindow = 301 * time.Second }, "batching window 5m1s exceeds"},
		{"bad filter", func(m *Mapping) { m.FilterPatterns = []string{`{"value":["ok"]}`, `{"value":{"a":[}`} }, `filter pattern 2 {"value":{"a":[}: invalid JSON`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validMapping()
			tc.modify(&m)
			err := m.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want an error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate() = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// Every problem is reported at once.
	err := Mapping{BatchSize: 20000}.Validate()
	for _, want := range []string{"function is required", "at least one broker", "topic is required", "batch size 20000"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to contain %q", err, want)
		}
	}
}

func TestMappingDefaults(t *testing.T) {
	m := validMapping()
	if m.batchSize() != 100 || m.batchingWindow() != 500*time.Millisecond || m.startingPosition() != TrimHorizon {
		t.Errorf("defaults: batch %d window %s position %s", m.batchSize(), m.batchingWindow(), m.startingPosition())
	}
	m.BatchingWindow = NoBatchingWindow
	if m.batchingWindow() != 0 {
		t.Errorf("NoBatchingWindow resolves to %s, want 0", m.batchingWindow())
	}
}

func TestGroupID(t *testing.T) {
	a := Mapping{Function: "a-b", Topic: "c"}
	b := Mapping{Function: "a", Topic: "b-c"}
	if a.GroupID() == b.GroupID() {
		t.Errorf("GroupID collides for %+v and %+v: %s", a, b, a.GroupID())
	}
	if a.GroupID() != (Mapping{Function: "a-b", Topic: "c", BatchSize: 7}).GroupID() {
		t.Error("GroupID depends on more than function and topic")
	}
	if !strings.HasPrefix(a.GroupID(), "lambda-esm-a-b-c-") {
		t.Errorf("GroupID = %s", a.GroupID())
	}
}

func TestBackoff(t *testing.T) {
	o := Options{RetryInitial: 100 * time.Millisecond, RetryMax: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 50 {
			if d := o.backoff(attempt); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, d, want/2, want)
			}
		}
	}
	if d := (Options{}).backoff(1000); d > DefaultRetryMax || d < DefaultRetryMax/2 {
		t.Errorf("default backoff cap: %s", d)
	}
}

func TestRunRejectsInvalidMapping(t *testing.T) {
	err := Run(context.Background(), Mapping{Function: "F"}, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "invalid mapping") {
		t.Fatalf("Run = %v, want an invalid mapping error", err)
	}
	if _, err := Replay(context.Background(), Mapping{Function: "F"}, nil, ReplayOptions{}); err == nil {
		t.Fatal("Replay accepted an invalid mapping")
	}
}
