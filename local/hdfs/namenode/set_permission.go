package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("setPermission", (*NameNode).setPermission)
	registerEdit("setPermission", func() editOp { return new(opSetPermission) })
}

type opSetPermission struct {
	ID   uint64 `json:"id"`
	Perm uint32 `json:"perm"`
}

func (op *opSetPermission) apply(nn *NameNode) error {
	n := nn.ns.inodes[op.ID]
	if n == nil {
		return fmt.Errorf("setPermission: no inode %d", op.ID)
	}
	n.perm = op.Perm
	return nil
}

// setPermission answers the setPermission RPC.
//
// RPC: ClientProtocol.setPermission(SetPermissionRequestProto{src,
// permission}) returns SetPermissionResponseProto.
//
// Behavior: stores permission & 01777 (the client may send os.ModeDir in
// the high bits), so Stat().Mode() shows exactly the bits set. Only the
// owner or the superuser may do it (AccessControlException); a missing path
// is FileNotFoundException.
//
// Deliberate gaps: no ACLs.
func (nn *NameNode) setPermission(c *call, req *pb.SetPermissionRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	err := nn.mutate(func(t *txn) error {
		res, err := nn.resolve(u, req.GetSrc())
		if err != nil {
			return err
		}
		if res.node == nil {
			return errNotFound(req.GetSrc())
		}
		if err := nn.checkOwner(u, res.node); err != nil {
			return err
		}
		return t.log(&opSetPermission{ID: res.node.id, Perm: req.GetPermission().GetPerm() & permMask})
	})
	if err != nil {
		return nil, err
	}
	return &pb.SetPermissionResponseProto{}, nil
}
