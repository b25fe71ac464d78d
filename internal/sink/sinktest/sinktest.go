// Package sinktest is the exactly-once contract of the Parquet sink, run
// against every store implementation.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// Run runs the contract. open returns two independent clients of one fresh
// empty store root, as two processes would have.
func Run(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	t.Run("RedeliveredBatchLandsOnce", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		batch := records(0, 10, day1)
		first := land(t, s, batch)
		if first.Rows != 10 || len(first.Files) != 1 || first.Skipped != 0 {
			t.Fatalf("first delivery = %+v, want 10 rows in 1 file", first)
		}
		again := land(t, s, batch)
		if again.Rows != 0 || len(again.Files) != 0 || again.Skipped != 10 {
			t.Fatalf("redelivery = %+v, want nothing written, 10 skipped", again)
		}
		expectOffsets(t, s, span(0, 10))
		if want := "events/dt=2026-11-26/game-events+3+0+9.parquet"; first.Files[0] != want {
			t.Errorf("file = %s, want %s", first.Files[0], want)
		}
	})
	t.Run("OverlappingBatchesWithOtherBoundaries", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		land(t, s, records(0, 10, day1))
		land(t, s, records(5, 15, day1))
		land(t, s, records(0, 20, day1))
		land(t, s, records(12, 13, day1))
		expectOffsets(t, s, span(0, 20))
	})
	t.Run("OlderBatchAfterANewerOne", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		land(t, s, records(5, 10, day1)) // the live mapping, ahead
		got := land(t, s, records(0, 15, day1))
		want := []string{
			"events/dt=2026-11-26/game-events+3+0+4.parquet",
			"events/dt=2026-11-26/game-events+3+10+14.parquet",
		}
		if !slices.Equal(got.Files, want) || got.Skipped != 5 {
			t.Fatalf("replay landed %v (skipped %d), want %v around the landed range", got.Files, got.Skipped, want)
		}
		expectOffsets(t, s, span(0, 15))
	})
	t.Run("WatermarkRecoveredByANewSink", func(t *testing.T) {
		a, b := open(t)
		land(t, sink.New(a, nil), records(0, 7, day1))
		fresh := sink.New(b, nil)
		wm, err := fresh.Watermark(ctx(t), dataset, topic, partition)
		if err != nil || wm != 6 {
			t.Fatalf("Watermark = %d, %v; want 6", wm, err)
		}
		if got := land(t, fresh, records(0, 9, day1)); got.Rows != 2 || got.Skipped != 7 {
			t.Fatalf("after restart = %+v, want 2 rows, 7 skipped", got)
		}
		expectOffsets(t, fresh, span(0, 9))
	})
	t.Run("UnorderedAndRepeatedRecords", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		batch := records(0, 6, day1)
		batch = append(batch, batch[2], batch[0])
		slices.Reverse(batch)
		if got := land(t, s, batch); got.Rows != 6 {
			t.Fatalf("landed %d rows, want 6", got.Rows)
		}
		expectOffsets(t, s, span(0, 6))
	})
	t.Run("GapsFromFilteringAndEmptyResults", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		var odd []sink.Record[event.Row]
		for _, r := range records(0, 10, day1) {
			if r.Offset%2 == 1 {
				odd = append(odd, r)
			}
		}
		land(t, s, odd)
		if got := land(t, s, nil); len(got.Files) != 0 {
			t.Fatalf("empty batch wrote %v", got.Files)
		}
		files, _ := s.Files(ctx(t), dataset)
		if len(files) != 1 || !strings.HasSuffix(files[0], "+1+9.parquet") {
			t.Fatalf("files = %v, want one covering offsets 1-9", files)
		}
		expectOffsets(t, s, []int64{1, 3, 5, 7, 9})
	})
	t.Run("DatePartitionsSplitContiguousRuns", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		batch := records(0, 6, day1)
		for i := range batch {
			if i == 2 || i == 3 || i == 5 {
				batch[i].Date = day2
			}
		}
		got := land(t, s, batch)
		want := []string{
			"events/dt=2026-11-26/game-events+3+0+1.parquet",
			"events/dt=2026-11-27/game-events+3+2+3.parquet",
			"events/dt=2026-11-26/game-events+3+4+4.parquet",
			"events/dt=2026-11-27/game-events+3+5+5.parquet",
		}
		if !slices.Equal(got.Files, want) {
			t.Fatalf("files = %v, want %v", got.Files, want)
		}
		land(t, s, records(0, 8, day1))
		expectOffsets(t, s, span(0, 8))
	})
	t.Run("CrashBetweenFilesLosesAndDuplicatesNothing", func(t *testing.T) {
		a, _ := open(t)
		flaky := &failingRenames{Store: a, failAt: 2}
		batch := records(0, 9, day1)
		for i := range batch {
			batch[i].Date = []time.Time{day1, day2, day3}[i/3]
		}
		_, err := sink.Land(ctx(t), sink.New(flaky, nil), dataset, topic, partition, batch)
		if err == nil {
			t.Fatal("Land succeeded although the second rename failed")
		}
		s := sink.New(a, nil)
		expectOffsets(t, s, span(0, 3))
		land(t, s, batch)
		expectOffsets(t, s, span(0, 9))
		if tmp, _ := a.ReadDir(ctx(t), dataset+"/_tmp"); len(tmp) != 0 {
			t.Errorf("temporary files left behind: %+v", tmp)
		}
	})
	t.Run("ConcurrentWritersOfOnePartition", func(t *testing.T) {
		a, b := open(t)
		sinks := []*sink.Sink{sink.New(a, nil), sink.New(b, nil)}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				from := int64(i * 5)
				_, err := sink.Land(ctx(t), sinks[i%2], dataset, topic, partition, records(from, from+15, day1))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		expectOffsets(t, sinks[0], span(0, 50))
	})
	t.Run("PartitionsAndDatasetsAreIndependent", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		land(t, s, records(0, 5, day1))
		other, err := sink.Land(ctx(t), s, dataset, topic, partition+1, records(0, 5, day1))
		if err != nil || other.Rows != 5 {
			t.Fatalf("other partition = %+v, %v", other, err)
		}
		rejected, err := sink.Land(ctx(t), s, sink.RejectedDataset(dataset), topic, partition, records(0, 5, day1))
		if err != nil || rejected.Rows != 5 {
			t.Fatalf("dead-letter dataset = %+v, %v", rejected, err)
		}
	})
	runJournal(t, open)
	t.Run("CrashAtEveryStep", func(t *testing.T) { crashAtEveryStep(t, open) })
	t.Run("RejectsBadNames", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		for _, ds := range []string{"../x", "a/../../b", "", "dt=2026-01-01", "a b", "a/b/c/d", "x/_locks"} {
			if _, err := sink.Land(ctx(t), s, ds, topic, 0, records(0, 1, day1)); err == nil {
				t.Errorf("dataset %q accepted", ds)
			}
		}
		if _, err := sink.Land(ctx(t), s, dataset, "../etc", 0, records(0, 1, day1)); err == nil {
			t.Error("topic ../etc accepted")
		}
	})
}

