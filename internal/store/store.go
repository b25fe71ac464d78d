// Package store is the small file-system interface the Parquet sink writes
// through, with two implementations chosen by URL: file:///path (a local
// directory) and hdfs://namenode:port/path (HDFS, over colinmarc/hdfs/v2).
//
// Names are slash-separated and relative to the store's root. They are
// checked by CleanName before any implementation sees them, so user input
// can never address a file outside the root.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Store is a file system rooted at a directory.
type Store interface {
	// ReadDir lists a directory sorted by name. A missing directory is empty.
	ReadDir(ctx context.Context, dir string) ([]Entry, error)
	// Create creates or truncates a file, creating missing parent
	// directories. The data is durable once Close returns nil.
	Create(ctx context.Context, name string) (io.WriteCloser, error)
	// Append opens an existing file for appending; a missing file is an
	// error wrapping fs.ErrNotExist. The data is durable once Close returns
	// nil. Callers serialize a file's appenders (under a lock); the next
	// appender after one that died waits until the store lets the dead
	// one's writer go (HDFS recovers its lease) or ctx is done.
	Append(ctx context.Context, name string) (io.WriteCloser, error)
	// Rename moves a file into place atomically, creating missing parent
	// directories of to. It fails with an error wrapping fs.ErrExist if to
	// exists, and never overwrites.
	Rename(ctx context.Context, from, to string) error
	// Open opens a file for random access.
	Open(ctx context.Context, name string) (File, error)
	// Remove removes a file or an empty directory. A missing name is not an error.
	Remove(ctx context.Context, name string) error
	// Lock takes an exclusive lock named name, waiting until it is free or
	// ctx is done. The lock is held across processes and machines sharing
	// the store, and is released when the holder calls the returned
	// function or dies, so a crashed writer never blocks others for good.
	Lock(ctx context.Context, name string) (unlock func() error, err error)
	// URL is the store's root as a URL, for messages.
	URL() string
	Close() error
}

// Entry is one directory entry.
type Entry struct {
	Name    string
	IsDir   bool
	Size    int64
	ModTime time.Time
}

// File is an open file for reading.
type File interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// ErrInvalidName is wrapped by the errors of CleanName.
var ErrInvalidName = errors.New("invalid name")

// CleanName checks that name is a relative slash-separated path with no
// empty, "." or ".." segments and no control characters, and returns it.
func CleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w %q: must be relative", ErrInvalidName, name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%w %q: empty, \".\" or \"..\" segment", ErrInvalidName, name)
		}
		for _, r := range seg {
			if r < 0x20 || r == 0x7f || r == '\\' {
				return "", fmt.Errorf("%w %q: control character or backslash", ErrInvalidName, name)
			}
		}
	}
	return name, nil
}

// cleanDir is CleanName that also accepts "" for the root.
func cleanDir(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	return CleanName(dir)
}

// Open opens the store a URL names: file:///abs/dir, hdfs://host:port/dir,
// or a plain local path.
func Open(ctx context.Context, rawURL string) (Store, error) {
	if !strings.Contains(rawURL, "://") {
		abs, err := filepath.Abs(rawURL)
		if err != nil {
			return nil, fmt.Errorf("open store %q: %w", rawURL, err)
		}
		return NewFileStore(abs)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("open store %q: file URLs name a local path (file:///dir)", rawURL)
		}
		return NewFileStore(u.Path)
	case "hdfs":
		return NewHDFSStore(ctx, u)
	default:
		return nil, fmt.Errorf("open store %q: unsupported scheme %q (use file:// or hdfs://)", rawURL, u.Scheme)
	}
}

// IsNotExist reports whether err means a missing file.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
