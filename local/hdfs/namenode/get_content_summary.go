package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("getContentSummary", (*NameNode).getContentSummary) }

// getContentSummary answers the getContentSummary RPC.
//
// RPC: ClientProtocol.getContentSummary(GetContentSummaryRequestProto{path})
// returns GetContentSummaryResponseProto{summary}.
//
// Behavior: for the subtree at path: total file length, file count,
// directory count including path itself (0 for a file), spaceConsumed =
// sum of length x replication, and quota/spaceQuota -1 (no quotas). A
// missing path is FileNotFoundException (unlike getFileInfo). READ and
// EXECUTE are required on every directory of the subtree.
//
// Deliberate gaps: no quotas, no snapshot or erasure-coding counts, no
// per-storage-type figures.
func (nn *NameNode) getContentSummary(c *call, req *pb.GetContentSummaryRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	nn.mu.Lock()
	defer nn.mu.Unlock()
	res, err := nn.resolve(u, req.GetPath())
	if err != nil {
		return nil, err
	}
	if res.node == nil {
		return nil, errNotFound(req.GetPath())
	}
	if err := nn.checkSubtree(u, res.node, accessRead|accessExecute); err != nil {
		return nil, err
	}
	var length, files, dirs, space uint64
	var walk func(*inode)
	walk = func(n *inode) {
		if n.dir {
			dirs++
			for _, ch := range n.children {
				walk(ch)
			}
			return
		}
		files++
		l := uint64(n.length())
		length += l
		space += l * uint64(n.replication)
	}
	walk(res.node)
	const none = ^uint64(0) // -1
	return &pb.GetContentSummaryResponseProto{Summary: &pb.ContentSummaryProto{
		Length:         proto.Uint64(length),
		FileCount:      proto.Uint64(files),
		DirectoryCount: proto.Uint64(dirs),
		Quota:          proto.Uint64(none),
		SpaceConsumed:  proto.Uint64(space),
		SpaceQuota:     proto.Uint64(none),
	}}, nil
}
