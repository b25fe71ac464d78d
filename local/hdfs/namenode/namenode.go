package namenode

import (
	"github.com/questlog/questlog/local/hdfs/internal/connserver"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"
)

// Config configures a NameNode. Zero fields take the documented defaults.
type Config struct {
	// Dir holds the image and the edit log. Required.
	Dir string
	// Replicas is the DataNode. Required.
	Replicas Replicas
	// DataNode is how clients reach the DataNode. Required.
	DataNode DataNodeInfo
	// BlockSize is the default block size offered to clients.
	// Default: 128 MiB.
	BlockSize int64
	// LeaseSoftLimit is how long a writer may go without renewing before
	// another client may take its file over. Default: 60s.
	LeaseSoftLimit time.Duration
	// LeaseHardLimit is how long a writer may go without renewing before the
	// NameNode recovers its files by itself. Default: 20m.
	LeaseHardLimit time.Duration
	// Superuser bypasses permission checks and owns "/". Required.
	Superuser string
	// Supergroup is the group of "/". Default: "supergroup".
	Supergroup string
	// Permissions turns permission checking on (dfs.permissions.enabled).
	Permissions bool
	// ListLimit is the most entries one getListing answer carries
	// (dfs.ls.limit). Default: 1000.
	ListLimit int
	// CheckpointEvery is how many edits accumulate before the image is
	// rewritten and the edit log emptied. Default: 10000.
	CheckpointEvery int
	// Logger receives debug lines per RPC, info for lifecycle events and
	// warnings for bad input. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock used for times and lease expiry. Default: time.Now.
	Now func() time.Time
}

// NameNode serves ClientProtocol.
type NameNode struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	replicas Replicas
	gate     blockGate

	// mu guards the namespace, the leases and missing.
	mu      sync.Mutex
	ns      *namespace
	leases  leases
	missing int // blocks found missing or short at startup
	journal *journal

	conns  connserver.Server
	stop   chan struct{}
	bgDone chan struct{}
}

func (cfg *Config) setDefaults() error {
	switch {
	case cfg.Dir == "":
		return errors.New("namenode: no directory configured")
	case cfg.Replicas == nil:
		return errors.New("namenode: no datanode configured")
	case cfg.Superuser == "":
		return errors.New("namenode: no superuser configured")
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = 128 << 20
	}
	if cfg.BlockSize%512 != 0 {
		return fmt.Errorf("namenode: block size %d is not a multiple of 512", cfg.BlockSize)
	}
	if cfg.LeaseSoftLimit <= 0 {
		cfg.LeaseSoftLimit = 60 * time.Second
	}
	if cfg.LeaseHardLimit <= 0 {
		cfg.LeaseHardLimit = 20 * time.Minute
	}
	if cfg.LeaseHardLimit < cfg.LeaseSoftLimit {
		cfg.LeaseHardLimit = cfg.LeaseSoftLimit
	}
	if cfg.Supergroup == "" {
		cfg.Supergroup = "supergroup"
	}
	if cfg.ListLimit <= 0 {
		cfg.ListLimit = 1000
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return nil
}

// Open loads the namespace from cfg.Dir, reconciles it with the DataNode and
// recovers every file that was open when the process stopped. ctx bounds
// only this startup work.
func Open(ctx context.Context, cfg Config) (*NameNode, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	j, img, recs, err := openJournal(cfg.Dir, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("namenode: %w", err)
	}
	nn := &NameNode{cfg: cfg, log: cfg.Logger, now: cfg.Now, replicas: cfg.Replicas, journal: j,
		stop: make(chan struct{}), bgDone: make(chan struct{})}
	fail := func(err error) (*NameNode, error) {
		j.close()
		return nil, fmt.Errorf("namenode: %w", err)
	}
	if img != nil {
		if nn.ns, err = namespaceFromImage(img); err != nil {
			return fail(err)
		}
	} else {
		nn.ns = newNamespace(cfg.Superuser, cfg.Supergroup, nn.nowMillis())
	}
	if err := nn.replay(recs); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := nn.reconcile(ctx); err != nil {
		return fail(err)
	}
	if img == nil || len(recs) > 0 {
		if err := nn.checkpoint(); err != nil {
			return fail(err)
		}
	}
	nn.log.Info("namenode: namespace loaded", "inodes", len(nn.ns.inodes), "blocks", len(nn.ns.blocks), "replayed_edits", len(recs))
	go func() {
		defer close(nn.bgDone)
		nn.monitorLeases(nn.stop)
	}()
	return nn, nil
}

// reconcile is the startup block report: committed blocks must be finalized
// replicas of the recorded length, files left open are recovered, and
// replicas no file references are deleted.
func (nn *NameNode) reconcile(ctx context.Context) error {
	var open []*inode
	nn.mu.Lock()
	for _, n := range nn.ns.inodes {
		if n.dir {
			continue
		}
		for _, b := range n.blocks {
			if !b.committed {
				continue
			}
			if err := nn.replicas.FinalizeReplica(b.id, b.numBytes); err != nil {
				nn.missing++
				nn.log.Error("namenode: block missing or short on the datanode", "path", n.path(), "block", b.id, "err", err)
			}
		}
		if n.underConstruction() {
			open = append(open, n)
		}
	}
	nn.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	sort.Slice(open, func(i, j int) bool { return open[i].id < open[j].id })
	err := nn.mutate(func(t *txn) error {
		for _, f := range open {
			if err := nn.recoverFile(t, f, "restart"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	nn.mu.Lock()
	dropped := nn.replicas.RetainReplicas(func(id uint64) bool { return nn.ns.blocks[id] != nil })
	nn.mu.Unlock()
	if len(dropped) > 0 {
		nn.log.Info("namenode: deleted replicas of no file", "count", len(dropped))
	}
	return nil
}

func (nn *NameNode) nowMillis() int64 { return nn.now().UnixMilli() }

// Serve accepts client connections on ln until Close; it returns nil after
// Close.
func (nn *NameNode) Serve(ln net.Listener) error {
	return nn.conns.Serve("namenode", ln, nn.log, nn.serveConn)
}

// Close stops serving, waits for running calls, writes a final checkpoint
// and closes the journal.
func (nn *NameNode) Close() error {
	if !nn.conns.Close() {
		return nil
	}
	close(nn.stop)
	<-nn.bgDone
	err := nn.checkpoint()
	nn.mu.Lock()
	defer nn.mu.Unlock()
	if cerr := nn.journal.close(); err == nil {
		err = cerr
	}
	return err
}
