// Command streamerror returns a reader that fails after some bytes, so
// aws-lambda-go reports the error in the response trailers.
package main

import (
	"errors"
	"io"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
)

type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("stream broke")
	}
	return n, err
}

func main() {
	lambda.Start(func() (io.Reader, error) {
		return &failingReader{r: strings.NewReader("partial output")}, nil
	})
}
