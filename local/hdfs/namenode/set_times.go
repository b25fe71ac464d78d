package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("setTimes", (*NameNode).setTimes)
	registerEdit("setTimes", func() editOp { return new(opSetTimes) })
}

type opSetTimes struct {
	ID    uint64 `json:"id"`
	MTime int64  `json:"mtime"`
	ATime int64  `json:"atime"`
}

func (op *opSetTimes) apply(nn *NameNode) error {
	n := nn.ns.inodes[op.ID]
	if n == nil {
		return fmt.Errorf("setTimes: no inode %d", op.ID)
	}
	if op.MTime >= 0 {
		n.mtime = op.MTime
	}
	if op.ATime >= 0 {
		n.atime = op.ATime
	}
	return nil
}

// setTimes answers the setTimes RPC.
//
// RPC: ClientProtocol.setTimes(SetTimesRequestProto{src, mtime, atime})
// returns SetTimesResponseProto.
//
// Behavior: sets the modification and access times, in milliseconds, of a
// file or a directory (the CLI's touch of an existing path); -1 leaves a
// time unchanged. WRITE on the path is required; a missing path is
// FileNotFoundException.
//
// Deliberate gaps: none (HDFS's access-time precision only governs reads).
func (nn *NameNode) setTimes(c *call, req *pb.SetTimesRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	err := nn.mutate(func(t *txn) error {
		res, err := nn.resolve(u, req.GetSrc())
		if err != nil {
			return err
		}
		if res.node == nil {
			return errNotFound(req.GetSrc())
		}
		if err := nn.checkAccess(u, res.node, accessWrite); err != nil {
			return err
		}
		return t.log(&opSetTimes{ID: res.node.id, MTime: int64(req.GetMtime()), ATime: int64(req.GetAtime())})
	})
	if err != nil {
		return nil, err
	}
	return &pb.SetTimesResponseProto{}, nil
}
