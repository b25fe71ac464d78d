package sink_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/bench"
	"github.com/questlog/questlog/local/hdfs"
)

// BenchmarkLand is the cost of landing one batch (100 records, the next
// offsets of partition 0) into a dataset that already holds 10, 1,000 or
// 20,000 files (three partitions, 1,000 files per dt= directory), on
// file:// and on the embedded HDFS. Besides the time it reports the store
// operations per batch (store-ops/op), the names they listed
// (names-listed/op), the CPU time of the process (cpu-µs/op; the embedded
// HDFS runs in it) and, on HDFS, the NameNode RPCs (nn-rpcs/op, lease
// renewals left out). The time per batch is mostly fsyncs, of the files
// and of the NameNode's edit log: on a shared machine it is noisy, the
// counts are not. "sinks=2" alternates two sinks
// of one store root, as two execution environments taking turns do.
func BenchmarkLand(b *testing.B) {
	for _, kind := range []string{"file", "hdfs"} {
		for _, files := range []int{10, 1000, 20000} {
			for _, sinks := range []int{1, 2} {
				b.Run(fmt.Sprintf("store=%s/files=%d/sinks=%d", kind, files, sinks), func(b *testing.B) {
					benchLand(b, kind, files, sinks)
				})
			}
		}
	}
}

const benchDataset = "extracted_events"

func benchLand(b *testing.B, kind string, files, nsinks int) {
	ctx := context.Background()
	var st store.Store
	var rpcs *atomic.Int64
	switch kind {
	case "file":
		dir := b.TempDir()
		seedLocal(b, dir, files)
		st = openStore(b, "file://"+dir)
	case "hdfs":
		var addr string
		addr, rpcs = startCountedHDFS(b)
		st = openStore(b, "hdfs://"+addr+"/data")
		seedStore(b, st, files)
	}
	counted := &countingStore{Store: st}
	sinks := make([]*sink.Sink, nsinks)
	for i := range sinks {
		sinks[i] = sink.New(counted, slog.New(slog.DiscardHandler))
	}
	next := int64(files/3*100 + 1_000_000) // past every seeded file
	land := func(s *sink.Sink) {
		batch := benchRecords(next, 100)
		next += 100
		got, err := sink.Land(ctx, s, benchDataset, "game-events", 0, batch)
		if err != nil || got.Rows != len(batch) {
			b.Fatalf("land: %+v %v", got, err)
		}
	}
	for _, s := range sinks { // the first landing of a sink may read more
		land(s)
	}
	ops, listed := counted.ops.Load(), counted.listed.Load()
	var rpc0 int64
	if rpcs != nil {
		rpc0 = rpcs.Load()
	}
	cpu := bench.SelfCPU()
	b.ResetTimer()
	for i := range b.N {
		land(sinks[i%nsinks])
	}
	b.StopTimer()
	b.ReportMetric(bench.PerOp(bench.SelfCPU()-cpu, b.N), "cpu-µs/op")
	b.ReportMetric(float64(counted.ops.Load()-ops)/float64(b.N), "store-ops/op")
	b.ReportMetric(float64(counted.listed.Load()-listed)/float64(b.N), "names-listed/op")
	if rpcs != nil {
		b.ReportMetric(float64(rpcs.Load()-rpc0)/float64(b.N), "nn-rpcs/op")
	}
}

// seedName is the i-th seeded file: partitions take turns, 100 offsets
// each, 1,000 files per date.
func seedName(i int) string {
	p, n := i%3, int64(i/3)
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
	return fmt.Sprintf("%s/dt=%s/%s", benchDataset, day.Format(time.DateOnly), sink.FileName("game-events", int32(p), n*100, n*100+99))
}

func seedLocal(b *testing.B, dir string, files int) {
	for i := range files {
		p := filepath.Join(dir, filepath.FromSlash(seedName(i)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func seedStore(b *testing.B, st store.Store, files int) {
	for i := range files {
		w, err := st.Create(context.Background(), seedName(i))
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func openStore(b *testing.B, url string) store.Store {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// startCountedHDFS starts the embedded HDFS and counts the RPCs its
// NameNode answers, lease renewals aside.
func startCountedHDFS(b *testing.B) (string, *atomic.Int64) {
	n := &atomic.Int64{}
	srv, err := hdfs.Start(context.Background(), hdfs.Config{
		DataDir: b.TempDir(), NameNodeAddr: "127.0.0.1:0",
		Logger: slog.New(rpcCounter{n}),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv.NameNodeAddr(), n
}

type rpcCounter struct{ n *atomic.Int64 }

func (c rpcCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c rpcCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c rpcCounter) WithGroup(string) slog.Handler            { return c }
func (c rpcCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "namenode: rpc" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "method" && a.Value.String() != "renewLease" {
			c.n.Add(1)
		}
		return a.Key != "method"
	})
	return nil
}

func benchRecords(from int64, n int) []sink.Record[event.Row] {
	day := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	out := make([]sink.Record[event.Row], n)
	for i := range out {
		off := from + int64(i)
		e := event.Event{SchemaVersion: 1, EventID: fmt.Sprintf("id-%d", off), EventType: event.TypeDefault, EventTime: event.MillisOf(day)}
		out[i] = sink.Record[event.Row]{Offset: off, Date: day, Row: event.NewRow(&e, event.Source{Topic: "game-events", Offset: off})}
	}
	return out
}

// countingStore counts the store operations a sink makes: every call,
// and every Write and Close of the files it writes.
type countingStore struct {
	store.Store
	ops, listed atomic.Int64
}

func (c *countingStore) ReadDir(ctx context.Context, dir string) ([]store.Entry, error) {
	c.ops.Add(1)
	entries, err := c.Store.ReadDir(ctx, dir)
	c.listed.Add(int64(len(entries)))
	return entries, err
}

func (c *countingStore) Create(ctx context.Context, name string) (io.WriteCloser, error) {
	c.ops.Add(1)
	return c.count(c.Store.Create(ctx, name))
}

func (c *countingStore) Append(ctx context.Context, name string) (io.WriteCloser, error) {
	c.ops.Add(1)
	return c.count(c.Store.Append(ctx, name))
}

// count counts the writes and the close of a file opened for writing.
func (c *countingStore) count(w io.WriteCloser, err error) (io.WriteCloser, error) {
	if err != nil {
		return nil, err
	}
	return countingWriter{w, &c.ops}, nil
}

func (c *countingStore) Rename(ctx context.Context, from, to string) error {
	c.ops.Add(1)
	return c.Store.Rename(ctx, from, to)
}

func (c *countingStore) Open(ctx context.Context, name string) (store.File, error) {
	c.ops.Add(1)
	return c.Store.Open(ctx, name)
}

func (c *countingStore) Remove(ctx context.Context, name string) error {
	c.ops.Add(1)
	return c.Store.Remove(ctx, name)
}

func (c *countingStore) Lock(ctx context.Context, name string) (func() error, error) {
	c.ops.Add(1)
	unlock, err := c.Store.Lock(ctx, name)
	if err != nil {
		return nil, err
	}
	return func() error { c.ops.Add(1); return unlock() }, nil
}

type countingWriter struct {
	io.WriteCloser
	ops *atomic.Int64
}

func (w countingWriter) Write(p []byte) (int, error) { w.ops.Add(1); return w.WriteCloser.Write(p) }
func (w countingWriter) Close() error                { w.ops.Add(1); return w.WriteCloser.Close() }
