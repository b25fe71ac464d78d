package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// HDFSStore is a Store on HDFS.
//
// colinmarc/hdfs does not reconnect by itself after the NameNode restarts
// (it backs off from a failed host for five seconds and keeps a broken
// connection after a read error), so every call that fails below the RPC
// layer is retried on a fresh client until ctx is done.
//
// Every NameNode round trip counts (a landing makes fifteen): Create,
// Rename and Lock try the operation first and make missing parent
// directories only when HDFS answers that they are missing.
type HDFSStore struct {
	addr, root, user string

	mu     sync.Mutex
	client *hdfs.Client

	// Lock files held by this process, so two goroutines of one process
	// queue here instead of both asking HDFS for the same lease.
	local sync.Map // name → *sync.Mutex
}

// NewHDFSStore connects to hdfs://host:port/root. The user is the URL's
// user, else HADOOP_USER_NAME, else the OS user.
func NewHDFSStore(ctx context.Context, u *url.URL) (*HDFSStore, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("hdfs URL %q has no namenode host:port", u.String())
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "8020")
	}
	root := path.Clean("/" + u.Path)
	s := &HDFSStore{addr: addr, root: root, user: hdfsUser(u)}
	err := s.do(ctx, func(c *hdfs.Client) error { return c.MkdirAll(root, 0o755) })
	if err != nil {
		return nil, fmt.Errorf("open hdfs store %s: %w", s.URL(), err)
	}
	return s, nil
}

func hdfsUser(u *url.URL) string {
	if u.User != nil && u.User.Username() != "" {
		return u.User.Username()
	}
	if name := os.Getenv("HADOOP_USER_NAME"); name != "" {
		return name
	}
	if cur, err := user.Current(); err == nil {
		return cur.Username
	}
	return "questlog"
}

func (s *HDFSStore) URL() string { return "hdfs://" + s.addr + s.root }

func (s *HDFSStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		return nil
	}
	err := s.client.Close()
	s.client = nil
	return err
}

func (s *HDFSStore) connect() (*hdfs.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	c, err := hdfs.NewClient(hdfs.ClientOptions{
		Addresses:        []string{s.addr},
		User:             s.user,
		NamenodeDialFunc: dialer.DialContext,
		DatanodeDialFunc: dialer.DialContext,
	})
	if err != nil {
		return nil, err
	}
	s.client = c
	return c, nil
}

// drop discards a client whose connection failed, unless another call
// already replaced it.
func (s *HDFSStore) drop(c *hdfs.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == c {
		c.Close()
		s.client = nil
	}
}

