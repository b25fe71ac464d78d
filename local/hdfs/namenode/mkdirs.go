package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("mkdirs", (*NameNode).mkdirs)
	registerEdit("mkdir", func() editOp { return new(opMkdir) })
}

// opMkdir creates one directory.
type opMkdir struct {
	ID     uint64 `json:"id"`
	Parent uint64 `json:"parent"`
	Name   string `json:"name"`
	Perm   uint32 `json:"perm"`
	Owner  string `json:"owner"`
	Group  string `json:"group"`
	Time   int64  `json:"time"`
}

func (op *opMkdir) apply(nn *NameNode) error {
	parent := nn.ns.inodes[op.Parent]
	if parent == nil || !parent.dir {
		return fmt.Errorf("mkdir %q: parent %d is not a directory", op.Name, op.Parent)
	}
	if parent.children[op.Name] != nil {
		return fmt.Errorf("mkdir %q: name exists in %d", op.Name, op.Parent)
	}
	nn.ns.attach(parent, &inode{id: op.ID, name: op.Name, dir: true, perm: op.Perm, owner: op.Owner, group: op.Group,
		mtime: op.Time, atime: op.Time, children: map[string]*inode{}})
	parent.mtime = op.Time
	return nil
}

// mkdirs answers the mkdirs RPC.
//
// RPC: ClientProtocol.mkdirs(MkdirsRequestProto{src, masked, createParent})
// returns MkdirsResponseProto{result}.
//
// Behavior (FSDirMkdirOp): an existing directory is success; an existing
// file is FileAlreadyExistsException; a missing parent without createParent
// is FileNotFoundException; an ancestor that is a file is
// ParentNotDirectoryException. New directories get masked & 01777 (the CLI
// sends os.ModeDir in the high bits), implicit ancestors that mode plus u+wx;
// the owner is the caller, the group the parent's. WRITE is needed on the
// deepest existing ancestor. result is always true.
//
// Deliberate gaps: no umask (the client sends the mode unmasked, as HDFS
// would apply fs.permissions.umask-mode), no quotas, no ACLs.
func (nn *NameNode) mkdirs(c *call, req *pb.MkdirsRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	perm := req.GetMasked().GetPerm() & permMask
	err := nn.mutate(func(t *txn) error {
		comps, err := splitPath(req.GetSrc())
		if err != nil {
			return err
		}
		cur := nn.ns.root
		for i, name := range comps {
			if !cur.dir {
				return errParentNotDir(joinPath(comps[:i]))
			}
			if err := nn.checkAccess(u, cur, accessExecute); err != nil {
				return err
			}
			child := cur.children[name]
			if child != nil {
				cur = child
				continue
			}
			if i != len(comps)-1 && !req.GetCreateParent() {
				return errParentNotFound(req.GetSrc())
			}
			if err := nn.checkAccess(u, cur, accessWrite); err != nil {
				return err
			}
			now := nn.nowMillis()
			for j := i; j < len(comps); j++ {
				p := perm
				if j != len(comps)-1 {
					p |= 0o300
				}
				op := &opMkdir{ID: nn.ns.nextInode, Parent: cur.id, Name: comps[j], Perm: p, Owner: u.name, Group: cur.group, Time: now}
				if err := t.log(op); err != nil {
					return err
				}
				cur = nn.ns.inodes[op.ID]
			}
			return nil
		}
		if !cur.dir {
			return errExists("Path is not a directory: %s", req.GetSrc())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.MkdirsResponseProto{Result: proto.Bool(true)}, nil
}
