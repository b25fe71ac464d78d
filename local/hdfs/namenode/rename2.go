package namenode

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() {
	register("rename2", (*NameNode).rename2)
	registerEdit("rename", func() editOp { return new(opRename) })
}

// opRename moves Src under DstParent as DstName, first removing Replace.
type opRename struct {
	Src       uint64 `json:"src"`
	DstParent uint64 `json:"dstParent"`
	DstName   string `json:"dstName"`
	Replace   uint64 `json:"replace,omitempty"`
	Time      int64  `json:"time"`
}

func (op *opRename) apply(nn *NameNode) error {
	src, dstParent := nn.ns.inodes[op.Src], nn.ns.inodes[op.DstParent]
	if src == nil || src.parent == nil || dstParent == nil || !dstParent.dir || src.isAncestorOf(dstParent) {
		return fmt.Errorf("rename: cannot move inode %d under %d", op.Src, op.DstParent)
	}
	if op.Replace != 0 {
		old := nn.ns.inodes[op.Replace]
		if old == nil || old.parent != dstParent || old.name != op.DstName {
			return fmt.Errorf("rename: cannot replace inode %d", op.Replace)
		}
		nn.removeSubtree(old)
	}
	if dstParent.children[op.DstName] != nil {
		return fmt.Errorf("rename: %q exists in %d", op.DstName, op.DstParent)
	}
	srcParent := src.parent
	nn.ns.detach(src)
	src.name = op.DstName
	src.parent = dstParent
	dstParent.children[src.name] = src
	dstParent.sorted = nil
	srcParent.mtime = op.Time
	dstParent.mtime = op.Time
	return nil
}

// renameTarget is a validated rename.
type renameTarget struct {
	src, dstParent, replace *inode
	dstName                 string
}

// checkRenameAccess requires WRITE on both parents and honors sticky bits.
func (nn *NameNode) checkRenameAccess(u *caller, src, dstParent, dst *inode) error {
	if err := nn.checkAccess(u, src.parent, accessWrite); err != nil {
		return err
	}
	if err := nn.checkSticky(u, src.parent, src); err != nil {
		return err
	}
	if err := nn.checkAccess(u, dstParent, accessWrite); err != nil {
		return err
	}
	if dst != nil {
		return nn.checkSticky(u, dstParent, dst)
	}
	return nil
}

// rename2 answers the rename2 RPC.
//
// RPC: ClientProtocol.rename2(Rename2RequestProto{src, dst, overwriteDest})
// returns Rename2ResponseProto. The Go client's Rename and the CLI's mv use
// it, always with overwriteDest=true.
//
// Behavior (FSDirRenameOp, options variant), checked in this order:
//  1. src missing: FileNotFoundException; src is "/": IOException.
//  2. src == dst: FileAlreadyExistsException.
//  3. dst under src or dst is "/": IOException.
//  4. dst exists: file vs directory is IOException; without overwriteDest
//     FileAlreadyExistsException; a non-empty directory is IOException.
//  5. dst parent missing: FileNotFoundException; a file: ParentNotDirectory-
//     Exception.
//
// Then, atomically, an overwritten dst is removed with its blocks and
// leases, src moves to dst and both parents' mtimes are set. An open file
// keeps its lease (leases follow the inode). WRITE is required on both
// parents, and sticky bits are honored.
//
// Deliberate gaps: moveToTrash is ignored; no quotas, snapshots or
// encryption zones.
func (nn *NameNode) rename2(c *call, req *pb.Rename2RequestProto) (proto.Message, error) {
	u := nn.caller(c)
	srcPath, dstPath := req.GetSrc(), req.GetDst()
	err := nn.mutate(func(t *txn) error {
		sr, err := nn.resolve(u, srcPath)
		if err != nil {
			return err
		}
		src := sr.node
		switch {
		case src == nil:
			return remote(exFileNotFound, "rename source %s is not found.", srcPath)
		case src.parent == nil:
			return errIO("rename source cannot be the root")
		}
		dr, err := nn.resolve(u, dstPath)
		if err != nil {
			return err
		}
		sp, dp := sr.path(), dr.path()
		switch {
		case sp == dp:
			return errExists("The source %s and destination %s are the same", srcPath, dstPath)
		case strings.HasPrefix(dp, sp+"/"):
			return errIO("Rename destination %s is a directory or file under source %s", dstPath, srcPath)
		case len(dr.comps) == 0:
			return errIO("rename destination cannot be the root")
		}
		dst := dr.node
		if dst != nil {
			switch {
			case dst.dir != src.dir && src.dir:
				return errIO("Source %s is a directory but destination %s is a file", srcPath, dstPath)
			case dst.dir != src.dir:
				return errIO("Source %s is a file but destination %s is a directory", srcPath, dstPath)
			case !req.GetOverwriteDest():
				return errExists("rename destination %s already exists", dstPath)
			case dst.dir && len(dst.children) > 0:
				return errIO("rename destination directory is not empty: %s", dstPath)
			}
		}
		if dr.parent == nil {
			return remote(exFileNotFound, "rename destination parent %s not found.", parentOf(dp))
		}
		if err := nn.checkRenameAccess(u, src, dr.parent, dst); err != nil {
			return err
		}
		return nn.doRename(t, renameTarget{src: src, dstParent: dr.parent, dstName: dr.comps[len(dr.comps)-1], replace: dst})
	})
	if err != nil {
		return nil, err
	}
	return &pb.Rename2ResponseProto{}, nil
}

// doRename logs a validated rename and schedules deletion of the blocks of
// a replaced destination.
func (nn *NameNode) doRename(t *txn, r renameTarget) error {
	op := &opRename{Src: r.src.id, DstParent: r.dstParent.id, DstName: r.dstName, Time: nn.nowMillis()}
	if r.replace != nil {
		op.Replace = r.replace.id
		ids := subtreeBlocks(r.replace)
		t.afterSync(func() { nn.replicas.DeleteReplicas(ids) })
	}
	return t.log(op)
}
