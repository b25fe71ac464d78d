package job_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// The sample payloads in events/ are what the jobs accept.
func TestSampleKafkaEvents(t *testing.T) {
	for file, want := range map[string][2]int{"kafka-event.json": {5, 0}, "kafka-event-with-bad-records.json": {5, 2}} {
		data, err := os.ReadFile("../../events/" + file)
		if err != nil {
			t.Fatal(err)
		}
		var batch events.KafkaEvent
		if err := json.Unmarshal(data, &batch); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		st, _ := store.Open(context.Background(), t.TempDir())
		j := &job.Job{Dataset: "extracted_events", Transform: job.Extract, Sink: sink.New(st, quiet), Log: quiet}
		sum, err := j.Handle(context.Background(), batch)
		if err != nil || sum.Landed != want[0] || sum.Rejected != want[1] {
			t.Errorf("%s: %+v %v, want %d landed and %d rejected", file, sum, err, want[0], want[1])
		}
	}
}
