package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("getBlockLocations", (*NameNode).getBlockLocations) }

// getBlockLocations answers the getBlockLocations RPC.
//
// RPC: ClientProtocol.getBlockLocations(GetBlockLocationsRequestProto{src,
// offset, length}) returns GetBlockLocationsResponseProto{locations}.
//
// Behavior: every non-empty block overlapping [offset, offset+length), in
// order, with its exact file offset and numBytes and the single DataNode as
// location. For a file under construction the last block is listed with the
// length the NameNode knows (0 for a block still being written, so it is
// left out of blocks) and reported as lastBlock with isLastBlockComplete
// false. A missing path or a directory is FileNotFoundException; READ on the
// file is required.
//
// Deliberate gaps: no access-time update, no cached locations, no sorting by
// distance (there is one node).
func (nn *NameNode) getBlockLocations(c *call, req *pb.GetBlockLocationsRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	nn.mu.Lock()
	defer nn.mu.Unlock()
	res, err := nn.resolve(u, req.GetSrc())
	if err != nil {
		return nil, err
	}
	f := res.node
	if f == nil {
		return nil, errNotFound(req.GetSrc())
	}
	if f.dir {
		return nil, remote(exFileNotFound, "Path is not a file: %s", req.GetSrc())
	}
	if err := nn.checkAccess(u, f, accessRead); err != nil {
		return nil, err
	}
	from := int64(req.GetOffset())
	to := from + int64(req.GetLength())
	if to < from {
		to = f.length()
	}
	locs := &pb.LocatedBlocksProto{
		FileLength:          proto.Uint64(uint64(f.length())),
		UnderConstruction:   proto.Bool(f.underConstruction()),
		IsLastBlockComplete: proto.Bool(true),
	}
	var off int64
	for _, b := range f.blocks {
		end := off + b.numBytes
		if b.numBytes > 0 && off < to && end > from {
			locs.Blocks = append(locs.Blocks, nn.locatedBlock(b, off))
		}
		off = end
	}
	if last := f.lastBlock(); last != nil {
		locs.LastBlock = nn.locatedBlock(last, f.length()-last.numBytes)
		locs.IsLastBlockComplete = proto.Bool(last.committed)
	}
	return &pb.GetBlockLocationsResponseProto{Locations: locs}, nil
}
