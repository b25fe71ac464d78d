package namenode

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// The namespace is a tree of inodes owned by NameNode.mu. Handlers validate
// a request against it, then describe the change as an edit op (edits.go)
// whose apply method mutates the tree; the same apply methods replay the
// journal at startup.

const (
	rootInodeID    = 16385 // as in HDFS
	firstInodeID   = 16386
	firstBlockID   = 1 << 30
	maxComponent   = 255  // dfs.namenode.fs-limits.max-component-length
	maxPathDepth   = 1000 // dfs.namenode.fs-limits.max-path-depth
	permMask       = 0o1777
	stickyBit      = 0o1000
	defaultDirPerm = 0o755
)

// inode is a file or a directory.
type inode struct {
	id     uint64
	parent *inode
	name   string
	dir    bool
	perm   uint32
	owner  string
	group  string
	mtime  int64 // milliseconds since the epoch
	atime  int64

	// Directories.
	children map[string]*inode
	sorted   []string // child names in HDFS order; nil when stale

	// Files.
	replication uint32
	blockSize   int64
	blocks      []*blockInfo
	client      string // lease holder while the file is under construction
}

// blockInfo is one block of a file.
type blockInfo struct {
	id       uint64
	gs       uint64
	numBytes int64
	// committed is false for the last block of a file under construction
	// while its length may still change.
	committed bool
	file      *inode
}

func (n *inode) underConstruction() bool { return n.client != "" }

// length is the sum of the block lengths the NameNode knows: committed
// blocks, and the last known length of an uncommitted one.
func (n *inode) length() int64 {
	var l int64
	for _, b := range n.blocks {
		l += b.numBytes
	}
	return l
}

func (n *inode) lastBlock() *blockInfo {
	if len(n.blocks) == 0 {
		return nil
	}
	return n.blocks[len(n.blocks)-1]
}

