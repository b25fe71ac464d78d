// Command sleep sleeps {"ms":N} milliseconds and returns its process id.
// With {"until":path} it returns as soon as that file exists (at the latest
// after ms), so a test can hold invocations busy and release them at will.
// With INIT_SLEEP_MS set it also sleeps that long before lambda.Start.
package main

import (
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type input struct {
	Ms    int    `json:"ms"`
	Until string `json:"until"`
}

func main() {
	if ms, err := strconv.Atoi(os.Getenv("INIT_SLEEP_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	lambda.Start(func(in input) (map[string]int, error) {
		end := time.Now().Add(time.Duration(in.Ms) * time.Millisecond)
		for time.Now().Before(end) {
			if in.Until != "" {
				if _, err := os.Stat(in.Until); err == nil {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		return map[string]int{"pid": os.Getpid(), "slept": in.Ms}, nil
	})
}
