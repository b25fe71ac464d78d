package hdfs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Flow: many namespace changes with a checkpoint every 7 edits (so the
// image and the edit log both carry state), a graceful restart, then a
// restart after the edit log's tail was torn.
func TestRestartKeepsNamespaceAndData(t *testing.T) {
	dir := t.TempDir()
	start := func() (*Server, func()) {
		s, err := Start(context.Background(), Config{DataDir: dir, NameNodeAddr: "127.0.0.1:0", BlockSize: testBlockSize,
			Superuser: testSuperuser, CheckpointEvery: 7, Logger: newServerLogger(t)})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		return s, func() {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	}
	s, stop := start()
	c := newClient(t, s.NameNodeAddr(), testSuperuser)
	want := map[string][]byte{}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("/d%d/f%d", i%3, i)
		if err := c.MkdirAll(filepath.Dir(name), 0o750); err != nil {
			t.Fatal(err)
		}
		want[name] = randomBytes(i*37000, uint64(i))
		writeFile(t, c, name, want[name], 64<<10)
	}
	if err := c.Rename("/d0/f0", "/d1/zero"); err != nil {
		t.Fatal(err)
	}
	want["/d1/zero"] = want["/d0/f0"]
	delete(want, "/d0/f0")
	if err := c.RemoveAll("/d2"); err != nil {
		t.Fatal(err)
	}
	for name := range want {
		if strings.HasPrefix(name, "/d2/") {
			delete(want, name)
		}
	}
	if err := c.Chown("/d1", "carol", "ops"); err != nil {
		t.Fatal(err)
	}
	stop()

	check := func(s *Server) {
		t.Helper()
		c := newClient(t, s.NameNodeAddr(), testSuperuser)
		for name, data := range want {
			got, err := c.ReadFile(name)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s after restart: %v, %d bytes, want %d", name, err, len(got), len(data))
			}
		}
		if _, err := c.Stat("/d2"); !os.IsNotExist(err) {
			t.Errorf("/d2 came back: %v", err)
		}
		fi, err := c.Stat("/d1")
		if err != nil || fi.Mode().Perm() != 0o750 || !strings.Contains(fmt.Sprint(fi.Sys()), "carol") {
			t.Errorf("/d1 after restart: %v %v", fi, err)
		}
	}
	s, stop = start()
	check(s)
	// More edits, then a torn record at the end of the log.
	c = newClient(t, s.NameNodeAddr(), testSuperuser)
	if err := c.Mkdir("/after", 0o755); err != nil {
		t.Fatal(err)
	}
	stop()
	f, err := os.OpenFile(filepath.Join(dir, "namenode", "edits"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 0, 50, 1, 2, 3, 4, '{', '"'})
	f.Close()
	s, stop = start()
	defer stop()
	check(s)
	c = newClient(t, s.NameNodeAddr(), testSuperuser)
	if fi, err := c.Stat("/after"); err != nil || !fi.IsDir() {
		t.Fatalf("/after lost: %v", err)
	}
	// Replicas of deleted files are gone from disk.
	entries, _ := os.ReadDir(filepath.Join(dir, "datanode", "blocks"))
	var blocks int
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".meta") {
			blocks++
		}
	}
	var wantBlocks int
	for _, data := range want {
		wantBlocks += (len(data) + testBlockSize - 1) / testBlockSize
	}
	if blocks != wantBlocks {
		t.Errorf("%d replicas on disk, want %d", blocks, wantBlocks)
	}
}

func TestDataDirLocked(t *testing.T) {
	_, cfg := newServer(t)
	cfg.NameNodeAddr = "127.0.0.1:0"
	if s, err := Start(context.Background(), cfg); err == nil {
		s.Close()
		t.Fatal("a second server started on the same data directory")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("error = %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{DataDir: t.TempDir(), BlockSize: 1000},
	} {
		if s, err := Start(context.Background(), cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
	// The default NameNode address is 127.0.0.1:8020.
	if got := (Config{}).nameNodeAddr(); got != "127.0.0.1:8020" {
		t.Errorf("default NameNodeAddr = %s", got)
	}
}
