package e2e_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/local/chaos"
)

// The chaos harness, short: 45 s of load while function processes and
// once the whole stack are killed with SIGKILL, with the hostile HTTP and
// garbage Kafka corpora; then nothing may be lost, duplicated, wrong,
// leaked or crashed. `make chaos DURATION=10m` is the long run.
func TestChaosShortRun(t *testing.T) {
	log, _ := testLogs(t)
	rep, err := chaos.Run(context.Background(), chaos.Config{
		Binary: questlogBin, ProjectDir: projectDir(), Dir: filepath.Join(t.TempDir(), "made-by-chaos"), // a --dir that does not exist yet is made
		Duration: 45 * time.Second, Rate: 60, Players: 200, FunctionKills: 3, StackKills: 1, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	rep.WriteTable(&table)
	if f := rep.Failures(); len(f) > 0 {
		t.Errorf("the chaos run failed: %s\n%s", strings.Join(f, "; "), table.String())
	} else {
		t.Logf("\n%s", table.String())
	}
	// The harness did what it says, or a green table means nothing.
	if rep.StackKills != 1 || rep.FunctionKills < 2 || rep.Accepted < 1000 || rep.KafkaAcked < 30 || rep.HTTPRequests < 100 || rep.SecretsSent < 20 {
		t.Errorf("the run did too little: %d stack kills, %d function kills, %d accepted, %d garbage records, %d hostile requests, %d secrets",
			rep.StackKills, rep.FunctionKills, rep.Accepted, rep.KafkaAcked, rep.HTTPRequests, rep.SecretsSent)
	}
}
