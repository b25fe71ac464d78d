package hdfs

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/user"
	"time"
)

// Config configures a Server. Only DataDir is required; every other field
// has a default, given in its comment.
type Config struct {
	// DataDir holds the namespace (namenode/: fsimage and edits) and the
	// block replicas (datanode/). It is created if missing and locked while
	// the server runs. Required.
	DataDir string

	// NameNodeAddr is the NameNode's listen address, host:port; port 0 picks
	// a free port (see Server.NameNodeAddr). Default: "127.0.0.1:8020".
	NameNodeAddr string

	// DataNodeAddr is the DataNode's data-transfer listen address. Clients
	// learn it from the NameNode, so a fixed port is rarely needed.
	// Default: "127.0.0.1:0".
	DataNodeAddr string

	// DataNodeHost is the host clients are told to dial for the DataNode.
	// Default: the DataNodeAddr host, or 127.0.0.1 when that is empty or
	// unspecified (0.0.0.0, ::).
	DataNodeHost string

	// BlockSize is the default block size handed to clients by
	// getServerDefaults. Clients may choose another per file (it must be a
	// multiple of 512). Default: 128 MiB.
	BlockSize int64

	// LeaseSoftLimit is how long a writer may go without renewing its lease
	// (the Go client renews every second) before another client's create,
	// append or recoverLease may take the file over. Default: 60s.
	LeaseSoftLimit time.Duration

	// LeaseHardLimit is how long a writer may go without renewing before
	// the NameNode recovers its files by itself. Default: 20m.
	LeaseHardLimit time.Duration

	// Superuser owns "/" and bypasses permission checks.
	// Default: the user running the process.
	Superuser string

	// Supergroup is the group of "/". Default: "supergroup".
	Supergroup string

	// DisablePermissions turns permission checking off, like
	// dfs.permissions.enabled=false. Default: false (checks on).
	DisablePermissions bool

	// ListLimit is the most directory entries returned per getListing call
	// (dfs.ls.limit); clients page through larger directories.
	// Default: 1000.
	ListLimit int

	// CheckpointEvery is how many namespace edits accumulate in the edit
	// log before it is folded into a new image. Default: 10000.
	CheckpointEvery int

	// Logger receives debug lines per RPC and per DataNode op, info lines
	// for start, stop and lease recovery, and warnings for bad input.
	// Default: slog.Default().
	Logger *slog.Logger

	// Listen binds the NameNode's and the DataNode's listeners, e.g. on
	// more than one address. Default: net.ListenConfig.Listen.
	Listen func(ctx context.Context, network, address string) (net.Listener, error)
}

func (c Config) nameNodeAddr() string {
	if c.NameNodeAddr == "" {
		return "127.0.0.1:8020"
	}
	return c.NameNodeAddr
}

func (c Config) dataNodeAddr() string {
	if c.DataNodeAddr == "" {
		return "127.0.0.1:0"
	}
	return c.DataNodeAddr
}

func (c Config) listen(ctx context.Context, network, address string) (net.Listener, error) {
	if c.Listen != nil {
		return c.Listen(ctx, network, address)
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, network, address)
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

func (c Config) superuser() string {
	if c.Superuser != "" {
		return c.Superuser
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "hdfs"
}

func (c Config) validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("hdfs: Config.DataDir is required")
	case c.BlockSize < 0 || c.BlockSize%512 != 0:
		return errors.New("hdfs: Config.BlockSize must be a positive multiple of 512")
	}
	return nil
}
