package lake_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/lake"
	"github.com/questlog/questlog/local/loadgen"
)

// engineBin is the SQL engine, built once for the package's tests the
// way a first `questlog sql` builds it, into sharedDataDir; buildOutput is
// what that build told the user.
var (
	engineBin, sharedDataDir string
	buildOutput              bytes.Buffer
)

func TestMain(m *testing.M) {
	var err error
	if sharedDataDir, err = os.MkdirTemp("", "questlog-lake-"); err != nil {
		panic(err)
	}
	c, err := lake.Open(context.Background(), lake.Config{ProjectDir: projectDir(), DataDir: sharedDataDir, DatasetRoot: sharedDataDir, Progress: &buildOutput, Logger: quietLogger()})
	if err == nil {
		_, err = c.Query(context.Background(), "select 1")
		c.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "build the SQL engine: %v\n%s", err, buildOutput.String())
		os.Exit(1)
	}
	engineBin = filepath.Join(sharedDataDir, "lake", "bin", lake.EngineName)
	code := m.Run()
	os.RemoveAll(sharedDataDir)
	os.Exit(code)
}

func projectDir() string {
	dir, _ := filepath.Abs("../..")
	return dir
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// open is a client of root with its own data directory.
func open(t testing.TB, root string) *lake.Client {
	t.Helper()
	c, err := lake.Open(context.Background(), lake.Config{
		ProjectDir: projectDir(), DataDir: t.TempDir(), DatasetRoot: root, Engine: engineBin, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func query(t testing.TB, c *lake.Client, sql string) *lake.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// fileRoot is an empty file:// root.
func fileRoot(t testing.TB) (string, store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + dir, st
}

// day is the date the test events happen on.
var day = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// planEvents are the first n events of loadgen's plan for seed, one a
// second from day, as the API would record them.
func planEvents(n int, seed uint64) []event.Event {
	var out []event.Event
	for i, a := range loadgen.Plan(loadgen.Population{Players: 30, Guilds: 5}, n, seed) {
		out = append(out, loadgen.EventFor(a, day.Add(time.Duration(i)*time.Second)))
	}
	return out
}

// landEvents lands events in dataset as a job does, in files of per
// records, all on partition 0 of game-events from offset 0.
func landEvents(t testing.TB, st store.Store, dataset string, events []event.Event, per int) {
	t.Helper()
	var recs []sink.Record[event.Row]
	for i := range events {
		e := events[i]
		src := event.Source{Topic: "game-events", Partition: 0, Offset: int64(i), Timestamp: int64(e.EventTime)}
		recs = append(recs, sink.Record[event.Row]{Offset: int64(i), Date: e.EventTime.Time(), Row: event.NewRow(&e, src)})
	}
	land(t, st, dataset, recs, per)
}

func land[T any](t testing.TB, st store.Store, dataset string, recs []sink.Record[T], per int) {
	t.Helper()
	s := sink.New(st, quietLogger())
	for i := 0; i < len(recs); i += per {
		if _, err := sink.Land(context.Background(), s, dataset, "game-events", 0, recs[i:min(i+per, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
}

func landSnapshots(t testing.TB, st store.Store, snaps []inventory.Snapshot) {
	t.Helper()
	var recs []sink.Record[inventory.Snapshot]
	for _, s := range snaps {
		recs = append(recs, sink.Record[inventory.Snapshot]{Offset: s.KafkaOffset, Date: time.UnixMilli(s.UpdatedAt), Row: s})
	}
	land(t, st, "inventory", recs, len(recs))
}

func landRejected(t testing.TB, st store.Store, dataset string, rows []job.Rejected) {
	t.Helper()
	var recs []sink.Record[job.Rejected]
	for _, r := range rows {
		recs = append(recs, sink.Record[job.Rejected]{Offset: r.KafkaOffset, Date: time.UnixMilli(r.KafkaTimestamp), Row: r})
	}
	land(t, st, sink.RejectedDataset(dataset), recs, len(recs))
}

// rowsEqual compares result rows, integers of any width alike.
func rowsEqual(got, want [][]any) bool {
	norm := func(rows [][]any) string { return fmt.Sprint(rows) }
	return norm(got) == norm(want)
}
