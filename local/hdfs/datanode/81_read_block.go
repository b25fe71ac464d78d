package datanode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func init() { registerOp(81, readBlock) }

// readBlock serves READ_BLOCK (op 81, 0x51).
//
// RPC: DataTransferProtocol.readBlock. The client sends OpReadBlockProto
// (offset and len within the block), the DataNode answers with a
// BlockOpResponseProto carrying readOpChecksumInfo, then streams packets:
// seqno 0, 1, ..., the first starting at the chunk boundary at or below
// offset, up to 1 MiB of data each, then an empty packet with
// lastPacketInBlock set. (Real DataNodes send 64 KiB; larger packets cost
// the Go client fewer syscalls, and clients accept up to 16 MiB.)
//
// Behavior:
//   - Checksums are the stored ones, of the replica's type: CRC32C for
//     blocks written by the v2.4 library, CRC32 for blocks written by the
//     v2.3 CLI. Both clients accept both; CHECKSUM_NULL is never sent
//     unless the request sets sendChecksums=false.
//   - Every chunk is verified against its stored checksum as it is read. A
//     mismatch is logged as a corrupt replica, and the packet still goes out
//     with the stored checksums, as a real DataNode does: the client rejects
//     exactly the bad chunk ("invalid checksum") and can still read the
//     chunks before it. (Closing the connection instead would look like a
//     clean end of block to the Go client, which then reconnects forever.)
//     If the client asked for no checksums, the connection is reset.
//   - Data is sent in whole chunks up to the chunk boundary at or after
//     offset+len, capped at the replica's length; no zero-length packet is
//     sent before the last one.
//   - A replica being appended to can be read up to its acknowledged length.
//   - After the last packet the DataNode waits briefly for the
//     ClientReadStatusProto the Java client sends; the Go client just closes.
//
// Deliberate gaps: no block tokens, no short-circuit reads, no
// cachingStrategy, no SASL or encryption.
func readBlock(dn *DataNode, c net.Conn, r *bufio.Reader) error {
	var op pb.OpReadBlockProto
	if err := readDelimited(r, &op, maxOpMessage); err != nil {
		_ = writeDelimited(c, opResponse(pb.Status_ERROR_INVALID, "malformed read request"))
		return fmt.Errorf("read read request: %w", err)
	}
	fail := func(status pb.Status, err error) error { return refuse(c, status, err) }
	b := op.GetHeader().GetBaseHeader().GetBlock()
	if b == nil {
		return fail(pb.Status_ERROR_INVALID, errors.New("read request names no block"))
	}
	rr, err := dn.store.openRead(b.GetBlockId(), b.GetGenerationStamp())
	if err != nil {
		return fail(pb.Status_ERROR, fmt.Errorf("read block %d: %w", b.GetBlockId(), err))
	}
	defer rr.close()
	length := rr.length()
	offset := op.GetOffset()
	if offset > uint64(length) {
		return fail(pb.Status_ERROR_INVALID, fmt.Errorf("offset %d is past the end of block %d (%d bytes)", offset, b.GetBlockId(), length))
	}
	end := uint64(length)
	if op.GetLen() < end-offset {
		end = offset + op.GetLen()
	}
	if rem := end % bytesPerChecksum; rem != 0 {
		end = min(end+bytesPerChecksum-rem, uint64(length))
	}
	start := offset - offset%bytesPerChecksum
	sendSums := op.GetSendChecksums()
	ctype := rr.r.ctype
	if !sendSums {
		ctype = pb.ChecksumTypeProto_CHECKSUM_NULL
	}
	resp := opResponse(pb.Status_SUCCESS, "")
	resp.ReadOpChecksumInfo = &pb.ReadOpChecksumInfoProto{
		Checksum:    &pb.ChecksumProto{Type: ctype.Enum(), BytesPerChecksum: proto.Uint32(bytesPerChecksum)},
		ChunkOffset: proto.Uint64(start),
	}
	if err := writeDelimited(c, resp); err != nil {
		return err
	}
	dn.log.Debug("datanode: reading block", "block", b.GetBlockId(), "offset", offset, "end", end, "client", op.GetHeader().GetClientName())

	const prefix = 6 + packetHeaderSize
	const maxSums = 4 * (readPacketData / bytesPerChecksum)
	dataAt := prefix + maxSums
	buf := make([]byte, dataAt+int(min(readPacketData, end-start))) // a small read (a Parquet footer) needs no 1 MB buffer
	var seqno int64
	for off := int64(start); off < int64(end); seqno++ {
		n, sumsAt, corrupt, err := rr.readChunks(off, int(min(int64(readPacketData), int64(end)-off)), buf, dataAt)
		if err != nil {
			return err
		}
		if corrupt != nil {
			dn.log.Warn("datanode: corrupt replica", "block", b.GetBlockId(), "err", corrupt)
			if !sendSums {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				return corrupt
			}
		}
		if !sendSums {
			sumsAt = dataAt
		}
		p := sumsAt - prefix
		putPacketPrefix(buf[p:], off, seqno, false, dataAt-sumsAt, n)
		if _, err := c.Write(buf[p : dataAt+n]); err != nil {
			return nil // the client closes once it has what it wanted
		}
		if corrupt != nil {
			// Nothing useful follows a bad chunk; the client has its error.
			return nil
		}
		off += int64(n)
	}
	putPacketPrefix(buf, int64(end), seqno, true, 0, 0)
	if _, err := c.Write(buf[:prefix]); err != nil {
		return nil
	}
	// The Java client answers with a ClientReadStatusProto; reading it (or
	// EOF) before closing avoids resetting a connection with unread data.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64))
	return nil
}
