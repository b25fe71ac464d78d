// Command wrappederror fails with a wrapped error (errorType wrapError).
package main

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

var errInner = errors.New("inner")

func main() {
	lambda.Start(func() error { return fmt.Errorf("outer: %w", errInner) })
}
