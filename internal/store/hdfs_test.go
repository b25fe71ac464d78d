package store_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/sink/sinktest"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/internal/store/storetest"
	"github.com/questlog/questlog/local/hdfs"
)

// startHDFS runs the emulator's embedded HDFS (a real HDFS-protocol
// NameNode and DataNode) on a free port.
func startHDFS(t *testing.T, dataDir, addr string) *hdfs.Server {
	t.Helper()
	srv, err := hdfs.Start(context.Background(), hdfs.Config{DataDir: dataDir, NameNodeAddr: addr, LeaseSoftLimit: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func openHDFS(t *testing.T, addr, root string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, "hdfs://"+addr+root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// twoClients starts an HDFS server and returns two independent clients of
// one fresh root on it.
func twoClients(t *testing.T) (store.Store, store.Store) {
	srv := startHDFS(t, t.TempDir(), "127.0.0.1:0")
	t.Cleanup(func() { srv.Close() })
	root := "/questlog/" + url.PathEscape(t.Name())
	return openHDFS(t, srv.NameNodeAddr(), root), openHDFS(t, srv.NameNodeAddr(), root)
}

func TestHDFSStoreContract(t *testing.T) { storetest.Run(t, twoClients) }

func TestHDFSStoreExactlyOnce(t *testing.T) { sinktest.Run(t, twoClients) }

// A NameNode restart does not break a store: the next call reconnects.
func TestHDFSStoreReconnectsAfterNameNodeRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startHDFS(t, dir, "127.0.0.1:0")
	addr := srv.NameNodeAddr()
	st := openHDFS(t, addr, "/data")
	write := func(name, data string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		w, err := st.Create(ctx, name)
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte(data)); err != nil {
			return err
		}
		return w.Close()
	}
	if err := write("before", "1"); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv = startHDFS(t, dir, addr) // same data, same port
	defer srv.Close()
	if err := write("after", "2"); err != nil {
		t.Fatalf("write after the NameNode restarted: %v", err)
	}
	entries, err := st.ReadDir(context.Background(), "")
	if err != nil || len(entries) != 2 {
		t.Fatalf("ReadDir after restart = %+v, %v", entries, err)
	}
}

// The lock of a writer that died (its client stopped renewing the lease)
// passes to the next writer once HDFS recovers the lease.
func TestHDFSLockOfADeadWriterIsRecovered(t *testing.T) {
	srv := startHDFS(t, t.TempDir(), "127.0.0.1:0")
	defer srv.Close()
	dead := openHDFS(t, srv.NameNodeAddr(), "/locks")
	if _, err := dead.Lock(context.Background(), "l"); err != nil {
		t.Fatal(err)
	}
	// Cut the dead writer off without releasing anything, as kill -9 would.
	killConnections(t, dead)
	alive := openHDFS(t, srv.NameNodeAddr(), "/locks")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	unlock, err := alive.Lock(ctx, "l")
	if err != nil {
		t.Fatalf("the lock of a dead writer was not recovered: %v", err)
	}
	unlock()
}

func killConnections(t *testing.T, st store.Store) {
	t.Helper()
	// Closing the store stops its client's lease renewals and drops its
	// connections without completing the open lock file.
	if err := st.Close(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, fs.ErrClosed) {
		t.Logf("close: %v", err)
	}
}

// An appender that died holding the file (its client stopped renewing the
// lease) does not block the next one for good: Append waits until HDFS
// recovers the lease, keeps what the dead one's DataNode acknowledged, and
// appends after it.
func TestHDFSAppendAfterADeadAppender(t *testing.T) {
	srv := startHDFS(t, t.TempDir(), "127.0.0.1:0")
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dead := openHDFS(t, srv.NameNodeAddr(), "/logs")
	w, err := dead.Create(ctx, "j")
	if err == nil {
		_, err = w.Write([]byte("whole\n"))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	w, err = dead.Append(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("torn"))
	w.(interface{ Flush() error }).Flush()
	killConnections(t, dead)

	alive := openHDFS(t, srv.NameNodeAddr(), "/logs")
	w, err = alive.Append(ctx, "j")
	if err != nil {
		t.Fatalf("append after a dead appender: %v", err)
	}
	if _, err := w.Write([]byte("next\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := alive.Open(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]byte, f.Size())
	if _, err := f.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if s := string(got); s != "whole\nnext\n" && s != "whole\ntornnext\n" {
		t.Fatalf("file holds %q", s)
	}
}
