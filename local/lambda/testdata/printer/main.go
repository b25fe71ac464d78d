// Command printer writes to stdout and stderr during init and invocations.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	fmt.Println("init on stdout")
	lambda.Start(func() (string, error) {
		fmt.Println("hello from stdout")
		fmt.Fprintln(os.Stderr, "hello from stderr")
		fmt.Print("two\nlines\n")
		return "printed", nil
	})
}
