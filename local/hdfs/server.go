package hdfs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/questlog/questlog/local/hdfs/datanode"
	"github.com/questlog/questlog/local/hdfs/namenode"
)

// Server is a running NameNode and DataNode sharing one data directory.
type Server struct {
	nn     *namenode.NameNode
	dn     *datanode.DataNode
	nnLn   net.Listener
	dnLn   net.Listener
	lock   *os.File
	cfg    Config
	served sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Start loads the data directory, recovers files left open by a previous
// run, binds both listeners and serves in the background. When Start
// returns, NameNodeAddr is final (useful with port 0) and clients may
// connect. ctx bounds the startup work only, like net.ListenConfig.Listen:
// the server runs until Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.logger()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("hdfs: create data directory: %w", err)
	}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{lock: lock, cfg: cfg}
	fail := func(err error) (*Server, error) {
		if s.nn != nil {
			s.nn.Close()
		}
		if s.dn != nil {
			s.dn.Close()
		}
		for _, ln := range []net.Listener{s.nnLn, s.dnLn} {
			if ln != nil {
				ln.Close()
			}
		}
		lock.Close()
		return nil, err
	}
	if s.dnLn, err = cfg.listen(ctx, "tcp", cfg.dataNodeAddr()); err != nil {
		return fail(fmt.Errorf("hdfs: datanode listen: %w", err))
	}
	if s.dn, err = datanode.Open(datanode.Config{Dir: filepath.Join(cfg.DataDir, "datanode"), Logger: log}); err != nil {
		return fail(fmt.Errorf("hdfs: %w", err))
	}
	host, port, err := advertised(s.dnLn.Addr(), cfg.DataNodeHost)
	if err != nil {
		return fail(err)
	}
	s.nn, err = namenode.Open(ctx, namenode.Config{
		Dir:             filepath.Join(cfg.DataDir, "namenode"),
		Replicas:        s.dn,
		DataNode:        namenode.DataNodeInfo{Host: host, Port: port, UUID: s.dn.UUID()},
		BlockSize:       cfg.BlockSize,
		LeaseSoftLimit:  cfg.LeaseSoftLimit,
		LeaseHardLimit:  cfg.LeaseHardLimit,
		Superuser:       cfg.superuser(),
		Supergroup:      cfg.Supergroup,
		Permissions:     !cfg.DisablePermissions,
		ListLimit:       cfg.ListLimit,
		CheckpointEvery: cfg.CheckpointEvery,
		Logger:          log,
	})
	if err != nil {
		return fail(fmt.Errorf("hdfs: %w", err))
	}
	s.dn.SetAuthority(s.nn)
	if s.nnLn, err = cfg.listen(ctx, "tcp", cfg.nameNodeAddr()); err != nil {
		return fail(fmt.Errorf("hdfs: namenode listen: %w", err))
	}
	s.served.Add(2)
	go func() {
		defer s.served.Done()
		if err := s.dn.Serve(s.dnLn); err != nil {
			log.Error("hdfs: datanode stopped serving", "err", err)
		}
	}()
	go func() {
		defer s.served.Done()
		if err := s.nn.Serve(s.nnLn); err != nil {
			log.Error("hdfs: namenode stopped serving", "err", err)
		}
	}()
	log.Info("hdfs: server started", "namenode", s.NameNodeAddr(), "datanode", s.DataNodeAddr(), "data_dir", cfg.DataDir)
	return s, nil
}

// advertised turns the DataNode's bound address into the host and port
// clients dial.
func advertised(addr net.Addr, host string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", 0, fmt.Errorf("hdfs: datanode address %s: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("hdfs: datanode port %s: %w", p, err)
	}
	if host == "" {
		host = h
		if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
	}
	return host, port, nil
}

// lockDir takes an exclusive lock on the data directory, released by Close
// or by the process dying.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "in_use.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("hdfs: lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("hdfs: data directory %s is in use by another server", dir)
		}
		return nil, fmt.Errorf("hdfs: lock data directory: %w", err)
	}
	return f, nil
}

// NameNodeAddr is the address clients connect to, host:port, e.g. for
// hdfs.ClientOptions.Addresses or HADOOP_NAMENODE.
func (s *Server) NameNodeAddr() string { return s.nnLn.Addr().String() }

// DataNodeAddr is the DataNode's data-transfer address.
func (s *Server) DataNodeAddr() string { return s.dnLn.Addr().String() }

// Close stops both nodes: open connections are closed, the namespace is
// checkpointed and the data directory unlocked. Every acknowledged packet
// and every completed file is already on disk. Files still open stay open
// until the next Start recovers them. Close is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.nn.Close()
		if derr := s.dn.Close(); err == nil {
			err = derr
		}
		s.served.Wait()
		if lerr := s.lock.Close(); err == nil {
			err = lerr
		}
		if err != nil {
			s.closeErr = fmt.Errorf("hdfs: close: %w", err)
		}
		s.cfg.logger().Info("hdfs: server stopped", "data_dir", s.cfg.DataDir)
	})
	return s.closeErr
}