func (n *inode) path() string {
	if n.parent == nil {
		return "/"
	}
	var parts []string
	for p := n; p.parent != nil; p = p.parent {
		parts = append(parts, p.name)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// isAncestorOf reports whether n is d or one of its ancestors.
func (n *inode) isAncestorOf(d *inode) bool {
	for p := d; p != nil; p = p.parent {
		if p == n {
			return true
		}
	}
	return false
}

// compareNames orders names as HDFS does: byte by byte, bytes taken as
// signed (Java's byte), so 0x80 and above sort before ASCII.
func compareNames(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if x, y := int8(a[i]), int8(b[i]); x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// sortedChildren returns the directory's child names in HDFS order.
func (n *inode) sortedChildren() []string {
	if n.sorted == nil {
		n.sorted = make([]string, 0, len(n.children))
		for name := range n.children {
			n.sorted = append(n.sorted, name)
		}
		sort.Slice(n.sorted, func(i, j int) bool { return compareNames(n.sorted[i], n.sorted[j]) < 0 })
	}
	return n.sorted
}

// namespace is the inode tree plus the id counters.
type namespace struct {
	root      *inode
	inodes    map[uint64]*inode
	blocks    map[uint64]*blockInfo
	nextInode uint64
	nextBlock uint64
	genStamp  uint64
}

func newNamespace(superuser, supergroup string, now int64) *namespace {
	root := &inode{id: rootInodeID, dir: true, perm: defaultDirPerm, owner: superuser, group: supergroup,
		mtime: now, atime: now, children: map[string]*inode{}}
	return &namespace{
		root:      root,
		inodes:    map[uint64]*inode{root.id: root},
		blocks:    map[uint64]*blockInfo{},
		nextInode: firstInodeID,
		nextBlock: firstBlockID,
		genStamp:  1001,
	}
}

// attach links a new inode under parent.
func (ns *namespace) attach(parent, n *inode) {
	n.parent = parent
	parent.children[n.name] = n
	parent.sorted = nil
	ns.inodes[n.id] = n
	ns.nextInode = max(ns.nextInode, n.id+1)
	for _, b := range n.blocks {
		b.file = n
		ns.blocks[b.id] = b
		ns.nextBlock = max(ns.nextBlock, b.id+1)
	}
}

// detach unlinks n from its parent, keeping the subtree intact.
func (ns *namespace) detach(n *inode) {
	if n.parent != nil {
		delete(n.parent.children, n.name)
		n.parent.sorted = nil
		n.parent = nil
	}
}

// forget drops a detached subtree from the id maps and returns its blocks
// and the files that were under construction.
func (ns *namespace) forget(n *inode) (blocks []uint64, open []*inode) {
	var walk func(*inode)
	walk = func(x *inode) {
		delete(ns.inodes, x.id)
		for _, b := range x.blocks {
			delete(ns.blocks, b.id)
			blocks = append(blocks, b.id)
		}
		if x.underConstruction() {
			open = append(open, x)
		}
		for _, c := range x.children {
			walk(c)
		}
	}
	walk(n)
	return blocks, open
}

// splitPath checks an absolute path the way HDFS does (DFSUtil.isValidName)
// and returns its components. A trailing slash is allowed.
func splitPath(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, remote(exInvalidPath, "Invalid path name Path is not absolute: %s", p)
	}
	if !utf8.ValidString(p) {
		// HDFS names are Java strings; the journal stores them as JSON.
		return nil, remote(exInvalidPath, "Invalid path name Path is not valid UTF-8: %q", p)
	}
	parts := strings.Split(p[1:], "/")
	out := parts[:0]
	for i, s := range parts {
		switch {
		case s == "" && i == len(parts)-1:
			continue
		case s == "", s == ".", s == "..", strings.Contains(s, ":"):
			return nil, remote(exInvalidPath, "Invalid path name Invalid file name: %s", p)
		case len(s) > maxComponent:
			return nil, remote(exComponentTooLong, "The maximum path component name limit of %s in directory %s is exceeded: limit=%d length=%d",
				s, "/"+strings.Join(out, "/"), maxComponent, len(s))
		}
		out = append(out, s)
	}
	if len(out) > maxPathDepth {
		return nil, remote(exInvalidPath, "Invalid path name Path depth exceeds %d: %s", maxPathDepth, p)
	}
	return out, nil
}

func joinPath(comps []string) string { return "/" + strings.Join(comps, "/") }

func parentOf(p string) string {
	p = strings.TrimSuffix(p, "/")
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// caller is the user an RPC runs as.
type caller struct {
	name  string
	super bool
}

func (nn *NameNode) caller(c *call) *caller {
	return &caller{name: c.user, super: c.user == nn.cfg.Superuser}
}

// inGroup reports group membership. There is no group database: a user
// belongs to the group named after it, and the superuser to supergroup.
func (nn *NameNode) inGroup(u *caller, group string) bool {
	return group == u.name || (u.super && group == nn.cfg.Supergroup)
}

type access uint32

const (
	accessExecute access = 1
	accessWrite   access = 2
	accessRead    access = 4
	accessAll            = accessRead | accessWrite | accessExecute
)

func (a access) String() string {
	switch a {
	case accessRead:
		return "READ"
	case accessWrite:
		return "WRITE"
	case accessExecute:
		return "EXECUTE"
	case accessRead | accessExecute:
		return "READ_EXECUTE"
	case accessAll:
		return "ALL"
	default:
		return fmt.Sprintf("ACCESS(%d)", uint32(a))
	}
}

// checkAccess enforces POSIX-style permission bits unless permissions are
// off or the caller is the superuser.
func (nn *NameNode) checkAccess(u *caller, n *inode, want access) error {
	if !nn.cfg.Permissions || u.super {
		return nil
	}
	var bits uint32
	switch {
	case u.name == n.owner:
		bits = n.perm >> 6
	case nn.inGroup(u, n.group):
		bits = n.perm >> 3
	default:
		bits = n.perm
	}
	if access(bits&7)&want == want {
		return nil
	}
	return remote(exAccessControl, "Permission denied: user=%s, access=%s, inode=%q:%s:%s:%s",
		u.name, want, n.path(), n.owner, n.group, modeString(n))
}

// checkSticky enforces the sticky bit of parent for removing or renaming
// child.
func (nn *NameNode) checkSticky(u *caller, parent, child *inode) error {
	if !nn.cfg.Permissions || u.super || parent.perm&stickyBit == 0 || u.name == parent.owner || u.name == child.owner {
		return nil
	}
	return remote(exAccessControl, "Permission denied by sticky bit: user=%s, path=%q:%s:%s:%s, parent=%q:%s:%s:%s",
		u.name, child.path(), child.owner, child.group, modeString(child), parent.path(), parent.owner, parent.group, modeString(parent))
}

// checkOwner requires the caller to own n or be the superuser.
func (nn *NameNode) checkOwner(u *caller, n *inode) error {
	if !nn.cfg.Permissions || u.super || u.name == n.owner {
		return nil
	}
	return remote(exAccessControl, "Permission denied. user=%s is not the owner of inode=%s", u.name, n.path())
}

// checkSubtree requires access on every directory under n (delete of a
// non-empty directory needs ALL on the subtree in HDFS).
func (nn *NameNode) checkSubtree(u *caller, n *inode, want access) error {
	if !n.dir || !nn.cfg.Permissions || u.super {
		return nil
	}
	if err := nn.checkAccess(u, n, want); err != nil {
		return err
	}
	for _, c := range n.children {
		if err := nn.checkSubtree(u, c, want); err != nil {
			return err
		}
	}
	return nil
}

func modeString(n *inode) string {
	const rwx = "rwxrwxrwx"
	b := []byte("----------")
	if n.dir {
		b[0] = 'd'
	}
	for i := 0; i < 9; i++ {
		if n.perm&(1<<(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	if n.perm&stickyBit != 0 {
		if b[9] == 'x' {
			b[9] = 't'
		} else {
			b[9] = 'T'
		}
	}
	return string(b)
}

// resolved is the result of walking a path.
type resolved struct {
	comps  []string
	node   *inode // nil when the path does not exist
	parent *inode // the parent directory, nil when an ancestor is missing
}

func (r *resolved) path() string { return joinPath(r.comps) }

// resolve walks p from the root, checking EXECUTE on every directory it
// passes through. An ancestor that is a file is ParentNotDirectoryException.
func (nn *NameNode) resolve(u *caller, p string) (*resolved, error) {
	comps, err := splitPath(p)
	if err != nil {
		return nil, err
	}
	res := &resolved{comps: comps, node: nn.ns.root}
	for i, name := range comps {
		cur := res.node
		if !cur.dir {
			return nil, errParentNotDir(joinPath(comps[:i]))
		}
		if err := nn.checkAccess(u, cur, accessExecute); err != nil {
			return nil, err
		}
		res.parent = cur
		res.node = cur.children[name]
		if res.node == nil {
			if i != len(comps)-1 {
				res.parent = nil
			}
			return res, nil
		}
	}
	return res, nil
}

// fileStatus describes n. name becomes HdfsFileStatusProto.path: empty for
// getFileInfo, the local name in listings.
func (nn *NameNode) fileStatus(n *inode, name string) *pb.HdfsFileStatusProto {
	st := &pb.HdfsFileStatusProto{
		FileType:         pb.HdfsFileStatusProto_IS_FILE.Enum(),
		Path:             append([]byte{}, name...),
		Length:           proto.Uint64(0),
		Permission:       &pb.FsPermissionProto{Perm: proto.Uint32(n.perm)},
		Owner:            proto.String(n.owner),
		Group:            proto.String(n.group),
		ModificationTime: proto.Uint64(uint64(n.mtime)),
		AccessTime:       proto.Uint64(uint64(n.atime)),
		FileId:           proto.Uint64(n.id),
	}
	if n.dir {
		st.FileType = pb.HdfsFileStatusProto_IS_DIR.Enum()
		st.ChildrenNum = proto.Int32(int32(len(n.children)))
		return st
	}
	st.Length = proto.Uint64(uint64(n.length()))
	st.BlockReplication = proto.Uint32(n.replication)
	st.Blocksize = proto.Uint64(uint64(n.blockSize))
	return st
}
