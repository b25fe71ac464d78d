package namenode

import (
	"sort"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("getListing", (*NameNode).getListing) }

// getListing answers the getListing RPC.
//
// RPC: ClientProtocol.getListing(GetListingRequestProto{src, startAfter,
// needLocation}) returns GetListingResponseProto{dirList}.
//
// Behavior: the children of src sorted by name as signed bytes (HDFS order),
// starting with the first name strictly greater than startAfter (which need
// not exist), at most ListLimit (dfs.ls.limit, default 1000) per answer,
// with remainingEntries = the children after the last one returned, so the
// client's paging loop ends exactly. Each entry's path is the child's local
// name. A file lists itself with an empty name. A missing path leaves
// dirList unset (the client maps that to os.ErrNotExist). READ and EXECUTE
// on the directory are required.
//
// Deliberate gaps: needLocation is ignored (no located statuses); no
// snapshots (.snapshot).
func (nn *NameNode) getListing(c *call, req *pb.GetListingRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	nn.mu.Lock()
	defer nn.mu.Unlock()
	res, err := nn.resolve(u, req.GetSrc())
	if err != nil {
		return nil, err
	}
	n := res.node
	if n == nil {
		return &pb.GetListingResponseProto{}, nil
	}
	list := &pb.DirectoryListingProto{RemainingEntries: proto.Uint32(0)}
	if !n.dir {
		list.PartialListing = []*pb.HdfsFileStatusProto{nn.fileStatus(n, "")}
		return &pb.GetListingResponseProto{DirList: list}, nil
	}
	if err := nn.checkAccess(u, n, accessRead|accessExecute); err != nil {
		return nil, err
	}
	names := n.sortedChildren()
	after := string(req.GetStartAfter())
	start := 0
	if after != "" {
		start = sort.Search(len(names), func(i int) bool { return compareNames(names[i], after) > 0 })
	}
	end := min(start+nn.cfg.ListLimit, len(names))
	list.PartialListing = make([]*pb.HdfsFileStatusProto, 0, end-start)
	for _, name := range names[start:end] {
		list.PartialListing = append(list.PartialListing, nn.fileStatus(n.children[name], name))
	}
	list.RemainingEntries = proto.Uint32(uint32(len(names) - end))
	return &pb.GetListingResponseProto{DirList: list}, nil
}
