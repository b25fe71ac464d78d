package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("addBlock", (*NameNode).addBlock)
	registerEdit("addBlock", func() editOp { return new(opAddBlock) })
}

// opAddBlock commits the last block at PrevLen (when >= 0) and appends a
// new empty block.
type opAddBlock struct {
	File    uint64 `json:"file"`
	PrevLen int64  `json:"prevLen"`
	Block   uint64 `json:"block"`
	GS      uint64 `json:"gs"`
}

func (op *opAddBlock) apply(nn *NameNode) error {
	f := nn.ns.inodes[op.File]
	if f == nil || f.dir || !f.underConstruction() {
		return fmt.Errorf("addBlock: inode %d is not a file under construction", op.File)
	}
	if nn.ns.blocks[op.Block] != nil {
		return fmt.Errorf("addBlock: block %d exists", op.Block)
	}
	if op.PrevLen >= 0 {
		last := f.lastBlock()
		if last == nil {
			return fmt.Errorf("addBlock: inode %d has no block to commit", op.File)
		}
		last.numBytes, last.committed = op.PrevLen, true
		nn.gate.revoke(last.id)
	}
	b := &blockInfo{id: op.Block, gs: op.GS, file: f}
	f.blocks = append(f.blocks, b)
	nn.ns.blocks[b.id] = b
	nn.ns.nextBlock = max(nn.ns.nextBlock, b.id+1)
	nn.gate.allow(b.id, b.gs, f.blockSize)
	return nil
}

// checkReplica makes sure the DataNode holds a finalized replica of the
// length a client reports for a block it finished.
func (nn *NameNode) checkReplica(b *blockInfo, n int64) error {
	have, finalized, ok := nn.replicas.ReplicaInfo(b.id)
	if ok && finalized && have == n {
		return nil
	}
	return errIO("block %d: client reports %d bytes, datanode has %d (present %v, finalized %v)", b.id, n, have, ok, finalized)
}

// addBlock answers the addBlock RPC.
//
// RPC: ClientProtocol.addBlock(AddBlockRequestProto{src, clientName,
// previous, fileId}) returns AddBlockResponseProto{block}.
//
// Behavior:
//   - The file is found by fileId when sent (v2.4), else by path, and must be
//     under construction and leased to clientName (LeaseExpiredException
//     otherwise; FileNotFoundException when it is gone).
//   - previous, when sent, must be the current last block; it is committed
//     with its final numBytes after checking that the DataNode finalized a
//     replica of exactly that length. A new block is then allocated at the
//     end of the file, writable up to the file's block size, and returned
//     with the single DataNode as location and an empty token.
//   - previous absent is fine for the first block and after an append whose
//     last block was full. A retry (previous = the penultimate block, or
//     absent for the first block) gets the already allocated, still empty
//     block back, as in Hadoop's analyzeFileState.
//
// Deliberate gaps: excludeNodes, favoredNodes and flags are ignored; no
// block placement, no minimum replication wait.
func (nn *NameNode) addBlock(c *call, req *pb.AddBlockRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	var resp *pb.AddBlockResponseProto
	err := nn.mutate(func(t *txn) error {
		f, err := nn.writerFile(u, req.GetSrc(), req.GetFileId(), req.GetClientName())
		if err != nil {
			return err
		}
		n := len(f.blocks)
		last := f.lastBlock()
		prev := req.GetPrevious()
		retry := func() error {
			resp = &pb.AddBlockResponseProto{Block: nn.locatedBlock(last, f.length())}
			return nil
		}
		prevLen := int64(-1)
		switch {
		case prev == nil && last == nil:
		case prev == nil && last.committed:
			// Append to a file whose last block is full.
		case prev == nil && n == 1 && last.numBytes == 0:
			return retry()
		case prev == nil:
			return errIO("addBlock %s: the last block %d is not committed and no previous block was given", req.GetSrc(), last.id)
		case last != nil && prev.GetBlockId() == last.id && !last.committed:
			prevLen = int64(prev.GetNumBytes())
			if prevLen > f.blockSize {
				return errIO("addBlock %s: block %d of %d bytes exceeds the block size %d", req.GetSrc(), last.id, prevLen, f.blockSize)
			}
			if err := nn.checkReplica(last, prevLen); err != nil {
				return err
			}
		case n >= 2 && prev.GetBlockId() == f.blocks[n-2].id && !last.committed && last.numBytes == 0:
			return retry()
		default:
			return errIO("addBlock %s: previous block %d is not the last block of the file", req.GetSrc(), prev.GetBlockId())
		}
		op := &opAddBlock{File: f.id, PrevLen: prevLen, Block: nn.ns.nextBlock, GS: nn.ns.genStamp}
		if err := t.log(op); err != nil {
			return err
		}
		b := nn.ns.blocks[op.Block]
		resp = &pb.AddBlockResponseProto{Block: nn.locatedBlock(b, f.length())}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
