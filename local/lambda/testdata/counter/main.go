// Command counter returns a process-global counter and its process id; a
// count above 1 proves the process was reused.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

var count int

func main() {
	lambda.Start(func() (map[string]int, error) {
		count++
		return map[string]int{"count": count, "pid": os.Getpid()}, nil
	})
}
