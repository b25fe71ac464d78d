package sinktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// crashAtEveryStep kills a landing at each of its steps in turn (every
// change it makes to the store: each create, append, write, close,
// rename and remove), then lets other writers land the same records:
// one that read the journal before the crash and one that starts cold.
// Whatever the step, every record is in the dataset exactly once and no
// temporary file or second journal is left.
func crashAtEveryStep(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	for _, sc := range []struct {
		name    string
		prepare func(t *testing.T, st store.Store, ds string)
		slack   int64 // the crashing sink's JournalSlack
	}{
		{name: "Journal"},
		{name: "NoJournal", prepare: removeJournals}, // files landed before journals existed, or journals deleted
		{name: "Compaction", slack: 1},               // the crashing landing compacts the journal first
	} {
		t.Run(sc.name, func(t *testing.T) {
			a, b := open(t)
			quiet := slog.New(slog.DiscardHandler)
			for n := 1; ; n++ {
				ds := fmt.Sprintf("crash%d", n)
				lost := &abandoned{}
				warm := sink.New(&recovering{Store: b, lost: lost}, quiet)
				landIn(t, warm, ds, records(0, 10, day1))
				if sc.prepare != nil {
					sc.prepare(t, b, ds)
				}

				dying := &crashing{Store: a, at: n, lost: lost}
				s := sink.New(dying, quiet)
				s.JournalSlack = sc.slack
				_, err := sink.Land(ctx(t), s, ds, topic, partition, twoDays(5, 30))
				crashed := dying.crashed()
				if (err != nil) != crashed {
					t.Fatalf("step %d: Land = %v, crashed %v", n, err, crashed)
				}

				// A writer with a cache from before lands newer records,
				// then the redelivery; then a cold one replays everything.
				landIn(t, warm, ds, twoDays(30, 35))
				landIn(t, warm, ds, twoDays(5, 30))
				cold := sink.New(&recovering{Store: b, lost: lost}, quiet)
				landIn(t, cold, ds, twoDays(0, 40))
				expectIn(t, cold, ds, span(0, 40))
				expectClean(t, b, ds)
				if !crashed {
					t.Logf("the landing takes %d steps; it died at each of them", n-1)
					if n < 5 {
						t.Fatalf("the landing took only %d steps", n-1)
					}
					return
				}
			}
		})
	}
}

// twoDays returns records for offsets [from, to): those below 20 on day1,
// the rest on day2.
func twoDays(from, to int64) []sink.Record[event.Row] {
	out := records(from, to, day1)
	for i := range out {
		if out[i].Offset >= 20 {
			out[i].Date = day2
		}
	}
	return out
}

func removeJournals(t *testing.T, st store.Store, ds string) {
	for _, name := range journals(t, st, ds) {
		if err := st.Remove(ctx(t), ds+"/_locks/"+name); err != nil {
			t.Fatal(err)
		}
	}
}

// journals lists the journal files of the test's partition in ds,
// finished (".landed") or not (".tmp").
func journals(t *testing.T, st store.Store, ds string) []string {
	t.Helper()
	entries, err := st.ReadDir(ctx(t), ds+"/_locks")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name, fmt.Sprintf("%s+%d.", topic, partition)) {
			out = append(out, e.Name)
		}
	}
	return out
}

// expectClean checks that ds holds no temporary file and one journal of
// the partition.
func expectClean(t *testing.T, st store.Store, ds string) {
	t.Helper()
	if tmp, err := st.ReadDir(ctx(t), ds+"/_tmp"); err != nil || len(tmp) != 0 {
		t.Errorf("%s/_tmp holds %+v (%v)", ds, tmp, err)
	}
	if j := journals(t, st, ds); len(j) != 1 || !strings.HasSuffix(j[0], ".landed") {
		t.Errorf("%s/_locks holds the journals %v, want one", ds, j)
	}
}

var errCrashed = errors.New("injected crash")

