package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/hdfs"
)

// countingStore is a real store that counts the directories listed and
// the files opened through it.
type countingStore struct {
	store.Store
	listed, opened atomic.Int64
}

func (c *countingStore) ReadDir(ctx context.Context, dir string) ([]store.Entry, error) {
	c.listed.Add(1)
	return c.Store.ReadDir(ctx, dir)
}

func (c *countingStore) Open(ctx context.Context, name string) (store.File, error) {
	c.opened.Add(1)
	return c.Store.Open(ctx, name)
}

// startHDFS serves an embedded HDFS for the test and opens a store on it.
func startHDFS(tb testing.TB) store.Store {
	tb.Helper()
	ctx := context.Background()
	srv, err := hdfs.Start(ctx, hdfs.Config{DataDir: tb.TempDir(), NameNodeAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	st, err := store.Open(ctx, "hdfs://"+srv.NameNodeAddr()+"/lake")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

const testTopic = "game-events"

// landEvents lands events of offsets [from, to) of partition 0 as the
// jobs do, their event times one second apart from start.
func landEvents(tb testing.TB, st store.Store, dataset string, from, to int64, start time.Time) {
	tb.Helper()
	var batch []sink.Record[event.Row]
	for off := from; off < to; off++ {
		at := start.Add(time.Duration(off-from) * time.Second)
		e := event.Event{SchemaVersion: 1, EventID: fmt.Sprintf("id-%d", off), EventType: event.TypeDefault, EventTime: event.MillisOf(at)}
		batch = append(batch, sink.Record[event.Row]{Offset: off, Date: at, Row: event.NewRow(&e, event.Source{Topic: testTopic, Partition: 0, Offset: off})})
	}
	if _, err := sink.Land(context.Background(), sink.New(st, nil), dataset, testTopic, 0, batch); err != nil {
		tb.Fatal(err)
	}
}

// A scan reads each landed file's footer once, and lists a dt directory
// again only when it changed: the numbers stay exact while the work per
// scan follows what landed, not the size of the lake.
func TestScanIsIncremental(t *testing.T) {
	st := &countingStore{Store: startHDFS(t)}
	day1 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	landEvents(t, st, "events", 0, 10, day1)
	landEvents(t, st, "events", 10, 25, day1.Add(time.Hour))
	landEvents(t, st, "events", 25, 30, day2)

	d := newDatasets(st, []string{"events"})
	expect := func(rows int64, files int, newestDt string, newest time.Time) {
		t.Helper()
		got := d.live(time.Now())["events"]
		if got.Rows != rows || got.Files != files || got.NewestDt != newestDt || got.NewestEvent != newest.UnixMilli() || got.Error != "" {
			t.Fatalf("events: %+v, want %d rows in %d files, newest dt %s, newest event %s", got, rows, files, newestDt, newest)
		}
	}
	scan := func() (listed, opened int64) {
		l, o := st.listed.Load(), st.opened.Load()
		d.scan(context.Background())
		return st.listed.Load() - l, st.opened.Load() - o
	}

	if _, opened := scan(); opened != 3 {
		t.Errorf("the first scan opened %d files, want each of the 3 once", opened)
	}
	expect(30, 3, "2026-12-04", day2.Add(4*time.Second))

	// The directories' times are now old enough to be trusted.
	time.Sleep(mtimeSlack + 100*time.Millisecond)
	scan()
	if listed, opened := scan(); listed != 2 || opened != 0 {
		t.Errorf("a scan with nothing new listed %d directories and opened %d files, want only the 2 dataset roots", listed, opened)
	}
	expect(30, 3, "2026-12-04", day2.Add(4*time.Second))

	landEvents(t, st, "events", 30, 42, day2.Add(time.Hour))
	listed, opened := scan()
	if listed != 3 || opened != 1 {
		t.Errorf("a scan after one file landed listed %d directories and opened %d files, want the roots and that day's directory, and that file", listed, opened)
	}
	expect(42, 4, "2026-12-04", day2.Add(time.Hour+11*time.Second))

	// Every directory is listed now and then, changed or not.
	d.listed = time.Time{}
	if listed, opened := scan(); listed != 4 || opened != 0 {
		t.Errorf("a full listing listed %d directories and opened %d files, want all 4 and none", listed, opened)
	}
	expect(42, 4, "2026-12-04", day2.Add(time.Hour+11*time.Second))
}

// What a scan costs on the embedded HDFS, in a lake of 2,000 files in
// one dt directory (the files of a busy day): with nothing new, and per
// new file (its footer read once).
//
//	go test ./local/console -run '^$' -bench Scan
func BenchmarkScan(b *testing.B) {
	st := startHDFS(b)
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	const files, rows = 2000, 20
	for i := range int64(files) {
		landEvents(b, st, "events", i*rows, (i+1)*rows, day)
	}
	d := newDatasets(st, []string{"events"})
	for d.live(time.Now())["events"].Files < files { // footersPerScan at a time
		d.scan(context.Background())
	}
	time.Sleep(mtimeSlack)
	b.Run("nothing-new", func(b *testing.B) {
		for b.Loop() {
			d.scan(context.Background())
		}
	})
	b.Run("one-new-file", func(b *testing.B) {
		next := int64(files * rows)
		for b.Loop() {
			b.StopTimer()
			landEvents(b, st, "events", next, next+rows, day)
			next += rows
			b.StartTimer()
			d.scan(context.Background())
		}
	})
}
