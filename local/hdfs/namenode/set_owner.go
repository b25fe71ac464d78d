package namenode

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("setOwner", (*NameNode).setOwner)
	registerEdit("setOwner", func() editOp { return new(opSetOwner) })
}

type opSetOwner struct {
	ID    uint64 `json:"id"`
	Owner string `json:"owner,omitempty"`
	Group string `json:"group,omitempty"`
}

func (op *opSetOwner) apply(nn *NameNode) error {
	n := nn.ns.inodes[op.ID]
	if n == nil {
		return fmt.Errorf("setOwner: no inode %d", op.ID)
	}
	if op.Owner != "" {
		n.owner = op.Owner
	}
	if op.Group != "" {
		n.group = op.Group
	}
	return nil
}

// setOwner answers the setOwner RPC.
//
// RPC: ClientProtocol.setOwner(SetOwnerRequestProto{src, username,
// groupname}) returns SetOwnerResponseProto.
//
// Behavior: an empty or absent username or groupname means "unchanged"
// (the Go client always sends both, empty strings included; real HDFS would
// store ""). Changing the owner needs the superuser; the owner may change
// the group only to one of its own groups (its own name, see namespace.go);
// otherwise AccessControlException. A missing path is FileNotFoundException.
//
// Deliberate gaps: no group database: users belong to the group of their
// own name, the superuser also to the supergroup.
func (nn *NameNode) setOwner(c *call, req *pb.SetOwnerRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	owner, group := req.GetUsername(), req.GetGroupname()
	if !utf8.ValidString(owner) || !utf8.ValidString(group) {
		return nil, remote(exIllegalArgument, "owner and group must be valid UTF-8")
	}
	err := nn.mutate(func(t *txn) error {
		res, err := nn.resolve(u, req.GetSrc())
		if err != nil {
			return err
		}
		n := res.node
		if n == nil {
			return errNotFound(req.GetSrc())
		}
		if err := nn.checkOwner(u, n); err != nil {
			return err
		}
		if nn.cfg.Permissions && !u.super {
			if owner != "" && owner != n.owner {
				return remote(exAccessControl, "User %s is not a super user (non-super user cannot change owner).", u.name)
			}
			if group != "" && group != n.group && !nn.inGroup(u, group) {
				return remote(exAccessControl, "User %s does not belong to %s", u.name, group)
			}
		}
		if owner == "" && group == "" {
			return nil
		}
		return t.log(&opSetOwner{ID: n.id, Owner: owner, Group: group})
	})
	if err != nil {
		return nil, err
	}
	return &pb.SetOwnerResponseProto{}, nil
}
