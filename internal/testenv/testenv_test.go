package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/questlog/questlog/internal/testenv"
)

// The helper runs in a child test process, with and without CI set.
func TestNeedSkipsByHandAndFailsInCI(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "" {
		testenv.Need(t, "questlog-no-such-program", "apt-get install nothing")
		t.Fatal("Need returned for a missing program")
	}
	for ci, want := range map[string]string{"": "--- SKIP", "true": "--- FAIL"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNeedSkipsByHandAndFailsInCI$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI="+ci)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), want) || !strings.Contains(string(out), "apt-get install nothing") {
			t.Errorf("CI=%q: want %s with the install hint:\n%s", ci, want, out)
		}
	}
	if p := testenv.Need(t, "go", "install Go"); p == "" {
		t.Error("Need found no path for go")
	}
}
