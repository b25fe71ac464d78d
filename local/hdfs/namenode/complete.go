package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("complete", (*NameNode).complete)
	registerEdit("close", func() editOp { return new(opClose) })
}

// opClose finishes a file under construction: the last block gets LastLen
// (when >= 0) and is committed, or is dropped, and the lease is released.
// complete and lease recovery write it.
type opClose struct {
	ID       uint64 `json:"id"`
	LastLen  int64  `json:"lastLen"`
	DropLast bool   `json:"dropLast,omitempty"`
	Time     int64  `json:"time"`
}

func (op *opClose) apply(nn *NameNode) error {
	f := nn.ns.inodes[op.ID]
	if f == nil || f.dir || !f.underConstruction() {
		return fmt.Errorf("close: inode %d is not a file under construction", op.ID)
	}
	if last := f.lastBlock(); last != nil {
		nn.gate.revoke(last.id)
		switch {
		case op.DropLast:
			f.blocks = f.blocks[:len(f.blocks)-1]
			delete(nn.ns.blocks, last.id)
		case op.LastLen >= 0:
			last.numBytes, last.committed = op.LastLen, true
		default:
			last.committed = true
		}
	}
	nn.leases.remove(f.client, f.id)
	f.client = ""
	f.mtime = op.Time
	return nil
}

// complete answers the complete RPC.
//
// RPC: ClientProtocol.complete(CompleteRequestProto{src, clientName, last,
// fileId}) returns CompleteResponseProto{result}.
//
// Behavior: the file (by fileId, else path) must be leased to clientName.
// last, when sent, must be the file's last block: it is committed with its
// numBytes after checking the DataNode holds a finalized replica of exactly
// that length (an IOException otherwise, never result=false, which the Go
// client does not retry). Without last, an uncommitted last block is
// committed at its known length, or dropped if it never got data. The file
// is closed, its mtime set and the lease released; result is true. A repeated
// complete of a closed file whose last block matches is also true
// (HDFS-3031).
//
// Deliberate gaps: no minimum replication wait.
func (nn *NameNode) complete(c *call, req *pb.CompleteRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	err := nn.mutate(func(t *txn) error {
		rl := req.GetLast()
		f, err := nn.writerFile(u, req.GetSrc(), req.GetFileId(), req.GetClientName())
		if err != nil {
			if done := nn.alreadyComplete(u, req); done {
				return nil
			}
			return err
		}
		op := &opClose{ID: f.id, LastLen: -1, Time: nn.nowMillis()}
		last := f.lastBlock()
		switch {
		case rl == nil && (last == nil || last.committed):
		case rl == nil && last.numBytes == 0:
			if n, _, ok := nn.replicas.ReplicaInfo(last.id); !ok || n == 0 {
				op.DropLast = true
			} else if err := nn.checkReplica(last, 0); err != nil {
				return err
			}
		case rl == nil:
			if err := nn.replicas.FinalizeReplica(last.id, last.numBytes); err != nil {
				return errIO("complete %s: %v", req.GetSrc(), err)
			}
		case last == nil || rl.GetBlockId() != last.id:
			return errIO("complete %s: block %d is not the last block of the file", req.GetSrc(), rl.GetBlockId())
		case last.committed:
			// Last block of a full-block append that got no new block.
		default:
			n := int64(rl.GetNumBytes())
			if n > f.blockSize {
				return errIO("complete %s: block %d of %d bytes exceeds the block size %d", req.GetSrc(), last.id, n, f.blockSize)
			}
			if _, _, ok := nn.replicas.ReplicaInfo(last.id); n == 0 && !ok {
				op.DropLast = true
			} else if err := nn.checkReplica(last, n); err != nil {
				return err
			}
			op.LastLen = n
		}
		if op.DropLast {
			id := last.id
			t.afterSync(func() { nn.replicas.DeleteReplicas([]uint64{id}) })
		}
		return t.log(op)
	})
	if err != nil {
		return nil, err
	}
	return &pb.CompleteResponseProto{Result: proto.Bool(true)}, nil
}

// alreadyComplete reports whether a complete call repeats one that already
// closed the file.
func (nn *NameNode) alreadyComplete(u *caller, req *pb.CompleteRequestProto) bool {
	var f *inode
	if id := req.GetFileId(); id != 0 {
		f = nn.ns.inodes[id]
	} else if res, err := nn.resolve(u, req.GetSrc()); err == nil {
		f = res.node
	}
	if f == nil || f.dir || f.underConstruction() {
		return false
	}
	rl, last := req.GetLast(), f.lastBlock()
	if rl == nil {
		return true
	}
	return last != nil && last.id == rl.GetBlockId() && last.numBytes == int64(rl.GetNumBytes())
}
