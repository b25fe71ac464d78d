package namenode

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { register("rename", (*NameNode).rename) }

// rename answers the rename RPC.
//
// RPC: ClientProtocol.rename(RenameRequestProto{src, dst}) returns
// RenameResponseProto{result}. Java's FileSystem.rename uses it; the Go
// client and CLI use rename2.
//
// Behavior (the FileSystem spec's rename, FSDirRenameOp deprecated variant):
// when dst is an existing directory, src moves into it under its own name.
// Then the rename is refused with result=false, not an exception, when src
// is missing or "/", dst is under src, the final destination exists, or its
// parent is missing or a file; src == dst is true. Permission errors and bad
// paths are still exceptions. An open file keeps its lease.
//
// Deliberate gaps: no quotas or snapshots.
func (nn *NameNode) rename(c *call, req *pb.RenameRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	ok := false
	err := nn.mutate(func(t *txn) error {
		sr, err := nn.resolve(u, req.GetSrc())
		if err != nil {
			return err
		}
		dr, err := nn.resolve(u, req.GetDst())
		if err != nil {
			return err
		}
		src := sr.node
		if src == nil || src.parent == nil {
			return nil
		}
		dstParent, dstName := dr.parent, ""
		if len(dr.comps) > 0 {
			dstName = dr.comps[len(dr.comps)-1]
		}
		if dr.node != nil && dr.node.dir {
			dstParent, dstName = dr.node, src.name
		}
		if dstParent == nil || !dstParent.dir {
			return nil
		}
		if dstParent == src.parent && dstName == src.name {
			ok = true
			return nil
		}
		if src.isAncestorOf(dstParent) || dstParent.children[dstName] != nil {
			return nil
		}
		if dstName == "" {
			return nil
		}
		if err := nn.checkRenameAccess(u, src, dstParent, nil); err != nil {
			return err
		}
		if err := nn.doRename(t, renameTarget{src: src, dstParent: dstParent, dstName: dstName}); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.RenameResponseProto{Result: proto.Bool(ok)}, nil
}
