package lake_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/hdfs"
	"github.com/questlog/questlog/local/lake"
)

// hdfsRoot is an empty root on an embedded HDFS.
func hdfsRoot(t *testing.T) (string, store.Store) {
	t.Helper()
	srv, err := hdfs.Start(context.Background(), hdfs.Config{DataDir: t.TempDir(), NameNodeAddr: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	root := "hdfs://" + srv.NameNodeAddr() + "/tmp"
	st, err := store.Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return root, st
}

// An hdfs:// root is read through a mirror in the data directory: each
// query fetches only the files landed since the last (a file already
// mirrored is not fetched again), drops the ones deleted, and never
// copies the writers' _tmp/ files.
func TestHDFSRootThroughTheMirror(t *testing.T) {
	root, st := hdfsRoot(t)
	events := planEvents(60, 8)
	landEvents(t, st, "extracted_events", events[:30], 10)
	dataDir := t.TempDir()
	c, err := lake.Open(context.Background(), lake.Config{ProjectDir: projectDir(), DataDir: dataDir, DatasetRoot: root, Engine: engineBin, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := count(t, c, "extracted_events"); n != 30 {
		t.Fatalf("count = %d, want 30", n)
	}
	mirrored := filepath.Join(dataDir, "lake", "mirror", "extracted_events", "dt=2026-11-27", "game-events+0+0+9.parquet")
	first, err := os.Stat(mirrored)
	if err != nil {
		t.Fatalf("the mirror lacks the first file: %v", err)
	}

	landEvents(t, st, "extracted_events", events, 10) // offsets 30-59
	w, err := st.Create(context.Background(), "extracted_events/_tmp/game-events+0+60+69.parquet")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("half a file"))
	w.Close()
	if n := count(t, c, "extracted_events"); n != 60 {
		t.Errorf("count after landing more = %d, want 60", n)
	}
	again, err := os.Stat(mirrored)
	if err != nil || !os.SameFile(first, again) || !again.ModTime().Equal(first.ModTime()) {
		t.Errorf("a mirrored file was fetched again")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "lake", "mirror", "extracted_events", "_tmp")); !os.IsNotExist(err) {
		t.Errorf("_tmp/ was mirrored: %v", err)
	}

	if err := st.Remove(context.Background(), "extracted_events/dt=2026-11-27/game-events+0+0+9.parquet"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c, "extracted_events"); n != 50 {
		t.Errorf("count after a file was deleted = %d, want 50", n)
	}
	if _, err := os.Stat(mirrored); !os.IsNotExist(err) {
		t.Errorf("the deleted file is still mirrored: %v", err)
	}
}
