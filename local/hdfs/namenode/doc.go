// Package namenode is the emulator's NameNode: the namespace (inode tree,
// leases, block map), its journal on disk, and the Hadoop IPC server that
// answers ClientProtocol calls from HDFS clients.
//
// Each RPC lives in its own file (get_file_info.go, create.go, ...) whose
// handler's doc comment gives the RPC, its behavior and its deliberate gaps,
// and which registers itself in init() into the method table (methods.go). The
// edit op an RPC writes to the journal lives in the same file. Shared state
// is in namespace.go (inodes, paths, permissions), blocks.go (block map,
// DataNode view) and leases.go; durability is in journal.go and edits.go;
// framing is in ipc.go.
package namenode
