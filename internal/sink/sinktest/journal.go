package sinktest

import (
	"testing"

	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// runJournal checks what the sink does with its journal of landed ranges
// (see the sink's package doc) when it is not what the sink wrote.
func runJournal(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	t.Run("TwoSinksTakingTurns", func(t *testing.T) {
		a, b := open(t)
		sinks := []*sink.Sink{sink.New(a, nil), sink.New(b, nil)}
		for i, batch := range [][2]int64{{0, 10}, {5, 15}, {12, 20}, {0, 25}, {30, 31}, {20, 35}} {
			land(t, sinks[i%2], twoDays(batch[0], batch[1]))
		}
		expectOffsets(t, sinks[0], span(0, 35))
		expectClean(t, b, dataset)
	})
	t.Run("FilesDeletedByHandStayLandedUntilTheJournalGoes", func(t *testing.T) {
		a, _ := open(t)
		s := sink.New(a, nil)
		first := land(t, s, records(0, 10, day1))
		land(t, s, records(10, 20, day1)) // the latest file is checked: see DamagedJournal…
		if err := a.Remove(ctx(t), first.Files[0]); err != nil {
			t.Fatal(err)
		}
		if again := land(t, sink.New(a, nil), records(0, 10, day1)); again.Rows != 0 || again.Skipped != 10 {
			t.Fatalf("after deleting %s by hand = %+v, want the journal to count it landed", first.Files[0], again)
		}
		removeJournals(t, a, dataset)
		if again := land(t, s, records(0, 10, day1)); again.Rows != 10 {
			t.Fatalf("after deleting the journal = %+v, want the names read again", again)
		}
		expectOffsets(t, s, span(0, 20))
	})
	t.Run("DamagedJournalIsRebuiltFromTheNames", func(t *testing.T) {
		a, b := open(t)
		warm := sink.New(a, nil)
		land(t, warm, records(0, 10, day1))
		for _, garbage := range []string{"12 land dt=2026-11-26/x 00000000\n", "torn"} {
			w, err := b.Append(ctx(t), dataset+"/_locks/"+journals(t, b, dataset)[0])
			if err == nil {
				_, err = w.Write([]byte(garbage))
			}
			if err == nil {
				err = w.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			land(t, warm, records(5, 15, day1))
			land(t, sink.New(b, nil), records(0, 20, day1))
		}
		expectOffsets(t, warm, span(0, 20))
		expectClean(t, b, dataset)
	})
	t.Run("JournalIsCompacted", func(t *testing.T) {
		a, b := open(t)
		s := sink.New(a, nil)
		s.JournalSlack = 512
		for from := int64(0); from < 60; from += 2 {
			land(t, s, records(from, from+2, day1))
		}
		names := journals(t, a, dataset)
		if len(names) != 1 {
			t.Fatalf("journals %v, want one", names)
		}
		f, err := a.Open(ctx(t), dataset+"/_locks/"+names[0])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.Size() > 1024 {
			t.Errorf("the journal of 30 landings holds %d bytes, want it compacted", f.Size())
		}
		land(t, sink.New(b, nil), records(0, 65, day1))
		expectOffsets(t, s, span(0, 65))
	})
}
