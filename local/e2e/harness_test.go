package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/lake"
	"github.com/questlog/questlog/local/netns"
	"github.com/questlog/questlog/local/netns/netnstest"
)

// questlogBin is the emulator's binary, for the tests that run it as a
// separate process (to kill it); engineBin is the SQL engine beside it.
var questlogBin, engineBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "questlog-e2e-")
	if err != nil {
		panic(err)
	}
	questlogBin = filepath.Join(dir, "questlog")
	engineBin = filepath.Join(dir, lake.EngineName)
	if out, err := exec.Command("go", "build", "-o", questlogBin, "..").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the emulator: %v\n%s", err, out)
		os.Exit(1)
	}
	// The SQL engine next to it, where an installed questlog finds it.
	engine := exec.Command("go", "build", "-o", engineBin, "../lake/cmd/questlog-sql")
	engine.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := engine.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the SQL engine: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func projectDir() string {
	dir, _ := filepath.Abs("../..")
	return dir
}

// logWriter sends lines to t.Log, and drops them once the test is over.
type logWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogs(t testing.TB) (*slog.Logger, io.Writer) {
	w := &logWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})), w
}

// config is an emulator on free ports with its own data directory. As
// root, its functions run in a network namespace of their own, so that a
// function reaching the host at 127.0.0.1 fails here as it would in SAM
// CLI's containers and on AWS.
func config(t testing.TB) emulator.Config {
	log, out := testLogs(t)
	cfg := emulator.Config{
		ProjectDir: projectDir(), DataDir: t.TempDir(),
		APIAddr: "127.0.0.1:0", LambdaAddr: "127.0.0.1:0", KafkaAddr: "127.0.0.1:0", HDFSAddr: "127.0.0.1:0",
		Logger: log, FunctionLogs: out,
		LookupEnv: func(string) (string, bool) { return "", false }, // hermetic: no shell overrides
	}
	if netns.Available() == nil {
		cfg.Isolation = &netnstest.Options
	}
	return cfg
}

func start(t testing.TB, cfg emulator.Config, serve emulator.Serve) *emulator.Emulator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e, err := emulator.Start(ctx, cfg, serve, true)
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Logf("close: %v", err)
		}
	})
	return e
}

var everything = emulator.Serve{API: true, Lambda: true, Mappings: true}

type response struct {
	status int
	header http.Header
	body   string
}

func request(t testing.TB, method, url, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(data)}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s; last state: %s", what, within, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func openStore(t testing.TB, root string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, root)
	if err != nil {
		t.Fatalf("open %s: %v", root, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rows reads a dataset of event rows.
func rows(t testing.TB, st store.Store, dataset string) []event.Row {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := sink.ReadDataset[event.Row](ctx, sink.New(st, nil), dataset)
	if err != nil {
		t.Fatalf("read %s: %v", dataset, err)
	}
	return r
}

// exactlyOnce checks that every event id appears once, and returns them.
func exactlyOnce(t testing.TB, dataset string, rs []event.Row) map[string]event.Row {
	t.Helper()
	byID := map[string]event.Row{}
	for _, r := range rs {
		if prev, dup := byID[r.EventID]; dup {
			t.Errorf("%s holds event %s twice (offsets %d and %d)", dataset, r.EventID, prev.KafkaOffset, r.KafkaOffset)
		}
		byID[r.EventID] = r
	}
	return byID
}

// waitRows waits until dataset holds n rows.
func waitRows(t testing.TB, st store.Store, dataset string, n int, within time.Duration) []event.Row {
	t.Helper()
	var got []event.Row
	eventually(t, within, fmt.Sprintf("%s holding %d rows", dataset, n), func() (bool, string) {
		got = rows(t, st, dataset)
		return len(got) >= n, fmt.Sprintf("%d rows", len(got))
	})
	return got
}

func cmdOutput(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = projectDir()
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func writeBytes(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// topicValues reads a topic from the earliest to the latest offset.
func topicValues(t testing.TB, brokers []string, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list the end offsets of %s: %v", topic, err)
	}
	from, left := map[int32]kgo.Offset{}, map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			from[o.Partition], left[o.Partition] = kgo.NewOffset().AtStart(), o.Offset
		}
	})
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: from})
	var values []string
	for len(left) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			values = append(values, string(r.Value))
			if r.Offset >= left[r.Partition]-1 {
				delete(left, r.Partition)
			}
		})
	}
	return values
}
