package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/questlog/questlog/local/hdfs"
	"github.com/questlog/questlog/local/kafka"
	"github.com/questlog/questlog/local/netns"
)

// Template parameters the emulator fills in when they are not overridden:
// they are how the functions find Kafka and the dataset store.
const (
	ParamKafka       = "KafkaBootstrapServers"
	ParamDatasetRoot = "DatasetRoot"
)

// services are the embedded Kafka broker and HDFS, or the addresses of the
// ones another emulator process owns.
type services struct {
	brokers     []string
	datasetRoot string
	hdfsAddr    string // the embedded NameNode, if any
	closers     []io.Closer
	lock        *os.File
}

// State is written to <DataDir>/emulator.json by the process that owns the
// embedded services, so other commands (invoke, show, replay, sql) use
// them.
type State struct {
	PID         int      `json:"pid"`
	Brokers     []string `json:"kafka_bootstrap_servers"`
	DatasetRoot string   `json:"dataset_root"`
	APIURL      string   `json:"api_url,omitempty"`
	// SQLSocket is where the console's SQL engine answers questlog sql
	// and report (see lake.ServeSocket).
	SQLSocket string `json:"sql_socket,omitempty"`
}

func (s *services) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i].Close())
	}
	if s.lock != nil {
		os.Remove(filepath.Join(filepath.Dir(s.lock.Name()), "emulator.json"))
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// startServices starts what the parameters do not point elsewhere. If
// exclusive is false and another process owns the data directory, its
// services are used instead.
func startServices(ctx context.Context, cfg *Config, exclusive, wantKafka, wantHDFS bool, network *netns.Network) (*services, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s := &services{}
	lock, owner, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	kafkaOverride, kafkaOverridden := cfg.ParameterOverrides[ParamKafka]
	rootOverride, rootOverridden := cfg.ParameterOverrides[ParamDatasetRoot]
	kafkaOverridden = kafkaOverridden || !wantKafka
	rootOverridden = rootOverridden || !wantHDFS
	if lock == nil {
		if exclusive && (!kafkaOverridden || !rootOverridden) {
			return nil, fmt.Errorf("another emulator (pid %d) is running on %s: stop it, or give this one --data-dir", owner.PID, cfg.DataDir)
		}
		// Overrides win over the running emulator's services.
		if !kafkaOverridden {
			s.brokers = owner.Brokers
		}
		if !rootOverridden {
			s.datasetRoot = owner.DatasetRoot
		}
		cfg.Logger.Info("using the services of the running emulator", "pid", owner.PID, "kafka", strings.Join(s.brokers, ","), "datasets", s.datasetRoot)
		return s, nil
	}
	s.lock = lock
	listen := listenFor(network)
	// An override naming an embedded service's own address, where nothing
	// listens yet, is served by the embedded service:
	// DatasetRoot=hdfs://127.0.0.1:8020/other is the embedded HDFS, another
	// directory.
	if kafkaOverridden && wantKafka && unclaimed(kafkaOverride, cfg.KafkaAddr) {
		kafkaOverridden = false
	}
	root := "/tmp"
	if u, err := url.Parse(rootOverride); rootOverridden && wantHDFS && err == nil && u.Scheme == "hdfs" && unclaimed(u.Host, cfg.HDFSAddr) {
		rootOverridden, root = false, "/"+strings.TrimPrefix(u.Path, "/")
	}
	if !kafkaOverridden {
		b, err := kafka.Start(ctx, kafka.Config{
			Addr: cfg.KafkaAddr, DataDir: filepath.Join(cfg.DataDir, "kafka"), DefaultPartitions: cfg.Partitions, Logger: cfg.Logger,
			AdvertisedHost: advertised(cfg, network, cfg.KafkaAddr),
			Listen:         func(netw, addr string) (net.Listener, error) { return listen(ctx, netw, addr) },
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("start the embedded Kafka broker on %s: %w (is another Kafka using the port? override %s to use it)", cfg.KafkaAddr, err, ParamKafka)
		}
		s.closers = append(s.closers, closerFunc(func() error { b.Close(); return nil }))
		s.brokers = b.Addrs()
	}
	if !rootOverridden {
		nnHost := advertised(cfg, network, cfg.HDFSAddr)
		listenHost, _, _ := net.SplitHostPort(cfg.HDFSAddr)
		srv, err := hdfs.Start(ctx, hdfs.Config{
			DataDir: filepath.Join(cfg.DataDir, "hdfs"), NameNodeAddr: cfg.HDFSAddr, Logger: cfg.Logger,
			DataNodeAddr: net.JoinHostPort(listenHost, "0"), DataNodeHost: nnHost, Listen: listen,
			// A killed function's lease (it holds a dataset lock) should not
			// keep the next invocation waiting long.
			LeaseSoftLimit: 5 * time.Second,
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("start the embedded HDFS on %s: %w (override %s to use another store)", cfg.HDFSAddr, err, ParamDatasetRoot)
		}
		s.closers = append(s.closers, srv)
		_, port, _ := net.SplitHostPort(srv.NameNodeAddr())
		s.hdfsAddr = net.JoinHostPort(nnHost, port)
		s.datasetRoot = "hdfs://" + s.hdfsAddr + root
	}
	return s, nil
}

// publish records the services for other commands.
func (s *services) publish(dataDir string, st State) error {
	if s.lock == nil {
		return nil
	}
	st.PID = os.Getpid()
	data, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(filepath.Join(dataDir, "emulator.json"), data, 0o644)
}

// lockDataDir takes the data directory's lock. If another process holds
// it, it returns that process's published state instead.
func lockDataDir(dir string) (*os.File, *State, error) {
	f, err := os.OpenFile(filepath.Join(dir, "emulator.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		// The owner writes its state right after it took the lock; give it
		// a moment if we raced it.
		for range 50 {
			data, err := os.ReadFile(filepath.Join(dir, "emulator.json"))
			var st State
			if err == nil && json.Unmarshal(data, &st) == nil && st.PID > 0 {
				return nil, &st, nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return nil, nil, fmt.Errorf("%s is locked by another emulator that published no addresses; if none is running, remove %s", dir, f.Name())
	}
	f.Truncate(0)
	f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	return f, nil, nil
}

// Running returns the published state of the emulator that owns dataDir,
// if one is running.
func Running(dataDir string) (brokers []string, datasetRoot, apiURL string, ok bool) {
	st, ok := Published(dataDir)
	return st.Brokers, st.DatasetRoot, st.APIURL, ok
}

// Published returns what the emulator that owns dataDir published, if
// one is running.
func Published(dataDir string) (State, bool) {
	lock, owner, err := lockDataDir(dataDir)
	if err != nil {
		return State{}, false
	}
	if lock != nil {
		lock.Close()
		return State{}, false
	}
	return *owner, true
}

// unclaimed reports whether addr is the embedded service's address and
// nothing listens there.
func unclaimed(addr, embedded string) bool {
	if addr != embedded {
		return false
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	conn.Close()
	return false
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// listen binds addr, explaining the usual failure.
func listen(addr, what, flag string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s cannot listen on %s: %w (choose another with %s)", what, addr, err, flag)
	}
	return l, nil
}
