// Command bigresponse returns a JSON string of {"bytes":N} characters
// (default 7 MB, over Lambda's 6 MB response limit).
package main

import (
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
)

type input struct {
	Bytes int `json:"bytes"`
}

func main() {
	lambda.Start(func(in input) (string, error) {
		n := in.Bytes
		if n <= 0 {
			n = 7 * 1024 * 1024
		}
		return strings.Repeat("a", n), nil
	})
}
