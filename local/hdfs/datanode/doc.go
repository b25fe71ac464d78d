// Package datanode is the emulator's DataNode: it stores block replicas
// under a directory and serves DataTransferProtocol (WRITE_BLOCK,
// READ_BLOCK, BLOCK_CHECKSUM) to HDFS clients on a TCP listener.
//
// Each op lives in a file named after its op code (80_write_block.go,
// 81_read_block.go, 85_block_checksum.go), whose handler's doc comment gives
// the op, its behavior and its deliberate gaps, and registers itself in
// init(). Replica storage, checksums on disk and crash recovery are in blocks.go.
package datanode
