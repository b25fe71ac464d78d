// Command exitmid exits with status 3 in the middle of an invocation.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func() error {
		os.Exit(3)
		return nil
	})
}
