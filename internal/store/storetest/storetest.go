// Package storetest is the contract every store.Store must pass. Each
// implementation's tests call Run with a constructor; the file store runs it
// on a temporary directory and the HDFS store against the embedded HDFS.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/store"
)

// Run runs the contract. open returns a store on a fresh empty root; called
// twice in one test, it must return two independent clients of the SAME
// root (as two processes would have).
func Run(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	t.Run("ReadDirOfMissingDirIsEmpty", func(t *testing.T) {
		s, _ := open(t)
		entries, err := s.ReadDir(ctx(t), "no/such/dir")
		if err != nil || len(entries) != 0 {
			t.Fatalf("ReadDir(missing) = %v, %v; want empty, nil", entries, err)
		}
	})
	t.Run("CreateWritesDurableBytesAndParents", func(t *testing.T) {
		s, _ := open(t)
		for _, size := range []int{0, 1, 4096, 3<<20 + 17} {
			data := bytes.Repeat([]byte("questlog"), size/8+1)[:size]
			name := "d/e/file" + strings.Repeat("x", size%7)
			write(t, s, name, data)
			if got := read(t, s, name); !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, want %d", len(got), len(data))
			}
		}
		entries, err := s.ReadDir(ctx(t), "d")
		if err != nil || len(entries) != 1 || entries[0].Name != "e" || !entries[0].IsDir {
			t.Fatalf("ReadDir(d) = %+v, %v; want one directory e", entries, err)
		}
	})
	t.Run("CreateTruncates", func(t *testing.T) {
		s, _ := open(t)
		write(t, s, "f", []byte("long contents"))
		write(t, s, "f", []byte("short"))
		if got := read(t, s, "f"); string(got) != "short" {
			t.Fatalf("after rewrite read %q", got)
		}
	})
	t.Run("ReadDirIsSortedWithSizes", func(t *testing.T) {
		s, _ := open(t)
		for _, n := range []string{"c", "a", "b"} {
			write(t, s, "dir/"+n, []byte(n+n))
		}
		entries, err := s.ReadDir(ctx(t), "dir")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
			if e.Size != 2 || e.IsDir || e.ModTime.IsZero() {
				t.Errorf("entry %+v: want size 2, a file, a modification time", e)
			}
		}
		if strings.Join(names, ",") != "a,b,c" {
			t.Fatalf("ReadDir names = %v", names)
		}
	})
	t.Run("RenameMovesIntoNewDirectory", func(t *testing.T) {
		s, _ := open(t)
		write(t, s, "_tmp/x", []byte("payload"))
		if err := s.Rename(ctx(t), "_tmp/x", "ds/dt=2026-11-26/x.parquet"); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, "ds/dt=2026-11-26/x.parquet"); string(got) != "payload" {
			t.Fatalf("renamed file holds %q", got)
		}
		if _, err := s.Open(ctx(t), "_tmp/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("source still opens after rename: %v", err)
		}
	})
	t.Run("RenameNeverOverwrites", func(t *testing.T) {
		s, _ := open(t)
		write(t, s, "src", []byte("new"))
		write(t, s, "dst", []byte("old"))
		err := s.Rename(ctx(t), "src", "dst")
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Rename onto an existing file = %v, want fs.ErrExist", err)
		}
		if got := read(t, s, "dst"); string(got) != "old" {
			t.Fatalf("destination overwritten: %q", got)
		}
	})
	t.Run("RenameOfAMissingFile", func(t *testing.T) {
		s, _ := open(t)
		if err := s.Rename(ctx(t), "_tmp/none", "ds/dt=2026-11-26/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Rename(missing) = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("AppendAddsToTheEnd", func(t *testing.T) {
		a, b := open(t)
		write(t, a, "log/j", []byte("first\n"))
		big := bytes.Repeat([]byte("questlog"), 3<<17) // 3 MB: many packets
		want := []byte("first\n")
		for i, part := range [][]byte{[]byte("second\n"), nil, big, []byte("last\n")} {
			put(t, []store.Store{a, b}[i%2].Append, "log/j", part) // appenders may be other clients
			want = append(want, part...)
			if got := read(t, []store.Store{b, a}[i%2], "log/j"); !bytes.Equal(got, want) {
				t.Fatalf("after append #%d read %d bytes, want %d", i, len(got), len(want))
			}
		}
	})
	t.Run("AppendToAMissingFile", func(t *testing.T) {
		s, _ := open(t)
		if _, err := s.Append(ctx(t), "log/none"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Append(missing) = %v, want fs.ErrNotExist", err)
		}
		if _, err := s.Open(ctx(t), "log/none"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Append(missing) created the file: %v", err)
		}
	})
	t.Run("RemoveFileAndMissing", func(t *testing.T) {
		s, _ := open(t)
		write(t, s, "gone", []byte("x"))
		if err := s.Remove(ctx(t), "gone"); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(ctx(t), "gone"); err != nil {
			t.Fatalf("Remove(missing) = %v, want nil", err)
		}
		if _, err := s.Open(ctx(t), "gone"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open(removed) = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("RejectsNamesOutsideTheRoot", func(t *testing.T) {
		s, _ := open(t)
		for _, name := range []string{"../escape", "a/../../b", "/etc/passwd", "a//b", "a/./b", "", "a\x00b", `a\b`} {
			if _, err := s.Create(ctx(t), name); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Create(%q) = %v, want ErrInvalidName", name, err)
			}
			if _, err := s.Open(ctx(t), name); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Open(%q) = %v, want ErrInvalidName", name, err)
			}
			if _, err := s.Append(ctx(t), name); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Append(%q) = %v, want ErrInvalidName", name, err)
			}
			if err := s.Rename(ctx(t), "x", name); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Rename(x, %q) = %v, want ErrInvalidName", name, err)
			}
			if _, err := s.Lock(ctx(t), name); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Lock(%q) = %v, want ErrInvalidName", name, err)
			}
		}
	})
	t.Run("LockIsExclusiveAcrossClients", func(t *testing.T) {
		a, b := open(t)
		unlock, err := a.Lock(ctx(t), "ds/_locks/events+0")
		if err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx(t), 300*time.Millisecond)
		defer cancel()
		if _, err := b.Lock(short, "ds/_locks/events+0"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("second client took a held lock: %v", err)
		}
		other, err := b.Lock(ctx(t), "ds/_locks/events+1")
		if err != nil {
			t.Fatalf("a different lock name is independent: %v", err)
		}
		if err := other(); err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			u, err := b.Lock(ctx(t), "ds/_locks/events+0")
			if err == nil {
				err = u()
			}
			got <- err
		}()
		if err := unlock(); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatalf("lock not granted after release: %v", err)
		}
	})
	t.Run("LockIsExclusiveWithinAClient", func(t *testing.T) {
		a, _ := open(t)
		unlock, err := a.Lock(ctx(t), "l")
		if err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
		defer cancel()
		if _, err := a.Lock(short, "l"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("same client took a held lock twice: %v", err)
		}
		if err := unlock(); err != nil {
			t.Fatal(err)
		}
		again, err := a.Lock(ctx(t), "l")
		if err != nil {
			t.Fatal(err)
		}
		again()
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func write(t *testing.T, s store.Store, name string, data []byte) {
	t.Helper()
	put(t, s.Create, name, data)
}

// put writes data to the file open opens (Create or Append).
func put(t *testing.T, open func(context.Context, string) (io.WriteCloser, error), name string, data []byte) {
	t.Helper()
	w, err := open(ctx(t), name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("Write(%s): %v", name, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%s): %v", name, err)
	}
}

func read(t *testing.T, s store.Store, name string) []byte {
	t.Helper()
	f, err := s.Open(ctx(t), name)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return data
}
