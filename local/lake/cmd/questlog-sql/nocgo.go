//go:build !cgo

package main

import (
	"fmt"
	"os"
)

// Without cgo there is no DuckDB: say so rather than fail to compile.
func main() {
	fmt.Fprintln(os.Stderr, "questlog-sql: built without cgo; DuckDB needs it (build with CGO_ENABLED=1 and a C compiler)")
	os.Exit(1)
}
