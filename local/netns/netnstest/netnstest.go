// Package netnstest gives tests network namespaces (local/netns). Tests
// that need one skip with a message when run by hand without root, and
// fail when the environment variable CI is set, so CI cannot pass them by
// skipping.
package netnstest

import (
	"os"
	"testing"

	"github.com/questlog/questlog/local/netns"
)

// Options name the tests' veth pairs recognisably on a shared machine.
var Options = netns.Options{NamePrefix: "qlsam-"}

// Require skips tb, or fails it with CI set, unless network namespaces
// work here.
func Require(tb testing.TB) {
	tb.Helper()
	if err := netns.Available(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("CI is set and %v", err)
		}
		tb.Skipf("skipped: %v", err)
	}
}

// New returns a Network that is closed when tb ends.
func New(tb testing.TB) *netns.Network {
	tb.Helper()
	Require(tb)
	n, err := netns.New(Options)
	if err != nil {
		tb.Fatalf("netns.New: %v", err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("close the network: %v", err)
		}
	})
	return n
}