// do runs op, reconnecting and retrying while it fails for reasons other
// than an answer from HDFS, until ctx is done.
func (s *HDFSStore) do(ctx context.Context, op func(*hdfs.Client) error) error {
	wait := 50 * time.Millisecond
	for {
		c, err := s.connect()
		if err == nil {
			err = op(c)
			if err == nil || !transient(err) {
				return err
			}
			s.drop(c)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hdfs %s unreachable: %w (last error: %v)", s.addr, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// transient reports whether err is a connection failure rather than an
// error HDFS answered with.
func transient(err error) bool {
	var remote hdfs.Error
	if errors.As(err, &remote) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrInvalid) {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "no available namenodes") ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func (s *HDFSStore) path(name string) (string, error) {
	name, err := CleanName(name)
	if err != nil {
		return "", err
	}
	return path.Join(s.root, name), nil
}

func (s *HDFSStore) ReadDir(ctx context.Context, dir string) ([]Entry, error) {
	dir, err := cleanDir(dir)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	err = s.do(ctx, func(c *hdfs.Client) error {
		infos, err := c.ReadDir(path.Join(s.root, dir))
		if err != nil {
			return err
		}
		entries = make([]Entry, 0, len(infos))
		for _, fi := range infos {
			entries = append(entries, Entry{Name: fi.Name(), IsDir: fi.IsDir(), Size: fi.Size(), ModTime: fi.ModTime()})
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	sortEntries(entries)
	return entries, err
}

func (s *HDFSStore) Create(ctx context.Context, name string) (io.WriteCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	var w *hdfs.FileWriter
	err = s.do(ctx, func(c *hdfs.Client) error {
		w, err = create(c, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// create creates p with one create RPC where it can: unlike the Go
// client's Create it asks nothing first, and it makes p's parents only
// when create says they are missing. An existing file is replaced, as
// Create promises (rare).
func create(c *hdfs.Client, p string) (*hdfs.FileWriter, error) {
	d, err := c.ServerDefaults() // fetched once per client
	if err != nil {
		return nil, err
	}
	w, err := c.CreateFile(p, d.Replication, d.BlockSize, 0o644)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = c.MkdirAll(path.Dir(p), 0o755)
	case errors.Is(err, fs.ErrExist):
		err = c.Remove(p)
	default:
		return w, err
	}
	if err != nil {
		return nil, err
	}
	return c.CreateFile(p, d.Replication, d.BlockSize, 0o644)
}

// Append waits while another writer holds the file's lease: callers
// serialize appenders, so that writer died, and HDFS hands its lease on
// after the soft limit.
func (s *HDFSStore) Append(ctx context.Context, name string) (io.WriteCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	w, err := s.appendWaiting(ctx, p, false)
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", name, err)
	}
	return w, nil
}

// appendWaiting opens p for append, waiting while another client holds its
// lease; with create, a missing p is created first.
func (s *HDFSStore) appendWaiting(ctx context.Context, p string, create bool) (io.WriteCloser, error) {
	wait := 20 * time.Millisecond
	for {
		var w leasedWriter
		err := s.do(ctx, func(c *hdfs.Client) error {
			var err error
			w = leasedWriter{s: s, c: c}
			w.FileWriter, err = c.Append(p)
			if create && errors.Is(err, fs.ErrNotExist) {
				if err := c.MkdirAll(path.Dir(p), 0o755); err != nil {
					return err
				}
				if err := c.CreateEmptyFile(p); err != nil && !errors.Is(err, fs.ErrExist) {
					return err
				}
				w.FileWriter, err = c.Append(p)
			}
			return err
		})
		if err == nil {
			return w, nil
		}
		if !leaseHeld(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("held by another writer: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// leasedWriter is a file open for append. A file whose Close failed stays
// leased to this client, which would renew the lease for as long as it
// lives and so hold off every later appender, the client itself included:
// the client is dropped instead, and HDFS hands the file on after the soft
// limit.
type leasedWriter struct {
	*hdfs.FileWriter
	s *HDFSStore
	c *hdfs.Client
}

func (w leasedWriter) Close() error {
	err := w.FileWriter.Close()
	if err != nil {
		w.s.drop(w.c)
	}
	return err
}

func (s *HDFSStore) Rename(ctx context.Context, from, to string) error {
	src, err := s.path(from)
	if err != nil {
		return err
	}
	dst, err := s.path(to)
	if err != nil {
		return err
	}
	return s.do(ctx, func(c *hdfs.Client) error {
		// colinmarc/hdfs only offers an overwriting rename; callers hold
		// the dataset's lock, so nothing can appear between Stat and Rename.
		if _, err := c.Stat(dst); err == nil {
			return fmt.Errorf("rename %s to %s: %w", from, to, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		err := c.Rename(src, dst)
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// The source or the destination's directory is missing: make the
		// directory, only if the source is there.
		if _, err := c.Stat(src); err != nil {
			return err
		}
		if err := c.MkdirAll(path.Dir(dst), 0o755); err != nil {
			return err
		}
		return c.Rename(src, dst)
	})
}

type hdfsFile struct {
	*hdfs.FileReader
}

func (f hdfsFile) Size() int64 { return f.Stat().Size() }

func (s *HDFSStore) Open(ctx context.Context, name string) (File, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	var r *hdfs.FileReader
	err = s.do(ctx, func(c *hdfs.Client) error {
		r, err = c.Open(p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return hdfsFile{r}, nil
}

func (s *HDFSStore) Remove(ctx context.Context, name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	return s.do(ctx, func(c *hdfs.Client) error {
		if err := c.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

// Lock holds the HDFS lease of a lock file by keeping it open for append.
// The NameNode grants one writer per file, and when a holder dies its lease
// expires (Hadoop's soft limit, 60 s by default) and the next append
// recovers the file: a crash-safe lock that needs nothing but HDFS.
func (s *HDFSStore) Lock(ctx context.Context, name string) (func() error, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	m, _ := s.local.LoadOrStore(name, &sync.Mutex{})
	local := m.(*sync.Mutex)
	if !tryLockCtx(ctx, local) {
		return nil, fmt.Errorf("lock %s: %w", name, ctx.Err())
	}
	w, err := s.appendWaiting(ctx, p, true)
	if err != nil {
		local.Unlock()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() error {
		defer local.Unlock()
		return w.Close()
	}, nil
}

// leaseHeld reports whether an append failed because another client holds
// the file's lease, or its lease is being recovered.
func leaseHeld(err error) bool {
	var remote hdfs.Error
	if errors.As(err, &remote) {
		ex := remote.Exception()
		return strings.HasSuffix(ex, "AlreadyBeingCreatedException") || strings.HasSuffix(ex, "RecoveryInProgressException")
	}
	return errors.Is(err, fs.ErrExist)
}

func tryLockCtx(ctx context.Context, m *sync.Mutex) bool {
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		if m.TryLock() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}
