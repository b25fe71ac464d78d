package datanode

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

const (
	// dataTransferVersion is the DataTransferProtocol version the client
	// sends before every op code.
	dataTransferVersion = 28

	// bytesPerChecksum is the chunk size used for stored checksums and for
	// the checksums the DataNode sends on reads.
	bytesPerChecksum = 512

	// MaxPacketSize caps PLEN (checksums + data + 4) of an incoming packet.
	MaxPacketSize = 16 << 20

	// maxPacketHeader caps HLEN; the client's header is 25 bytes.
	maxPacketHeader = 1024

	// maxOpMessage caps the varint-delimited op request that follows the op
	// code.
	maxOpMessage = 1 << 20

	// readPacketData is the payload size of the packets sent on reads.
	readPacketData = 1 << 20
)

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)

	errChecksum = errors.New("checksum mismatch")
)

// checksumTable returns the CRC table for a checksum type, or nil for types
// the DataNode cannot compute.
func checksumTable(t pb.ChecksumTypeProto) *crc32.Table {
	switch t {
	case pb.ChecksumTypeProto_CHECKSUM_CRC32:
		return crc32.IEEETable
	case pb.ChecksumTypeProto_CHECKSUM_CRC32C:
		return castagnoli
	default:
		return nil
	}
}

// chunkCount returns the number of checksum chunks covering n bytes.
func chunkCount(n, bpc int) int { return (n + bpc - 1) / bpc }

// computeChecksums writes one big-endian CRC per bpc-sized chunk of data
// (the last chunk may be short) into dst, which must be long enough.
func computeChecksums(dst []byte, data []byte, bpc int, tab *crc32.Table) {
	for i := 0; len(data) > 0; i++ {
		n := min(bpc, len(data))
		binary.BigEndian.PutUint32(dst[4*i:], crc32.Checksum(data[:n], tab))
		data = data[n:]
	}
}

// verifyChecksums checks data against big-endian CRCs, one per chunk counted
// from the first byte of data.
func verifyChecksums(data, sums []byte, bpc int, tab *crc32.Table) error {
	if len(sums) < 4*chunkCount(len(data), bpc) {
		return fmt.Errorf("%w: %d checksum bytes for %d data bytes", errChecksum, len(sums), len(data))
	}
	for i := 0; len(data) > 0; i++ {
		n := min(bpc, len(data))
		if crc32.Checksum(data[:n], tab) != binary.BigEndian.Uint32(sums[4*i:]) {
			return fmt.Errorf("%w in chunk %d", errChecksum, i)
		}
		data = data[n:]
	}
	return nil
}

// packetHeader is a decoded PacketHeaderProto.
type packetHeader struct {
	offset  int64
	seqno   int64
	last    bool
	dataLen int32
}

