package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/local/emulator"
)

// The commands a user types: generate a Kafka batch, invoke a job on it,
// then show the dataset.
func TestGenerateInvokeShow(t *testing.T) {
	dataDir, root := t.TempDir(), t.TempDir()
	common := []string{"--data-dir", dataDir, "--parameter-overrides", "DatasetRoot=file://" + root, "--log-level", "warn"}

	gen := exec.Command(questlogBin, "generate-event", "kafka", "--count", "25", "--seed", "9")
	gen.Dir = projectDir()
	batch, err := gen.Output()
	if err != nil {
		t.Fatalf("generate-event kafka: %v", err)
	}
	inv := exec.Command(questlogBin, append([]string{"invoke", "ExtractFunction", "-e", "-"}, common...)...)
	inv.Dir = projectDir()
	inv.Stdin = strings.NewReader(string(batch))
	var note strings.Builder
	inv.Stderr = &note
	out, err := inv.Output()
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, out)
	}
	// Synthetic records are in no topic: they run on a scratch stack (its
	// own Kafka), landing in the DatasetRoot given, which the note names.
	if !strings.Contains(note.String(), "scratch stack") || !strings.Contains(note.String(), "DatasetRoot=file://"+root) {
		t.Errorf("invoke's note: %q, want one naming the datasets file://%s", note.String(), root)
	}
	var sum struct {
		Dataset string
		Landed  int
	}
	if err := json.Unmarshal(out, &sum); err != nil || sum.Landed != 25 || sum.Dataset != "extracted_events" {
		t.Fatalf("invoke printed %s (%v), want a summary of 25 landed events", out, err)
	}
	again := cmdOutput(t, nil, questlogBin, append([]string{"invoke", "ExtractFunction", "-e", writeFile(t, batch)}, common...)...)
	if !strings.Contains(again, `"landed":0`) || !strings.Contains(again, `"skipped_already_landed":25`) {
		t.Errorf("invoking the same batch again: %s", again)
	}

	show := cmdOutput(t, nil, questlogBin, append([]string{"show", "extracted_events", "--limit", "5"}, common...)...)
	lines := strings.Split(strings.TrimSpace(show), "\n")
	if len(lines) != 1+1+1+5+1+1 || !strings.Contains(lines[1], " event_type|") || lines[len(lines)-1] != "only showing top 5 rows" {
		t.Errorf("show:\n%s", show)
	}
	where := cmdOutput(t, nil, questlogBin, append([]string{"show", "extracted_events", "--json", "--where", `event_type == "default"`}, common...)...)
	for _, line := range strings.Split(strings.TrimSpace(where), "\n") {
		if !strings.Contains(line, `"event_type":"default"`) {
			t.Errorf("--where kept %s", line)
		}
	}

	httpEvent := cmdOutput(t, nil, questlogBin, "generate-event", "http", "/purchase_a_sword/divya", "--header", "X-Test: 1")
	var ev struct {
		RawPath string            `json:"rawPath"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(httpEvent), &ev); err != nil || ev.RawPath != "/purchase_a_sword/divya" || ev.Headers["x-test"] != "1" {
		t.Errorf("generate-event http: %v\n%s", err, httpEvent)
	}
}

func writeFile(t *testing.T, data []byte) string {
	p := filepath.Join(t.TempDir(), "event.json")
	if err := writeBytes(p, data); err != nil {
		t.Fatal(err)
	}
	return p
}

// invokeCLI runs questlog invoke and returns stdout, stderr and the exit
// status; it gives up after a minute (a replay that never ends).
func invokeCLI(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, questlogBin, append([]string{"invoke"}, args...)...)
	cmd.Dir = projectDir()
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("questlog invoke %s did not end within a minute:\n%s", strings.Join(args, " "), stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// An override on invoke wins over the running emulator's services: the
// batch lands in the DatasetRoot given. It used to land in the running
// emulator's HDFS, where the datasets already held it.
func TestInvokeHonoursDatasetRootBesideRunningEmulator(t *testing.T) {
	cfg := config(t)
	cfg.Functions = []string{"ExtractFunction"}
	running := start(t, cfg, emulator.Serve{})
	batch, err := exec.Command(questlogBin, "generate-event", "kafka", "--count", "7", "--seed", "3").Output()
	if err != nil {
		t.Fatalf("generate-event kafka: %v", err)
	}

	other := t.TempDir()
	out, stderr, status := invokeCLI(t, batch, "ExtractFunction", "-e", "-", "--data-dir", cfg.DataDir,
		"--parameter-overrides", "DatasetRoot=file://"+other)
	if status != 0 || !strings.Contains(out, `"landed":7`) {
		t.Fatalf("exit status %d, stdout %s\n%s", status, out, stderr)
	}
	if n := len(rows(t, openStore(t, "file://"+other), "extracted_events")); n != 7 {
		t.Errorf("the DatasetRoot given holds %d rows, want 7", n)
	}
	if n := len(rows(t, openStore(t, running.DatasetRoot), "extracted_events")); n != 0 {
		t.Errorf("the running emulator's datasets hold %d rows, want none", n)
	}
}

// An overridden DatasetRoot naming the embedded NameNode's own address,
// where nothing listens yet, is the embedded HDFS with another root: it
// starts. (It used to start no HDFS, so the functions could not open their
// store.)
func TestDatasetRootAtTheEmbeddedAddressStartsHDFS(t *testing.T) {
	cfg := config(t)
	cfg.HDFSAddr = freeAddr(t)
	want := "hdfs://" + cfg.HDFSAddr + "/other"
	cfg.ParameterOverrides = map[string]string{"DatasetRoot": want}
	e, err := emulator.StartServicesOnly(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if e.DatasetRoot != want {
		t.Errorf("DatasetRoot %s, want %s", e.DatasetRoot, want)
	}
	st := openStore(t, e.DatasetRoot)
	if _, err := st.ReadDir(context.Background(), ""); err != nil {
		t.Errorf("read %s: %v", want, err)
	}
}

// A one-shot replay of a function that cannot initialize stops with the
// reason instead of retrying forever behind a progress bar at 0 %.
func TestReplayGivesUpOnInitFailure(t *testing.T) {
	cfg := config(t)
	cfg.Functions = []string{"ExtractFunction"}
	running := start(t, cfg, emulator.Serve{})
	garbage(t, running.Brokers, `{"not":"an event"}`)

	nowhere := "hdfs://" + freeAddr(t) + "/tmp"
	_, stderr, status := invokeCLI(t, nil, "ExtractFunction", "--replay", "--data-dir", t.TempDir(),
		"--parameter-overrides", "KafkaBootstrapServers="+running.Brokers[0]+" DatasetRoot="+nowhere)
	if status != 1 || !strings.Contains(stderr, "questlog invoke: ExtractFunction failed to initialize") ||
		!strings.Contains(stderr, "init failed: open the dataset store") {
		t.Errorf("exit status %d, stderr:\n%s", status, stderr)
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A replay whose standard error is not a terminal (a pipe, a CI log)
// prints its summary without redrawing a progress bar.
func TestReplayWithoutTerminalPrintsNoProgressBar(t *testing.T) {
	cfg := config(t)
	cfg.Functions = []string{"ExtractFunction"}
	running := start(t, cfg, emulator.Serve{})
	garbage(t, running.Brokers, "not an event", "nor this")
	_, stderr, status := invokeCLI(t, nil, "ExtractFunction", "--replay", "--data-dir", cfg.DataDir)
	if status != 0 || !strings.Contains(stderr, "replay of game-events: 2 records") || strings.Contains(stderr, "\r") {
		t.Errorf("exit status %d, stderr:\n%q", status, stderr)
	}
}
