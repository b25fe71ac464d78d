// Command noop is the floor of the API path (BenchmarkAPIPath): an
// aws-lambda-go function behind API Gateway that answers as the sword route
// does and publishes nothing.
package main

import (
	"io"
	"net/http"

	"github.com/questlog/questlog/internal/api"
)

func main() {
	api.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello divya!! You purchased a Sword successfully!\n")
	}))
}
