// Package testenv decides what a test does when a tool it drives (kcat,
// Debian's hdfs CLI, DuckDB, Chromium, wrk) is not installed: run by hand,
// the test skips and says how to install it; in CI (the environment
// variable CI is set, as .ci/run and CI services set it) it fails, so a
// suite never goes green by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of program, or ends the test as Missing does.
func Need(t testing.TB, program, install string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		Missing(t, program, install)
	}
	return path
}

// Missing ends the test because what is not installed: install says how to
// get it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed (install it: %s); CI is set, so the test fails rather than skips", what, install)
	}
	t.Skipf("%s is not installed; skipping (install it: %s)", what, install)
}
