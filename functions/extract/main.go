// Command extract is the Kafka-triggered job that lands every event as it
// arrived (the reference pipeline's extracted_events).
package main

import (
	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/job"
)

func main() {
	job.Start(func(*fnenv.Env) (job.Transform, error) { return job.Extract, nil })
}