// readPacket reads one packet (PLEN, HLEN, header, checksums, data) and
// returns the header and the checksum and data bytes. When the packet fits
// in r's buffer the slices point into it (no copy) and discard is the
// number of bytes the caller must r.Discard once done with them; otherwise
// they point into buf, grown as needed and returned as out. checksumSize is
// 4, or 0 for CHECKSUM_NULL.
func readPacket(r *bufio.Reader, buf []byte, bpc, checksumSize int) (hdr packetHeader, sums, data, out []byte, discard int, err error) {
	var lens [6]byte
	if _, err = io.ReadFull(r, lens[:]); err != nil {
		return hdr, nil, nil, buf, 0, err
	}
	plen := binary.BigEndian.Uint32(lens[:4])
	hlen := int(binary.BigEndian.Uint16(lens[4:]))
	if plen < 4 || plen > MaxPacketSize {
		return hdr, nil, nil, buf, 0, fmt.Errorf("packet length %d out of range", plen)
	}
	if hlen == 0 || hlen > maxPacketHeader {
		return hdr, nil, nil, buf, 0, fmt.Errorf("packet header length %d out of range", hlen)
	}
	hb, err := r.Peek(hlen)
	if err != nil {
		return hdr, nil, nil, buf, 0, err
	}
	var ph pb.PacketHeaderProto
	if err := proto.Unmarshal(hb, &ph); err != nil {
		return hdr, nil, nil, buf, 0, fmt.Errorf("decode packet header: %w", err)
	}
	if _, err := r.Discard(hlen); err != nil {
		return hdr, nil, nil, buf, 0, err
	}
	hdr = packetHeader{offset: ph.GetOffsetInBlock(), seqno: ph.GetSeqno(), last: ph.GetLastPacketInBlock(), dataLen: ph.GetDataLen()}
	if hdr.dataLen < 0 {
		return hdr, nil, nil, buf, 0, fmt.Errorf("negative packet data length %d", hdr.dataLen)
	}
	sumLen := checksumSize * chunkCount(int(hdr.dataLen), bpc)
	if int64(plen) != 4+int64(sumLen)+int64(hdr.dataLen) {
		return hdr, nil, nil, buf, 0, fmt.Errorf("packet length %d does not match %d data bytes and %d checksum bytes", plen, hdr.dataLen, sumLen)
	}
	body := int(plen) - 4
	if body <= r.Size() {
		b, err := r.Peek(body)
		if err != nil {
			return hdr, nil, nil, buf, 0, unexpectedEOF(err)
		}
		return hdr, b[:sumLen], b[sumLen:], buf, body, nil
	}
	if cap(buf) < body {
		buf = make([]byte, body)
	}
	buf = buf[:body]
	if _, err := io.ReadFull(r, buf); err != nil {
		return hdr, nil, nil, buf, 0, unexpectedEOF(err)
	}
	return hdr, buf[:sumLen], buf[sumLen:], buf, 0, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// packetBuffered reports whether a whole packet is already buffered in r,
// so its acknowledgement can wait for the next one's.
func packetBuffered(r *bufio.Reader) bool {
	if r.Buffered() < 6 {
		return false
	}
	b, err := r.Peek(6)
	if err != nil {
		return false
	}
	need := 6 + int64(binary.BigEndian.Uint16(b[4:])) + int64(binary.BigEndian.Uint32(b[:4])) - 4
	return int64(r.Buffered()) >= need
}

// packetHeaderSize is the encoded size of a PacketHeaderProto without
// syncBlock: four fixed-width fields.
const packetHeaderSize = (1 + 8) + (1 + 8) + (1 + 1) + (1 + 4)

// putPacketPrefix writes PLEN, HLEN and the packet header for a packet with
// the given number of checksum and data bytes into dst, which must hold
// 6+packetHeaderSize bytes.
func putPacketPrefix(dst []byte, offset, seqno int64, last bool, sumLen, dataLen int) {
	binary.BigEndian.PutUint32(dst[0:], uint32(4+sumLen+dataLen))
	binary.BigEndian.PutUint16(dst[4:], packetHeaderSize)
	b := dst[6:6:cap(dst)]
	b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(offset))
	b = protowire.AppendTag(b, 2, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(seqno))
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeBool(last))
	b = protowire.AppendTag(b, 4, protowire.Fixed32Type)
	_ = protowire.AppendFixed32(b, uint32(dataLen))
}

// appendAck appends a varint-delimited PipelineAckProto for one pipeline
// node. It is always at least 5 bytes, as the client requires.
func appendAck(dst []byte, seqno int64, status pb.Status) []byte {
	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, protowire.EncodeZigZag(seqno))
	m = protowire.AppendTag(m, 2, protowire.VarintType)
	m = protowire.AppendVarint(m, uint64(status))
	dst = protowire.AppendVarint(dst, uint64(len(m)))
	return append(dst, m...)
}

// writeDelimited writes a uvarint length and the marshaled message.
func writeDelimited(w io.Writer, msg proto.Message) error {
	b, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("marshal %T: %w", msg, err)
	}
	out := protowire.AppendVarint(make([]byte, 0, len(b)+5), uint64(len(b)))
	_, err = w.Write(append(out, b...))
	return err
}

// readDelimited reads a uvarint length (at most limit) and unmarshals the
// message that follows.
func readDelimited(r *bufio.Reader, msg proto.Message, limit int) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if n > uint64(limit) {
		return fmt.Errorf("message length %d exceeds limit %d", n, limit)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	if err := proto.Unmarshal(b, msg); err != nil {
		return fmt.Errorf("decode %T: %w", msg, err)
	}
	return nil
}

// opResponse builds a BlockOpResponseProto. firstBadLink is always set so
// that even a bare SUCCESS is 5 bytes on the wire (04 08 00 12 00).
// refuse answers an op with an error status and returns err.
func refuse(c io.Writer, status pb.Status, err error) error {
	_ = writeDelimited(c, opResponse(status, err.Error()))
	return err
}

func opResponse(status pb.Status, msg string) *pb.BlockOpResponseProto {
	r := &pb.BlockOpResponseProto{Status: status.Enum(), FirstBadLink: proto.String("")}
	if msg != "" {
		r.Message = proto.String(msg)
	}
	return r
}
