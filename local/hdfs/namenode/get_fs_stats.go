package namenode

import (
	"syscall"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("getFsStats", (*NameNode).getFsStats) }

// getFsStats answers the getFsStats RPC.
//
// RPC: ClientProtocol.getFsStats(GetFsStatusRequestProto) returns
// GetFsStatsResponseProto.
//
// Behavior: capacity and remaining are those of the file system holding the
// data directory (statfs), used is the bytes held in replicas, and
// missing_blocks counts blocks the startup block report found missing or
// short. capacity is never 0 (the CLI's df divides by it).
// under_replicated and corrupt_blocks are 0.
//
// Deliberate gaps: no per-DataNode reports, no pending deletion counts.
func (nn *NameNode) getFsStats(c *call, req *pb.GetFsStatusRequestProto) (proto.Message, error) {
	used := uint64(nn.replicas.Used())
	var st syscall.Statfs_t
	var capacity, remaining uint64
	if err := syscall.Statfs(nn.cfg.Dir, &st); err == nil {
		capacity = st.Blocks * uint64(st.Bsize)
		remaining = st.Bavail * uint64(st.Bsize)
	}
	capacity = max(capacity, used+remaining, 1)
	nn.mu.Lock()
	missing := uint64(nn.missing)
	nn.mu.Unlock()
	return &pb.GetFsStatsResponseProto{
		Capacity:        proto.Uint64(capacity),
		Used:            proto.Uint64(used),
		Remaining:       proto.Uint64(remaining),
		UnderReplicated: proto.Uint64(0),
		CorruptBlocks:   proto.Uint64(0),
		MissingBlocks:   proto.Uint64(missing),
	}, nil
}
