// Command panic panics when the input says {"panic":true}; otherwise it
// returns its process id.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type input struct {
	Panic bool `json:"panic"`
}

func main() {
	lambda.Start(func(in input) (map[string]int, error) {
		if in.Panic {
			panic("kaboom")
		}
		return map[string]int{"pid": os.Getpid()}, nil
	})
}
