// Command exitinit exits with status 1 before it reaches lambda.Start.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	fmt.Fprintln(os.Stderr, "cannot load configuration")
	os.Exit(1)
	lambda.Start(func() error { return nil })
}
