// Command munge is the Kafka-triggered job that lands every event cleaned
// by event.Munge (the reference pipeline's extracted_events_munged).
package main

import (
	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/job"
)

func main() {
	job.Start(func(*fnenv.Env) (job.Transform, error) { return job.Munge, nil })
}
