// Command benchreport reads `go test -bench` output (make bench's) on
// standard input and prints issue 12's table, old beside new, and the
// breakdowns. Lines "loadavg-start: …" and "loadavg-end: …" say under what
// load the figures were taken.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/questlog/questlog/local/bench"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	res, err := bench.Parse(bytes.NewReader(in))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	bench.Summary(os.Stdout, res)
	for _, line := range strings.Split(string(in), "\n") {
		if strings.HasPrefix(line, "loadavg-") {
			fmt.Println(line)
		}
	}
}
