package cli

import (
	"strings"
	"testing"
)

// isolated are the flags that give a command its own data directory and
// a file store, so nothing is shared with other tests or a running emulator.
func isolated(t *testing.T) []string {
	return []string{"--data-dir", t.TempDir(), "--parameter-overrides", "DatasetRoot=file://" + t.TempDir()}
}

// `invoke -e -` with nothing on standard input says so; it used to start
// the function and report "the function failed: errorString: EOF".
func TestInvokeEmptyStdin(t *testing.T) {
	args := append([]string{"invoke", "ExtractFunction", "-e", "-"}, isolated(t)...)
	_, stderr, status := questlog(t, "", args...)
	if status != 1 || !strings.Contains(stderr, "the event is empty") || strings.Contains(stderr, "EOF") {
		t.Errorf("exit status %d, stderr:\n%s", status, stderr)
	}
	_, stderr, status = questlog(t, "{not json", args...)
	if status != 1 || !strings.Contains(stderr, "the event is not JSON") {
		t.Errorf("exit status %d, stderr:\n%s", status, stderr)
	}
}
