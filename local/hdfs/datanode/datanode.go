package datanode

import (
	"github.com/questlog/questlog/local/hdfs/internal/connserver"

	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// Authority is the NameNode's side of a write: it says whether a block may
// be written and how large it may grow. It is called with the DataNode's
// replica lock held and must not block or call back into the DataNode.
type Authority interface {
	// AuthorizeWrite returns the most bytes the block may hold, or an error
	// when it is not the open last block of a file being written.
	AuthorizeWrite(blockID, genStamp uint64) (maxBytes int64, err error)
}

// Config configures a DataNode.
type Config struct {
	// Dir holds the replicas and the node's identity. Required.
	Dir string
	// Logger receives debug lines per op and warnings for bad input.
	// Default: slog.Default().
	Logger *slog.Logger
}

// DataNode stores replicas and serves DataTransferProtocol.
type DataNode struct {
	log   *slog.Logger
	store *store
	uuid  string

	authMu sync.RWMutex
	auth   Authority

	conns connserver.Server
}

// opHandler serves one op on a connection after its op code was read.
type opHandler func(dn *DataNode, c net.Conn, r *bufio.Reader) error

var ops = map[byte]opHandler{}

// registerOp adds an op to the table; a duplicate code is a programming
// error.
func registerOp(code byte, h opHandler) {
	if _, dup := ops[code]; dup {
		panic(fmt.Sprintf("datanode: op %d registered twice", code))
	}
	ops[code] = h
}

// Open loads the replicas under cfg.Dir, recovering replicas that were being
// written when the process stopped.
func Open(cfg Config) (*DataNode, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Dir == "" {
		return nil, errors.New("datanode: no directory configured")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("datanode: create directory: %w", err)
	}
	uuid, err := loadUUID(filepath.Join(cfg.Dir, "uuid"))
	if err != nil {
		return nil, fmt.Errorf("datanode: %w", err)
	}
	st, err := openStore(filepath.Join(cfg.Dir, "blocks"), log)
	if err != nil {
		return nil, fmt.Errorf("datanode: %w", err)
	}
	return &DataNode{log: log, store: st, uuid: uuid}, nil
}

func loadUUID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read node id: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate node id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	id = id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	return id, nil
}

// UUID is the node's stable identity.
func (dn *DataNode) UUID() string { return dn.uuid }

// SetAuthority installs the NameNode that authorizes writes. Until it is
// set, every write is refused.
func (dn *DataNode) SetAuthority(a Authority) {
	dn.authMu.Lock()
	dn.auth = a
	dn.authMu.Unlock()
}

func (dn *DataNode) authorize(id, gs uint64) (int64, error) {
	dn.authMu.RLock()
	a := dn.auth
	dn.authMu.RUnlock()
	if a == nil {
		return 0, errors.New("datanode is not registered with a namenode")
	}
	return a.AuthorizeWrite(id, gs)
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (dn *DataNode) Serve(ln net.Listener) error {
	return dn.conns.Serve("datanode", ln, dn.log, dn.serveConn)
}

// Close stops accepting, closes open connections and waits for their
// handlers. Acknowledged data is already on disk.
func (dn *DataNode) Close() error {
	dn.conns.Close()
	return nil
}

func (dn *DataNode) serveConn(c net.Conn) {
	r := bufio.NewReaderSize(c, 256<<10)
	var hdr [3]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if !errors.Is(err, io.EOF) {
			dn.log.Warn("datanode: read op header", "remote", c.RemoteAddr().String(), "err", err)
		}
		return
	}
	if v := binary.BigEndian.Uint16(hdr[:2]); v != dataTransferVersion {
		dn.log.Warn("datanode: unsupported data transfer version", "remote", c.RemoteAddr().String(), "version", v)
		_ = writeDelimited(c, opResponse(pb.Status_ERROR_UNSUPPORTED, fmt.Sprintf("unsupported data transfer version %d", v)))
		return
	}
	h, ok := ops[hdr[2]]
	if !ok {
		dn.log.Warn("datanode: unsupported op", "remote", c.RemoteAddr().String(), "op", hdr[2])
		_ = writeDelimited(c, opResponse(pb.Status_ERROR_UNSUPPORTED, fmt.Sprintf("unsupported op %d", hdr[2])))
		return
	}
	if err := h(dn, c, r); err != nil {
		dn.log.Warn("datanode: op failed", "op", hdr[2], "remote", c.RemoteAddr().String(), "err", err)
	}
}

// ReplicaInfo reports a replica's acknowledged length and whether it is
// finalized.
func (dn *DataNode) ReplicaInfo(id uint64) (length int64, finalized, ok bool) {
	return dn.store.info(id)
}

// RecoverReplica stops any writer of the block and finalizes the replica at
// the length it acknowledged, which it returns (0 for a missing replica).
// The caller must have revoked the block's write authorization first.
func (dn *DataNode) RecoverReplica(id uint64) (int64, error) {
	n, err := dn.store.recover(id)
	if err != nil {
		return 0, fmt.Errorf("datanode: recover block %d: %w", id, err)
	}
	return n, nil
}

// FinalizeReplica makes sure the replica is finalized with exactly length
// bytes, dropping any bytes past it.
func (dn *DataNode) FinalizeReplica(id uint64, length int64) error {
	if err := dn.store.finalizeAt(id, length); err != nil {
		return fmt.Errorf("datanode: %w", err)
	}
	return nil
}

// DeleteReplicas stops writers of the blocks and deletes their replicas.
func (dn *DataNode) DeleteReplicas(ids []uint64) { dn.store.remove(ids) }

// RetainReplicas deletes every replica for which keep returns false, like a
// block report answered with invalidations, and returns the deleted ids.
func (dn *DataNode) RetainReplicas(keep func(id uint64) bool) []uint64 {
	return dn.store.retain(keep)
}

// Used returns the bytes held in replicas.
func (dn *DataNode) Used() int64 { return dn.store.used() }
