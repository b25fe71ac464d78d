package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/lambda"
)

// fixtures are the test functions in testdata/, built once by TestMain.
var fixtures = []string{
	"echo", "error", "wrappederror", "panic", "sleep", "exitinit", "exitmid",
	"bigresponse", "counter", "printer", "streamerror", "rawruntime",
}

var fixtureDir string

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		emulatorHelper(dir)
		return
	}
	dir, err := os.MkdirTemp("", "questlog-lambda-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := buildFixtures(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		fixtureDir = dir
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildFixtures builds every fixture with one go build (the links run in
// parallel) and moves each binary to <dir>/<name>/bootstrap, the layout of a
// Lambda deployment package.
func buildFixtures(dir string) error {
	args := []string{"build", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", dir + string(filepath.Separator)}
	for _, f := range fixtures {
		args = append(args, "./testdata/"+f)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build fixtures: %w\n%s", err, out)
	}
	for _, f := range fixtures {
		if err := os.Mkdir(filepath.Join(dir, f+".d"), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(dir, f), filepath.Join(dir, f+".d", "bootstrap")); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(dir, f+".d"), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// fixture returns the bootstrap path of a fixture.
func fixture(name string) string { return filepath.Join(fixtureDir, name, "bootstrap") }

// fn returns a Function running fixture name under that name.
func fn(name string) lambda.Function {
	return lambda.Function{Name: name, Bootstrap: fixture(name)}
}

// logBuffer is a LogOutput that tests can read while the runtime writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) lines() []string {
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// waitFor waits until the log contains s.
func (b *logBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	eventually(t, "log line "+s, func() bool { return strings.Contains(b.String(), s) })
}

// eventually polls cond until it holds, failing after a generous deadline. It
// only waits; it asserts nothing about speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newRuntime returns a Runtime for fns whose logs go to the returned buffer;
// it is closed when the test ends.
func newRuntime(t *testing.T, opts lambda.Options, fns ...lambda.Function) (*lambda.Runtime, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if opts.LogOutput == nil {
		opts.LogOutput = logs
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	rt, err := lambda.New(fns, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return rt, logs
}

// call invokes function name with payload and fails the test on a Go error.
func call(t *testing.T, rt *lambda.Runtime, name, payload string) *invoke.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := rt.Invoke(ctx, invoke.Request{Function: name, Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke(%s, %s): %v", name, payload, err)
	}
	return res
}

// ok asserts that res succeeded and decodes its payload into v.
func ok(t *testing.T, res *invoke.Result, v any) {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("result error %v, payload %s", res.Error, res.Payload)
	}
	if v != nil {
		if err := json.Unmarshal(res.Payload, v); err != nil {
			t.Fatalf("decode payload %.200s: %v", res.Payload, err)
		}
	}
}

// pidResult is the payload of the sleep, panic and counter fixtures.
type pidResult struct {
	PID   int `json:"pid"`
	Count int `json:"count"`
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// goroutines counts the goroutines of this test binary.
func goroutines() int { return runtime.NumGoroutine() }

// helperEnv makes the test binary act as a small emulator for
// TestProcessesDieWithEmulator; its value is the fixture directory.
const helperEnv = "QUESTLOG_LAMBDA_TEST_EMULATOR"

// emulatorHelper starts a function, prints the pid of its process and
// blocks until it is killed.
func emulatorHelper(dir string) {
	fixtureDir = dir
	rt, err := lambda.New([]lambda.Function{fn("counter")}, lambda.Options{LogOutput: io.Discard, Logger: discardLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res, err := rt.Invoke(context.Background(), invoke.Request{Function: "counter", Payload: []byte(`{}`)})
	if err != nil || res.Error != nil {
		fmt.Fprintln(os.Stderr, err, res)
		os.Exit(1)
	}
	fmt.Printf("%s\n", res.Payload)
	select {}
}
