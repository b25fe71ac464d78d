package datanode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// writeIdleTimeout closes a write connection that sends nothing for this
// long. The client sends a heartbeat every 30 seconds while a block is open.
const writeIdleTimeout = 5 * time.Minute

func init() { registerOp(80, writeBlock) }

// writeBlock serves WRITE_BLOCK (op 80, 0x50).
//
// RPC: DataTransferProtocol.writeBlock. The client sends OpWriteBlockProto,
// the DataNode answers with a varint-delimited BlockOpResponseProto, then
// the client streams packets and the DataNode answers each one with a
// PipelineAckProto, in order, while it is still receiving (the client keeps
// at most five packets unacknowledged).
//
// Behavior:
//   - Stages PIPELINE_SETUP_CREATE (new replica) and PIPELINE_SETUP_APPEND
//     (the replica must hold exactly b.numBytes bytes; it goes back to being
//     written and is finalized again at the end).
//   - The NameNode must vouch for the block (Authority.AuthorizeWrite): it
//     must be the open last block of a file under construction, and the
//     write may not grow it past the file's block size.
//   - Every packet's checksums are verified with the type and chunk size the
//     writer named in requestedChecksum (CRC32C from the v2.4 library, CRC32
//     from the Debian v2.3 CLI, or NULL). Stored checksums use the replica's
//     type: the writer's type for a new replica (CRC32C for NULL), the
//     existing type for an append, recomputed when they differ or when a
//     packet does not start on a 512-byte boundary.
//   - A packet is acknowledged once its data and checksums are written to
//     the replica files; the last packet is acknowledged after the replica
//     is fsynced and finalized. Heartbeats (seqno -1) are acknowledged too.
//   - A bad checksum is answered with ERROR_CHECKSUM, any other failure with
//     ERROR, and the connection is closed; data acknowledged before stays.
//
// Deliberate gaps: no pipelines (a request naming downstream targets is
// refused with ERROR_UNSUPPORTED), no recovery stages, no block tokens, no
// SASL or encryption, no cachingStrategy or storage types.
func writeBlock(dn *DataNode, c net.Conn, r *bufio.Reader) error {
	var op pb.OpWriteBlockProto
	if err := readDelimited(r, &op, maxOpMessage); err != nil {
		_ = writeDelimited(c, opResponse(pb.Status_ERROR_INVALID, "malformed write request"))
		return fmt.Errorf("read write request: %w", err)
	}
	fail := func(status pb.Status, err error) error { return refuse(c, status, err) }
	b := op.GetHeader().GetBaseHeader().GetBlock()
	if b == nil {
		return fail(pb.Status_ERROR_INVALID, errors.New("write request names no block"))
	}
	id, gs := b.GetBlockId(), b.GetGenerationStamp()
	ctype := op.GetRequestedChecksum().GetType()
	bpc := int(op.GetRequestedChecksum().GetBytesPerChecksum())
	clientTab, checksumSize := checksumTable(ctype), 4
	switch {
	case ctype == pb.ChecksumTypeProto_CHECKSUM_NULL:
		checksumSize = 0
		if bpc <= 0 {
			bpc = bytesPerChecksum
		}
	case clientTab == nil:
		return fail(pb.Status_ERROR_UNSUPPORTED, fmt.Errorf("unsupported checksum type %v", ctype))
	}
	if bpc <= 0 || bpc > 1<<16 {
		return fail(pb.Status_ERROR_INVALID, fmt.Errorf("bytesPerChecksum %d out of range", bpc))
	}
	if len(op.GetTargets()) > 0 {
		return fail(pb.Status_ERROR_UNSUPPORTED, errors.New("write pipelines with downstream targets are not supported"))
	}
	appendAt := int64(-1)
	switch op.GetStage() {
	case pb.OpWriteBlockProto_PIPELINE_SETUP_CREATE:
	case pb.OpWriteBlockProto_PIPELINE_SETUP_APPEND:
		appendAt = int64(b.GetNumBytes())
	default:
		return fail(pb.Status_ERROR_UNSUPPORTED, fmt.Errorf("unsupported block construction stage %v", op.GetStage()))
	}
	storeType := ctype
	if storeType == pb.ChecksumTypeProto_CHECKSUM_NULL {
		storeType = pb.ChecksumTypeProto_CHECKSUM_CRC32C
	}
	var maxBytes int64
	w, err := dn.store.beginWrite(id, gs, storeType, appendAt, c, func() error {
		var err error
		maxBytes, err = dn.authorize(id, gs)
		return err
	})
	if err != nil {
		return fail(pb.Status_ERROR, fmt.Errorf("write block %d: %w", id, err))
	}
	defer w.close()
	if err := writeDelimited(c, opResponse(pb.Status_SUCCESS, "")); err != nil {
		return err
	}
	dn.log.Debug("datanode: writing block", "block", id, "stage", op.GetStage().String(), "checksum", ctype.String(), "client", op.GetHeader().GetClientName())

	reuseOK := ctype == w.checksumType() && bpc == bytesPerChecksum
	var buf, acks []byte
	// Acknowledgements wait while more packets are already buffered, so a
	// burst costs one checksum write and one socket write; they always go
	// out before the DataNode waits for more input.
	flushAcks := func() error {
		if len(acks) == 0 {
			return nil
		}
		if err := w.flush(); err != nil {
			return err
		}
		_, err := c.Write(acks)
		acks = acks[:0]
		return err
	}
	failPacket := func(seqno int64, status pb.Status, err error) error {
		// Acknowledge what is durable, then report the failed packet.
		if ferr := flushAcks(); ferr == nil {
			_, _ = c.Write(appendAck(nil, seqno, status))
		}
		return err
	}
	for {
		if err := c.SetReadDeadline(time.Now().Add(writeIdleTimeout)); err != nil {
			return err
		}
		hdr, sums, data, nbuf, discard, err := readPacket(r, buf, bpc, checksumSize)
		buf = nbuf
		if err != nil {
			switch {
			case w.stopped():
				dn.log.Debug("datanode: writer stopped by recovery or deletion", "block", id)
				return nil
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
				_ = flushAcks()
				dn.log.Info("datanode: writer went away before the last packet", "block", id, "acknowledged", w.r.length)
				return nil
			}
			_ = flushAcks()
			return fmt.Errorf("block %d: read packet: %w", id, err)
		}
		if hdr.seqno == -1 && !hdr.last && len(data) == 0 {
			acks = appendAck(acks, -1, pb.Status_SUCCESS)
		} else {
			if len(data) > 0 {
				if hdr.offset < 0 || hdr.offset+int64(len(data)) > maxBytes {
					return failPacket(hdr.seqno, pb.Status_ERROR, fmt.Errorf("block %d: packet at %d+%d exceeds block size %d", id, hdr.offset, len(data), maxBytes))
				}
				var reuse []byte
				if clientTab != nil {
					if err := verifyChecksums(data, sums, bpc, clientTab); err != nil {
						return failPacket(hdr.seqno, pb.Status_ERROR_CHECKSUM, fmt.Errorf("block %d packet %d: %w", id, hdr.seqno, err))
					}
					if reuseOK && hdr.offset%bytesPerChecksum == 0 {
						reuse = sums
					}
				}
				if err := w.write(hdr.offset, data, reuse); err != nil {
					return failPacket(hdr.seqno, pb.Status_ERROR, fmt.Errorf("block %d: %w", id, err))
				}
			}
			if hdr.last {
				if err := w.finalize(); err != nil {
					return failPacket(hdr.seqno, pb.Status_ERROR, fmt.Errorf("block %d: %w", id, err))
				}
				dn.log.Debug("datanode: finalized block", "block", id, "bytes", w.r.length)
				// Let go of the replica before the client hears about it: it
				// may append to the block right after this ack.
				w.close()
				acks = appendAck(acks, hdr.seqno, pb.Status_SUCCESS)
				_, err := c.Write(acks)
				return err
			}
			acks = appendAck(acks, hdr.seqno, pb.Status_SUCCESS)
		}
		if discard > 0 {
			if _, err := r.Discard(discard); err != nil {
				return err
			}
		}
		if len(acks) >= 64 || !packetBuffered(r) {
			if err := flushAcks(); err != nil {
				if w.stopped() {
					return nil
				}
				return err
			}
		}
	}
}
