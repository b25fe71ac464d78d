package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("updateBlockForPipeline", (*NameNode).updateBlockForPipeline) }

// updateBlockForPipeline answers the updateBlockForPipeline RPC.
//
// RPC: ClientProtocol.updateBlockForPipeline(UpdateBlockForPipelineRequestProto
// {block, clientName}) returns UpdateBlockForPipelineResponseProto{block}.
//
// Behavior: the Go client sends it after finishing every block and ignores
// the answer, which must still be a complete LocatedBlockProto. The block
// must belong to a file under construction leased to clientName
// (IOException / LeaseExpiredException otherwise). Nothing changes: the
// generation stamp stays the same, because the client keeps using the old
// one in addBlock, complete and append.
//
// Deliberate gaps: no generation stamp bump and no pipeline recovery.
func (nn *NameNode) updateBlockForPipeline(c *call, req *pb.UpdateBlockForPipelineRequestProto) (proto.Message, error) {
	nn.mu.Lock()
	defer nn.mu.Unlock()
	id := req.GetBlock().GetBlockId()
	b := nn.ns.blocks[id]
	if b == nil {
		return nil, errIO("Block %d does not exist", id)
	}
	f := b.file
	if !f.underConstruction() {
		return nil, errIO("%s is not under construction", f.path())
	}
	if f.client != req.GetClientName() {
		return nil, remote(exLeaseExpired, "Client (=%s) is not the lease owner (=%s) of %s", req.GetClientName(), f.client, f.path())
	}
	var offset int64
	for _, x := range f.blocks {
		if x == b {
			break
		}
		offset += x.numBytes
	}
	return &pb.UpdateBlockForPipelineResponseProto{Block: nn.locatedBlock(b, offset)}, nil
}
