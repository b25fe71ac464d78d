package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("append", (*NameNode).appendFile)
	registerEdit("append", func() editOp { return new(opAppend) })
}

// opAppend reopens a closed file for writing.
type opAppend struct {
	ID     uint64 `json:"id"`
	Client string `json:"client"`
}

func (op *opAppend) apply(nn *NameNode) error {
	f := nn.ns.inodes[op.ID]
	if f == nil || f.dir || f.underConstruction() {
		return fmt.Errorf("append: inode %d is not a closed file", op.ID)
	}
	f.client = op.Client
	nn.leases.add(op.Client, f.id, nn.now())
	if last := f.lastBlock(); last != nil && last.numBytes < f.blockSize {
		last.committed = false
		nn.gate.allow(last.id, last.gs, f.blockSize)
	}
	return nil
}

// appendFile answers the append RPC.
//
// RPC: ClientProtocol.append(AppendRequestProto{src, clientName}) returns
// AppendResponseProto{block, stat}.
//
// Behavior: the file goes back under construction, leased to clientName.
// stat is always returned (both client versions dereference it) with the
// file's block size, replication and fileId. When the last block exists and
// is not full it is returned in block with its current length, reopened for
// writing (the client resumes it with PIPELINE_SETUP_APPEND); otherwise block
// is unset and the client calls addBlock with no previous block.
// A missing path or a directory is FileNotFoundException; a file held by a
// live writer is AlreadyBeingCreatedException (past the soft limit it is
// recovered first); WRITE on the file is required.
//
// Deliberate gaps: the NEW_BLOCK flag is ignored; no generation stamp bump
// (the client reuses the block's stamp); no truncate interplay.
func (nn *NameNode) appendFile(c *call, req *pb.AppendRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	src, client := req.GetSrc(), req.GetClientName()
	if client == "" {
		return nil, errIO("append %s: no client name", src)
	}
	var resp *pb.AppendResponseProto
	err := nn.mutate(func(t *txn) error {
		res, err := nn.resolve(u, src)
		if err != nil {
			return err
		}
		f := res.node
		if f == nil || f.dir {
			return remote(exFileNotFound, "Failed to append to non-existent file %s for client %s", src, c.remote)
		}
		if err := nn.checkAccess(u, f, accessWrite); err != nil {
			return err
		}
		if err := nn.checkLeaseFree(t, f, "APPEND_FILE", src, client); err != nil {
			return err
		}
		if err := t.log(&opAppend{ID: f.id, Client: client}); err != nil {
			return err
		}
		resp = &pb.AppendResponseProto{Stat: nn.fileStatus(f, "")}
		if last := f.lastBlock(); last != nil && !last.committed {
			resp.Block = nn.locatedBlock(last, f.length()-last.numBytes)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
