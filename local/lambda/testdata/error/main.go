// Command error fails every invocation with errors.New (errorType errorString).
package main

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func() error { return errors.New("boom") })
}
