// Command questlog is the local emulator: it runs template.yaml's functions
// on one machine as AWS would. Run it in a questlog checkout (or a project
// shaped like one): `questlog help` lists the commands.
//
//	go install github.com/questlog/questlog/local/cmd/questlog@latest
//
// It is the same program as `go run ./local` and `make install`'s
// bin/questlog.
package main

import (
	"os"

	"github.com/questlog/questlog/local/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
