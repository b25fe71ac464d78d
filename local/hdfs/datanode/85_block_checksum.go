package datanode

import (
	"bufio"
	"crypto/md5"
	"errors"
	"fmt"
	"net"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { registerOp(85, blockChecksum) }

// blockChecksum serves BLOCK_CHECKSUM (op 85, 0x55).
//
// RPC: DataTransferProtocol.blockChecksum, used by the CLI's `checksum`
// (FileReader.Checksum). The client sends OpBlockChecksumProto and reads one
// BlockOpResponseProto.
//
// Behavior: answers with the MD5 of the replica's stored chunk checksums
// (big-endian CRCs of 512-byte chunks), bytesPerCrc 512, crcPerBlock = the
// number of chunk checksums and the replica's checksum type, as a real
// DataNode computes MD5MD5CRC block checksums. A file written with CRC32C
// therefore has the same file checksum as on a real cluster.
//
// Deliberate gaps: no COMPOSITE_CRC mode (blockChecksumOptions is ignored),
// no striped (erasure coded) blocks, no block tokens.
func blockChecksum(dn *DataNode, c net.Conn, r *bufio.Reader) error {
	var op pb.OpBlockChecksumProto
	if err := readDelimited(r, &op, maxOpMessage); err != nil {
		_ = writeDelimited(c, opResponse(pb.Status_ERROR_INVALID, "malformed checksum request"))
		return fmt.Errorf("read checksum request: %w", err)
	}
	b := op.GetHeader().GetBlock()
	if b == nil {
		err := errors.New("checksum request names no block")
		_ = writeDelimited(c, opResponse(pb.Status_ERROR_INVALID, err.Error()))
		return err
	}
	rr, err := dn.store.openRead(b.GetBlockId(), b.GetGenerationStamp())
	if err != nil {
		_ = writeDelimited(c, opResponse(pb.Status_ERROR, err.Error()))
		return fmt.Errorf("checksum block %d: %w", b.GetBlockId(), err)
	}
	defer rr.close()
	sums, _, err := rr.readSums()
	if err != nil {
		_ = writeDelimited(c, opResponse(pb.Status_ERROR, err.Error()))
		return err
	}
	sum := md5.Sum(sums)
	resp := opResponse(pb.Status_SUCCESS, "")
	resp.ChecksumResponse = &pb.OpBlockChecksumResponseProto{
		BytesPerCrc:   proto.Uint32(bytesPerChecksum),
		CrcPerBlock:   proto.Uint64(uint64(len(sums) / 4)),
		BlockChecksum: sum[:],
		CrcType:       rr.r.ctype.Enum(),
	}
	return writeDelimited(c, resp)
}
