package namenode

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// poolID is the block pool id of the single namespace.
const poolID = "BP-questlog-1"

// Replicas is the DataNode as the NameNode sees it. The NameNode calls it
// with its lock held; implementations must never call back into the
// NameNode except through AuthorizeWrite.
type Replicas interface {
	// ReplicaInfo reports a replica's acknowledged length and state.
	ReplicaInfo(id uint64) (length int64, finalized, ok bool)
	// RecoverReplica stops the block's writer and finalizes the replica at
	// its acknowledged length (0 when missing).
	RecoverReplica(id uint64) (int64, error)
	// FinalizeReplica makes the replica finalized with exactly length bytes.
	FinalizeReplica(id uint64, length int64) error
	// DeleteReplicas deletes replicas, stopping their writers.
	DeleteReplicas(ids []uint64)
	// RetainReplicas deletes every replica keep rejects.
	RetainReplicas(keep func(id uint64) bool) []uint64
	// Used returns the bytes held.
	Used() int64
}

// DataNodeInfo is how clients reach the DataNode.
type DataNodeInfo struct {
	// Host is the address clients dial, e.g. 127.0.0.1.
	Host string
	// Port is the data transfer port.
	Port int
	// UUID is the DataNode's stable identity.
	UUID string
}

// blockGate records which blocks may be written right now and how large
// they may grow. It has its own lock so the DataNode can consult it while
// the NameNode lock is held by a recovery that waits for the DataNode.
type blockGate struct {
	mu   sync.Mutex
	open map[uint64]gateEntry
}

type gateEntry struct {
	gs  uint64
	max int64
}

func (g *blockGate) allow(id, gs uint64, max int64) {
	g.mu.Lock()
	if g.open == nil {
		g.open = map[uint64]gateEntry{}
	}
	g.open[id] = gateEntry{gs: gs, max: max}
	g.mu.Unlock()
}

func (g *blockGate) revoke(id uint64) {
	g.mu.Lock()
	delete(g.open, id)
	g.mu.Unlock()
}

// AuthorizeWrite implements datanode.Authority: a block may be written
// while it is the uncommitted last block of a file under construction.
func (nn *NameNode) AuthorizeWrite(id, gs uint64) (int64, error) {
	nn.gate.mu.Lock()
	e, ok := nn.gate.open[id]
	nn.gate.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("block %d is not open for writing", id)
	}
	if e.gs != gs {
		return 0, fmt.Errorf("block %d has generation stamp %d, not %d", id, e.gs, gs)
	}
	return e.max, nil
}

func extendedBlock(b *blockInfo) *pb.ExtendedBlockProto {
	return &pb.ExtendedBlockProto{
		PoolId:          proto.String(poolID),
		BlockId:         proto.Uint64(b.id),
		GenerationStamp: proto.Uint64(b.gs),
		NumBytes:        proto.Uint64(uint64(b.numBytes)),
	}
}

// datanodeInfo is the DataNode as clients see it.
func (nn *NameNode) datanodeInfo() *pb.DatanodeInfoProto {
	dn := nn.cfg.DataNode
	return &pb.DatanodeInfoProto{
		Id: &pb.DatanodeIDProto{
			IpAddr:       proto.String(dn.Host),
			HostName:     proto.String(dn.Host),
			DatanodeUuid: proto.String(dn.UUID),
			XferPort:     proto.Uint32(uint32(dn.Port)),
			InfoPort:     proto.Uint32(0),
			IpcPort:      proto.Uint32(0),
		},
		Location: proto.String("/default-rack"),
	}
}

// emptyToken is the block token sent with every block: security is off,
// but every field is required.
func emptyToken() *pb.TokenProto {
	return &pb.TokenProto{Identifier: []byte{}, Password: []byte{}, Kind: proto.String(""), Service: proto.String("")}
}

func (nn *NameNode) locatedBlock(b *blockInfo, offset int64) *pb.LocatedBlockProto {
	return &pb.LocatedBlockProto{
		B:          extendedBlock(b),
		Offset:     proto.Uint64(uint64(offset)),
		Locs:       []*pb.DatanodeInfoProto{nn.datanodeInfo()},
		Corrupt:    proto.Bool(false),
		BlockToken: emptyToken(),
	}
}

// writerFile finds the file a writer names, by fileId when the client sends
// one (v2.4 does, so a renamed open file is still found), else by path, and
// checks that clientName holds its lease.
func (nn *NameNode) writerFile(u *caller, src string, fileID uint64, client string) (*inode, error) {
	var f *inode
	if fileID != 0 {
		if f = nn.ns.inodes[fileID]; f == nil {
			return nil, remote(exFileNotFound, "File does not exist: %s (inode %d)", src, fileID)
		}
	} else {
		res, err := nn.resolve(u, src)
		if err != nil {
			return nil, err
		}
		if f = res.node; f == nil {
			return nil, errNotFound(src)
		}
	}
	if f.dir {
		return nil, remote(exFileNotFound, "Path is not a file: %s", src)
	}
	if !f.underConstruction() {
		return nil, remote(exLeaseExpired, "No lease on %s (inode %d): File is not open for writing.", src, f.id)
	}
	if f.client != client {
		return nil, remote(exLeaseExpired, "Client (=%s) is not the lease owner (=%s) of %s", client, f.client, src)
	}
	return f, nil
}
