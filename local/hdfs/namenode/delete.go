package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("delete", (*NameNode).delete)
	registerEdit("delete", func() editOp { return new(opDelete) })
}

// opDelete removes an inode and everything under it.
type opDelete struct {
	ID   uint64 `json:"id"`
	Time int64  `json:"time"`
}

func (op *opDelete) apply(nn *NameNode) error {
	n := nn.ns.inodes[op.ID]
	if n == nil || n.parent == nil {
		return fmt.Errorf("delete: inode %d cannot be deleted", op.ID)
	}
	parent := n.parent
	nn.removeSubtree(n)
	parent.mtime = op.Time
	return nil
}

// delete answers the delete RPC.
//
// RPC: ClientProtocol.delete(DeleteRequestProto{src, recursive}) returns
// DeleteResponseProto{result}.
//
// Behavior (FileSystem spec "delete"): a missing path is result=false; a
// file or an empty directory is removed (true); a non-empty directory
// without recursive is PathIsNotEmptyDirectoryException (the client maps it
// to syscall.ENOTEMPTY); with recursive the subtree goes atomically with its
// blocks and the leases of open files in it. "/" is never deleted (false).
// WRITE on the parent is required, the sticky bit is honored, and a
// non-empty directory needs ALL on every directory in it. Replicas are
// deleted once the edit is durable.
//
// Deliberate gaps: no trash (the client never asks), no snapshots.
func (nn *NameNode) delete(c *call, req *pb.DeleteRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	deleted := false
	err := nn.mutate(func(t *txn) error {
		res, err := nn.resolve(u, req.GetSrc())
		if err != nil {
			return err
		}
		n := res.node
		if n == nil || n.parent == nil {
			return nil
		}
		if n.dir && len(n.children) > 0 && !req.GetRecursive() {
			return remote(exNotEmpty, "`%s is non empty': Directory is not empty", req.GetSrc())
		}
		if err := nn.checkAccess(u, n.parent, accessWrite); err != nil {
			return err
		}
		if err := nn.checkSticky(u, n.parent, n); err != nil {
			return err
		}
		if n.dir && len(n.children) > 0 {
			if err := nn.checkSubtree(u, n, accessAll); err != nil {
				return err
			}
		}
		ids := subtreeBlocks(n)
		if err := t.log(&opDelete{ID: n.id, Time: nn.nowMillis()}); err != nil {
			return err
		}
		t.afterSync(func() { nn.replicas.DeleteReplicas(ids) })
		deleted = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.DeleteResponseProto{Result: proto.Bool(deleted)}, nil
}
