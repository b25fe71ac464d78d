package namenode

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// CreateFlag bits (CreateFlagProto).
const (
	createFlagCreate    = 1
	createFlagOverwrite = 2
	createFlagAppend    = 4
)

func init() {
	register("create", (*NameNode).create)
	registerEdit("create", func() editOp { return new(opCreate) })
}

// opCreate adds a file under construction, replacing Replace if set.
type opCreate struct {
	ID          uint64 `json:"id"`
	Parent      uint64 `json:"parent"`
	Name        string `json:"name"`
	Perm        uint32 `json:"perm"`
	Owner       string `json:"owner"`
	Group       string `json:"group"`
	Time        int64  `json:"time"`
	Replication uint32 `json:"repl"`
	BlockSize   int64  `json:"blockSize"`
	Client      string `json:"client"`
	Replace     uint64 `json:"replace,omitempty"`
}

func (op *opCreate) apply(nn *NameNode) error {
	parent := nn.ns.inodes[op.Parent]
	if parent == nil || !parent.dir {
		return fmt.Errorf("create %q: parent %d is not a directory", op.Name, op.Parent)
	}
	if op.Replace != 0 {
		old := nn.ns.inodes[op.Replace]
		if old == nil || old.dir || old.parent != parent || old.name != op.Name {
			return fmt.Errorf("create %q: cannot replace inode %d", op.Name, op.Replace)
		}
		nn.removeSubtree(old)
	}
	if parent.children[op.Name] != nil {
		return fmt.Errorf("create %q: name exists in %d", op.Name, op.Parent)
	}
	f := &inode{id: op.ID, name: op.Name, perm: op.Perm, owner: op.Owner, group: op.Group, mtime: op.Time, atime: op.Time,
		replication: op.Replication, blockSize: op.BlockSize, client: op.Client}
	nn.ns.attach(parent, f)
	parent.mtime = op.Time
	nn.leases.add(op.Client, f.id, nn.now())
	return nil
}

// removeSubtree unlinks n and forgets it: its blocks lose write permission
// and its open files their leases. The caller deletes the replicas.
func (nn *NameNode) removeSubtree(n *inode) []uint64 {
	nn.ns.detach(n)
	blocks, open := nn.ns.forget(n)
	for _, f := range open {
		nn.leases.remove(f.client, f.id)
	}
	for _, id := range blocks {
		nn.gate.revoke(id)
	}
	return blocks
}

// subtreeBlocks lists the block ids under n.
func subtreeBlocks(n *inode) []uint64 {
	var ids []uint64
	var walk func(*inode)
	walk = func(x *inode) {
		for _, b := range x.blocks {
			ids = append(ids, b.id)
		}
		for _, c := range x.children {
			walk(c)
		}
	}
	walk(n)
	return ids
}

// checkLeaseFree fails with AlreadyBeingCreatedException when f is held by a
// live writer, and recovers f when its holder is past the soft limit.
func (nn *NameNode) checkLeaseFree(t *txn, f *inode, op, src, client string) error {
	if !f.underConstruction() {
		return nil
	}
	if f.client == client {
		return remote(exAlreadyBeingCreated, "Failed to %s %s for %s because the current leaseholder is trying to recreate file.", op, src, client)
	}
	if !nn.softExpired(f.client) {
		return remote(exAlreadyBeingCreated, "Failed to %s %s for %s because this file lease is currently owned by %s", op, src, client, f.client)
	}
	return nn.recoverFile(t, f, "soft limit passed, "+client+" wants the file")
}