const (
	dataset   = "events"
	topic     = "game-events"
	partition = int32(3)
)

var (
	day1 = time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC)
	day2 = day1.Add(time.Hour)
	day3 = day2.Add(24 * time.Hour)
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// records returns rows for offsets [from, to).
func records(from, to int64, day time.Time) []sink.Record[event.Row] {
	var out []sink.Record[event.Row]
	for off := from; off < to; off++ {
		e := event.Event{SchemaVersion: 1, EventID: fmt.Sprintf("id-%d", off), EventType: event.TypeDefault, EventTime: event.MillisOf(day)}
		out = append(out, sink.Record[event.Row]{Offset: off, Date: day, Row: event.NewRow(&e, event.Source{Topic: topic, Partition: partition, Offset: off})})
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

func land(t *testing.T, s *sink.Sink, batch []sink.Record[event.Row]) sink.Landed {
	t.Helper()
	return landIn(t, s, dataset, batch)
}

func landIn(t *testing.T, s *sink.Sink, ds string, batch []sink.Record[event.Row]) sink.Landed {
	t.Helper()
	got, err := sink.Land(ctx(t), s, ds, topic, partition, batch)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// expectOffsets checks that the dataset holds exactly the given offsets, once each.
func expectOffsets(t *testing.T, s *sink.Sink, want []int64) {
	t.Helper()
	expectIn(t, s, dataset, want)
}

func expectIn(t *testing.T, s *sink.Sink, ds string, want []int64) {
	t.Helper()
	rows, err := sink.ReadDataset[event.Row](ctx(t), s, ds)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range rows {
		if r.KafkaPartition != partition {
			continue
		}
		got = append(got, r.KafkaOffset)
		if r.EventID != fmt.Sprintf("id-%d", r.KafkaOffset) {
			t.Errorf("row at offset %d holds event %s", r.KafkaOffset, r.EventID)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("%s offsets = %v, want %v", ds, got, want)
	}
}

// failingRenames fails the failAt-th rename of a Parquet file, as a crash
// between two files would.
type failingRenames struct {
	store.Store
	mu      sync.Mutex
	renames int
	failAt  int
}

func (f *failingRenames) Rename(ctx context.Context, from, to string) error {
	if !strings.HasSuffix(to, ".parquet") {
		return f.Store.Rename(ctx, from, to)
	}
	f.mu.Lock()
	f.renames++
	n := f.renames
	f.mu.Unlock()
	if n == f.failAt {
		return errors.New("injected crash before rename")
	}
	return f.Store.Rename(ctx, from, to)
}

var _ io.Closer = store.Store(nil)
