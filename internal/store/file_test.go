package store_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/internal/store/storetest"
)

func TestFileStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, store.Store) {
		dir := t.TempDir()
		a, err := store.Open(context.Background(), "file://"+dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := store.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}

// A lock held by a process that is killed is free at once.
func TestFileLockReleasedWhenHolderDies(t *testing.T) {
	if os.Getenv("QUESTLOG_LOCK_CHILD") != "" {
		s, _ := store.NewFileStore(os.Getenv("QUESTLOG_LOCK_CHILD"))
		if _, err := s.Lock(context.Background(), "l"); err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Hour)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestFileLockReleasedWhenHolderDies$")
	cmd.Env = append(os.Environ(), "QUESTLOG_LOCK_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child did not lock: %q %v", buf, err)
	}
	s, _ := store.NewFileStore(dir)
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, "l"); err == nil {
		t.Fatal("took the lock while the child holds it")
	}
	cmd.Process.Kill()
	cmd.Wait()
	ctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	unlock, err := s.Lock(ctx, "l")
	if err != nil {
		t.Fatalf("lock of a killed holder not released: %v", err)
	}
	unlock()
	if _, err := os.Stat(filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
}