// crashing is the store of a process that dies at its at-th step: the
// step does nothing (a write writes half its bytes, as a torn write
// would), and no later call does anything either. Its locks are released,
// as the process's death releases them; the files it had open stay open
// (lost), as a dead HDFS client's leases do until they are recovered.
type crashing struct {
	store.Store
	at   int
	lost *abandoned

	mu    sync.Mutex
	steps int
	dead  bool
}

func (c *crashing) crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
}

// step counts a change to the store; now is true when it is the fatal one.
func (c *crashing) step() (now bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false, errCrashed
	}
	c.steps++
	if c.steps == c.at {
		c.dead = true
		return true, errCrashed
	}
	return false, nil
}

func (c *crashing) alive() error {
	if c.crashed() {
		return errCrashed
	}
	return nil
}

func (c *crashing) ReadDir(ctx context.Context, dir string) ([]store.Entry, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	return c.Store.ReadDir(ctx, dir)
}

func (c *crashing) Open(ctx context.Context, name string) (store.File, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	return c.Store.Open(ctx, name)
}

func (c *crashing) Create(ctx context.Context, name string) (io.WriteCloser, error) {
	return c.open(ctx, name, c.Store.Create)
}

func (c *crashing) Append(ctx context.Context, name string) (io.WriteCloser, error) {
	return c.open(ctx, name, c.Store.Append)
}

func (c *crashing) open(ctx context.Context, name string, open func(context.Context, string) (io.WriteCloser, error)) (io.WriteCloser, error) {
	if _, err := c.step(); err != nil {
		return nil, err
	}
	w, err := open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &crashingWriter{c: c, w: w, name: name}, nil
}

func (c *crashing) Rename(ctx context.Context, from, to string) error {
	if _, err := c.step(); err != nil {
		return err
	}
	return c.Store.Rename(ctx, from, to)
}

func (c *crashing) Remove(ctx context.Context, name string) error {
	if _, err := c.step(); err != nil {
		return err
	}
	return c.Store.Remove(ctx, name)
}

func (c *crashing) Lock(ctx context.Context, name string) (func() error, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	return c.Store.Lock(ctx, name) // released when the process dies, too
}

type crashingWriter struct {
	c    *crashing
	w    io.WriteCloser
	name string
}

func (w *crashingWriter) Write(p []byte) (int, error) {
	now, err := w.c.step()
	if now {
		w.w.Write(p[:len(p)/2])
	}
	if err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

func (w *crashingWriter) Close() error {
	if _, err := w.c.step(); err != nil {
		w.c.lost.add(w.name, w.w)
		return err
	}
	return w.w.Close()
}

// abandoned holds the files a crashed process left open, by name.
type abandoned struct {
	mu    sync.Mutex
	files map[string][]io.WriteCloser
}

func (a *abandoned) add(name string, w io.WriteCloser) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.files == nil {
		a.files = map[string][]io.WriteCloser{}
	}
	a.files[name] = append(a.files[name], w)
}

// recover closes the files of name a crashed process left open, keeping
// every byte it wrote: what HDFS does when the next writer asks for the
// file after the dead one's lease expired. Until then readers see the
// file as it was before the dead process opened it.
func (a *abandoned) recover(name string) error {
	a.mu.Lock()
	ws := a.files[name]
	delete(a.files, name)
	a.mu.Unlock()
	for _, w := range ws {
		if err := w.Close(); err != nil {
			return fmt.Errorf("recover %s: %w", name, err)
		}
	}
	return nil
}

// recovering is the store of the processes that outlive a crashed one:
// an append to a file the dead process left open first recovers it.
type recovering struct {
	store.Store
	lost *abandoned
}

func (r *recovering) Append(ctx context.Context, name string) (io.WriteCloser, error) {
	if err := r.lost.recover(name); err != nil {
		return nil, err
	}
	return r.Store.Append(ctx, name)
}
