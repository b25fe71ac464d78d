// Command questlog is the local emulator: it runs template.yaml's functions
// on one machine as AWS would. `go run ./local help` lists the commands.
package main

import (
	"os"

	"github.com/questlog/questlog/local/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
