package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// FileStore is a Store in a local directory. Files are fsynced before they
// are renamed into place, and the directory after, so a landed file
// survives a crash of the machine, not only of the process.
type FileStore struct {
	root string
}

// NewFileStore returns a store rooted at dir, creating it if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("file store root %q must be absolute", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create file store root: %w", err)
	}
	return &FileStore{root: filepath.Clean(dir)}, nil
}

func (s *FileStore) URL() string  { return "file://" + s.root }
func (s *FileStore) Close() error { return nil }

func (s *FileStore) path(name string) (string, error) {
	name, err := CleanName(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(name)), nil
}

func (s *FileStore) ReadDir(_ context.Context, dir string) ([]Entry, error) {
	dir, err := cleanDir(dir)
	if err != nil {
		return nil, err
	}
	des, err := os.ReadDir(filepath.Join(s.root, filepath.FromSlash(dir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(des))
	for _, de := range des {
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		}
		if err != nil {
			return nil, err
		}
		entries = append(entries, Entry{Name: de.Name(), IsDir: de.IsDir(), Size: info.Size(), ModTime: info.ModTime()})
	}
	return entries, nil
}

func (s *FileStore) Create(_ context.Context, name string) (io.WriteCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	return syncOnClose{f}, nil
}

func (s *FileStore) Append(_ context.Context, name string) (io.WriteCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return syncOnClose{f}, nil
}

type syncOnClose struct{ *os.File }

func (f syncOnClose) Close() error {
	return errors.Join(f.File.Sync(), f.File.Close())
}

func (s *FileStore) Rename(_ context.Context, from, to string) error {
	src, err := s.path(from)
	if err != nil {
		return err
	}
	dst, err := s.path(to)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := renameNoReplace(src, dst); err != nil {
		return fmt.Errorf("rename %s to %s: %w", from, to, err)
	}
	return errors.Join(syncDir(filepath.Dir(dst)), syncDir(filepath.Dir(src)))
}

// renameNoReplace renames atomically, failing with fs.ErrExist if dst
// exists. File systems without RENAME_NOREPLACE get link + remove, which is
// just as safe (a crash between the two leaves only a spare temp file).
func renameNoReplace(src, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	if err := os.Link(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

type localFile struct {
	*os.File
	size int64
}

func (f localFile) Size() int64 { return f.size }

func (s *FileStore) Open(_ context.Context, name string) (File, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return localFile{f, info.Size()}, nil
}

func (s *FileStore) Remove(_ context.Context, name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Lock uses flock(2) on a lock file: the kernel releases it when the holder
// exits, however it exits.
func (s *FileStore) Lock(ctx context.Context, name string) (func() error, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	wait := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f.Close, nil // closing the descriptor releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// sortEntries orders entries by name, as ReadDir promises.
func sortEntries(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
}