// create answers the create RPC.
//
// RPC: ClientProtocol.create(CreateRequestProto{src, masked, clientName,
// createFlag, createParent, replication, blockSize}) returns
// CreateResponseProto{fs}.
//
// Behavior (FSDirWriteFileOp, FileSystem spec "create"):
//   - The new file exists at once, length 0, visible to all, under
//     construction and leased to clientName. fs is always returned with
//     fileId, blocksize and replication (v2.4 dereferences it).
//   - A directory at src is FileAlreadyExistsException; a missing parent is
//     FileNotFoundException unless createParent; a file ancestor is
//     ParentNotDirectoryException.
//   - A file under construction whose holder (any client, including the
//     caller) renewed within the soft limit is AlreadyBeingCreatedException.
//     Past the soft limit the file is recovered first (leases.go).
//   - An existing closed file is FileAlreadyExistsException without
//     OVERWRITE (flag 2); with it the old file and its blocks are replaced.
//   - WRITE on the parent is required (and the sticky bit honored when
//     replacing). The mode is masked & 01777; the group is the parent's.
//   - blockSize must be a positive multiple of 512 (HadoopIllegalArgument-
//     Exception otherwise); 0 means the server default. replication must be
//     1..512 and is stored as asked, though there is a single DataNode.
//
// Deliberate gaps: CreateFlag APPEND (append-or-create), LAZY_PERSIST,
// NEW_BLOCK and storage policies are not supported (APPEND is refused with an
// IOException); no encryption zones, no umask.
func (nn *NameNode) create(c *call, req *pb.CreateRequestProto) (proto.Message, error) {
	u := nn.caller(c)
	src, client := req.GetSrc(), req.GetClientName()
	flags := req.GetCreateFlag()
	switch {
	case client == "":
		return nil, errIO("create %s: no client name", src)
	case flags&createFlagAppend != 0:
		return nil, errIO("create %s: CreateFlag.APPEND is not supported, use append", src)
	}
	blockSize := int64(req.GetBlockSize())
	if blockSize == 0 {
		blockSize = nn.cfg.BlockSize
	}
	if blockSize < 0 || blockSize%512 != 0 {
		return nil, remote(exIllegalArgument, "Invalid values: dfs.bytes-per-checksum (=512) must divide block size (=%d).", blockSize)
	}
	repl := req.GetReplication()
	if repl < 1 || repl > 512 {
		return nil, errIO("Requested replication factor of %d is out of the range [1, 512] for %s", repl, src)
	}
	var resp *pb.CreateResponseProto
	err := nn.mutate(func(t *txn) error {
		res, err := nn.resolve(u, src)
		if err != nil {
			return err
		}
		if len(res.comps) == 0 {
			return errExists("/ already exists as a directory")
		}
		if res.parent == nil {
			if !req.GetCreateParent() {
				return errParentNotFound(src)
			}
			if res.parent, err = nn.makeParents(t, u, res.comps); err != nil {
				return err
			}
		}
		parent, old := res.parent, res.node
		if err := nn.checkAccess(u, parent, accessWrite); err != nil {
			return err
		}
		if old != nil {
			if old.dir {
				return errExists("%s already exists as a directory", src)
			}
			if err := nn.checkLeaseFree(t, old, "CREATE_FILE", src, client); err != nil {
				return err
			}
			if flags&createFlagOverwrite == 0 {
				return errExists("%s for client %s already exists", src, c.remote)
			}
			if err := nn.checkSticky(u, parent, old); err != nil {
				return err
			}
		}
		op := &opCreate{ID: nn.ns.nextInode, Parent: parent.id, Name: res.comps[len(res.comps)-1],
			Perm: req.GetMasked().GetPerm() & permMask, Owner: u.name, Group: parent.group, Time: nn.nowMillis(),
			Replication: repl, BlockSize: blockSize, Client: client}
		if old != nil {
			op.Replace = old.id
			ids := subtreeBlocks(old)
			t.afterSync(func() { nn.replicas.DeleteReplicas(ids) })
		}
		if err := t.log(op); err != nil {
			return err
		}
		resp = &pb.CreateResponseProto{Fs: nn.fileStatus(nn.ns.inodes[op.ID], "")}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// makeParents creates the missing ancestors of comps (createParent) and
// returns the parent directory.
func (nn *NameNode) makeParents(t *txn, u *caller, comps []string) (*inode, error) {
	cur := nn.ns.root
	for i, name := range comps[:len(comps)-1] {
		if !cur.dir {
			return nil, errParentNotDir(joinPath(comps[:i]))
		}
		if child := cur.children[name]; child != nil {
			cur = child
			continue
		}
		if err := nn.checkAccess(u, cur, accessWrite); err != nil {
			return nil, err
		}
		op := &opMkdir{ID: nn.ns.nextInode, Parent: cur.id, Name: name, Perm: defaultDirPerm | 0o300, Owner: u.name, Group: cur.group, Time: nn.nowMillis()}
		if err := t.log(op); err != nil {
			return nil, err
		}
		cur = nn.ns.inodes[op.ID]
	}
	if !cur.dir {
		return nil, errParentNotDir(joinPath(comps[:len(comps)-1]))
	}
	return cur, nil
}
