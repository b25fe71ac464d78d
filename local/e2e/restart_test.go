package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/loadgen"
)

// process is `questlog start` running as its own process.
type process struct {
	cmd                  *exec.Cmd
	api, datasets, kafka string
	exited               chan error
}

// startProcess runs `questlog start` on free ports over dataDir, with
// more flags if given, and waits until it has published its addresses.
func startProcess(t *testing.T, dataDir string, flags ...string) *process {
	t.Helper()
	os.Remove(filepath.Join(dataDir, "emulator.json"))
	args := []string{"start", "--data-dir", dataDir, "--port", "0", "--lambda-port", "0", "--kafka-port", "0", "--hdfs-port", "0", "--console-port", "0", "--log-level", "warn"}
	cmd := exec.Command(questlogBin, append(args, flags...)...)
	cmd.Dir = projectDir()
	_, out := testLogs(t)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.exited })
	eventually(t, 5*time.Minute, "the emulator publishing its addresses", func() (bool, string) {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("questlog start exited: %v", err)
		default:
		}
		data, err := os.ReadFile(filepath.Join(dataDir, "emulator.json"))
		var st struct {
			Brokers     []string `json:"kafka_bootstrap_servers"`
			DatasetRoot string   `json:"dataset_root"`
			APIURL      string   `json:"api_url"`
		}
		if err != nil || json.Unmarshal(data, &st) != nil || st.APIURL == "" {
			return false, fmt.Sprint(err)
		}
		p.api, p.datasets, p.kafka = st.APIURL, st.DatasetRoot, strings.Join(st.Brokers, ",")
		return true, ""
	})
	return p
}

// stop sends a signal and waits for the process to end.
func (p *process) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case err := <-p.exited:
		p.exited <- err
		if sig == syscall.SIGINT && err != nil {
			t.Errorf("questlog start did not exit cleanly on Ctrl-C: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("questlog start did not stop within a minute of %v", sig)
	}
}

// Stop the emulator with Ctrl-C and start it again: the events published
// before are still in the topic, the jobs carry on where they stopped, and
// no dataset gains a duplicate.
func TestRestartKeepsEverythingOnce(t *testing.T) {
	dataDir := t.TempDir()
	first := startProcess(t, dataDir)
	for i := range 6 {
		if r := request(t, "GET", fmt.Sprintf("%s/purchase_a_sword/player%d", first.api, i), ""); r.status != 200 {
			t.Fatalf("purchase: %d %s", r.status, r.body)
		}
	}
	waitRows(t, openStore(t, first.datasets), "sword_purchases_hits", 6, 90*time.Second)
	first.stop(t, syscall.SIGINT)

	second := startProcess(t, dataDir)
	for i := range 4 {
		request(t, "GET", fmt.Sprintf("%s/purchase_a_sword/again%d", second.api, i), "")
	}
	st := openStore(t, second.datasets)
	for _, dataset := range []string{"extracted_events", "sword_purchases_hits", "extracted_events_munged"} {
		got := waitRows(t, st, dataset, 10, 90*time.Second)
		time.Sleep(time.Second) // a late duplicate would land now
		if ids := exactlyOnce(t, dataset, rows(t, st, dataset)); len(ids) != 10 || len(got) != 10 {
			t.Errorf("%s holds %d events, want 10", dataset, len(ids))
		}
	}
	topic := strings.Join(topicValues(t, strings.Split(second.kafka, ","), "game-events"), "\n")
	if n := strings.Count(topic, "purchase_sword"); n != 10 {
		t.Errorf("the topic holds %d events after the restart, want 10", n)
	}
}

// Kill -9 the whole emulator while the jobs are landing files, start it
// again: every dataset holds each event exactly once, and the files the
// crash interrupted are gone or whole.
func TestCrashWhileLandingKeepsEverythingOnce(t *testing.T) {
	dataDir := t.TempDir()
	first := startProcess(t, dataDir)
	const n = 8000
	res, err := loadgen.Run(context.Background(), loadgen.Config{Count: n, Seed: 5, Brokers: strings.Split(first.kafka, ","), Topic: "game-events"})
	if err != nil || res.Accepted != n {
		t.Fatalf("produce: %+v %v", res, err)
	}
	st := openStore(t, first.datasets)
	eventually(t, 2*time.Minute, "the jobs landing some files", func() (bool, string) {
		got := len(rows(t, st, "extracted_events"))
		return got > 0, fmt.Sprint(got)
	})
	st.Close()
	first.stop(t, syscall.SIGKILL)

	second := startProcess(t, dataDir)
	st = openStore(t, second.datasets)
	want := map[string]int{
		"extracted_events": n, "extracted_events_munged": n, "default_hits": res.ByType["default"],
		"guild_joins": res.ByType["join_a_guild"], "sword_purchases_hits": res.ByItem["sword"],
	}
	for dataset, count := range want {
		waitRows(t, st, dataset, count, 3*time.Minute)
	}
	time.Sleep(time.Second)
	for dataset, count := range want {
		if ids := exactlyOnce(t, dataset, rows(t, st, dataset)); len(ids) != count {
			t.Errorf("%s holds %d events, want %d", dataset, len(ids), count)
		}
	}
	checkNoTempLeft(t, st)
}

// checkNoTempLeft checks that no half-written file stayed visible: the
// sink removes a crashed writer's temporary files on its next landing.
func checkNoTempLeft(t *testing.T, st store.Store) {
	ctx := context.Background()
	entries, err := st.ReadDir(ctx, "extracted_events/_tmp")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("temporary files left in extracted_events/_tmp: %+v", entries)
	}
}
