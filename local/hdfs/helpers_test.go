package hdfs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gohdfs "github.com/colinmarc/hdfs/v2"
)

// Environment switches for running the server in a child process (the crash
// test re-executes the test binary with them).
const (
	envChild     = "QUESTLOG_HDFS_CHILD"
	envChildDir  = "QUESTLOG_HDFS_CHILD_DIR"
	envChildAddr = "QUESTLOG_HDFS_CHILD_ADDR"
	envChildBS   = "QUESTLOG_HDFS_CHILD_BLOCK_SIZE"
	envLogLevel  = "QUESTLOG_HDFS_LOG" // "debug" prints every RPC in tests
)

const (
	testSuperuser = "super"
	testBlockSize = 1 << 20
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild serves until stdin closes (graceful stop) or the process is
// killed. It prints "READY <namenode address>" once clients may connect.
func runChild() int {
	addr := os.Getenv(envChildAddr)
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	blockSize := int64(testBlockSize)
	if v, err := strconv.ParseInt(os.Getenv(envChildBS), 10, 64); err == nil {
		blockSize = v
	}
	s, err := Start(context.Background(), Config{
		DataDir:      os.Getenv(envChildDir),
		NameNodeAddr: addr,
		BlockSize:    blockSize,
		Superuser:    testSuperuser,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	fmt.Printf("READY %s\n", s.NameNodeAddr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	return 0
}

func logLevel() slog.Level {
	if strings.EqualFold(os.Getenv(envLogLevel), "debug") {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// testLogWriter sends log lines to t.Log until the test ends.
type testLogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// newServerLogger logs to the test at the level QUESTLOG_HDFS_LOG asks for.
func newServerLogger(t testing.TB) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: logLevel()}))
}

// newServer starts a server on loopback with random ports, a fresh data
// directory, 1 MiB blocks and superuser "super", closed when the test ends.
func newServer(t testing.TB, mod ...func(*Config)) (*Server, Config) {
	t.Helper()
	w := &testLogWriter{t: t}
	cfg := Config{
		DataDir:      t.TempDir(),
		NameNodeAddr: "127.0.0.1:0",
		BlockSize:    testBlockSize,
		Superuser:    testSuperuser,
		Logger:       slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: logLevel()})),
	}
	for _, f := range mod {
		f(&cfg)
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return s, cfg
}

// newClient connects the colinmarc/hdfs client as user.
func newClient(t testing.TB, addr, user string) *gohdfs.Client {
	t.Helper()
	c, err := gohdfs.NewClient(gohdfs.ClientOptions{Addresses: []string{addr}, User: user})
	if err != nil {
		t.Fatalf("NewClient(%s): %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// setup returns a server, a superuser client and a client for "alice" with
// a world-writable /t to work in.
func setup(t testing.TB, mod ...func(*Config)) (*Server, *gohdfs.Client, *gohdfs.Client) {
	t.Helper()
	s, _ := newServer(t, mod...)
	admin := newClient(t, s.NameNodeAddr(), testSuperuser)
	if err := admin.Mkdir("/t", 0o777); err != nil {
		t.Fatalf("Mkdir /t: %v", err)
	}
	if err := admin.Chmod("/t", 0o777); err != nil {
		t.Fatalf("Chmod /t: %v", err)
	}
	return s, admin, newClient(t, s.NameNodeAddr(), "alice")
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 24)
	}
	return b
}

// writeFile creates name with data through the client, in writes of at
// most chunk bytes.
func writeFile(t testing.TB, c *gohdfs.Client, name string, data []byte, chunk int) {
	t.Helper()
	w, err := c.Create(name)
	if err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	for off := 0; off < len(data); off += chunk {
		if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
			t.Fatalf("Write(%s) at %d: %v", name, off, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%s): %v", name, err)
	}
}

func readLine(t testing.TB, r *bufio.Reader, timeout time.Duration) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := r.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("read child output: %v", r.err)
		}
		return strings.TrimSpace(r.s)
	case <-time.After(timeout):
		t.Fatalf("no output from child within %s", timeout)
		return ""
	}
}
