package hdfs

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// rawConn is a minimal Hadoop IPC client speaking the emulator's own proto
// types, for calls the Go client never makes (create with OVERWRITE,
// rename2 without overwrite, unknown methods) and for malformed input.
type rawConn struct {
	c        net.Conn
	r        *bufio.Reader
	callID   int32
	clientID []byte
}

func dialRaw(t testing.TB, addr, user string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{c: c, r: bufio.NewReader(c), clientID: []byte("rawclient0123456")}
	if _, err := c.Write([]byte{'h', 'r', 'p', 'c', 9, 0, 0}); err != nil {
		t.Fatalf("write preamble: %v", err)
	}
	ctx := &pb.IpcConnectionContextProto{
		UserInfo: &pb.UserInformationProto{EffectiveUser: proto.String(user)},
		Protocol: proto.String("org.apache.hadoop.hdfs.protocol.ClientProtocol"),
	}
	if _, err := c.Write(rc.frame(-3, "", ctx)); err != nil {
		t.Fatalf("write context: %v", err)
	}
	return rc
}

func delimited(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return protowire.AppendBytes(nil, b)
}

// frame encodes one request; method "" means the connection context.
func (rc *rawConn) frame(callID int32, method string, msg proto.Message) []byte {
	var body []byte
	body = append(body, delimited(&pb.RpcRequestHeaderProto{
		RpcKind:  pb.RpcKindProto_RPC_PROTOCOL_BUFFER.Enum(),
		RpcOp:    pb.RpcRequestHeaderProto_RPC_FINAL_PACKET.Enum(),
		CallId:   proto.Int32(callID),
		ClientId: rc.clientID,
	})...)
	if method != "" {
		body = append(body, delimited(&pb.RequestHeaderProto{
			MethodName:                 proto.String(method),
			DeclaringClassProtocolName: proto.String("org.apache.hadoop.hdfs.protocol.ClientProtocol"),
			ClientProtocolVersion:      proto.Uint64(1),
		})...)
	}
	body = append(body, delimited(msg)...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// rpcError is an error response.
type rpcError struct {
	class, msg string
	detail     pb.RpcResponseHeaderProto_RpcErrorCodeProto
	status     pb.RpcResponseHeaderProto_RpcStatusProto
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s: %s (%v)", e.class, e.msg, e.detail) }

// call sends a request and decodes the response into resp. A remote
// exception comes back as *rpcError; transport failures as other errors.
func (rc *rawConn) call(method string, req, resp proto.Message) error {
	rc.callID++
	if _, err := rc.c.Write(rc.frame(rc.callID, method, req)); err != nil {
		return err
	}
	return rc.readResponse(rc.callID, resp)
}

func (rc *rawConn) readResponse(callID int32, resp proto.Message) error {
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var lb [4]byte
	if _, err := io.ReadFull(rc.r, lb[:]); err != nil {
		return err
	}
	b := make([]byte, binary.BigEndian.Uint32(lb[:]))
	if _, err := io.ReadFull(rc.r, b); err != nil {
		return err
	}
	hb, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return fmt.Errorf("bad response header length")
	}
	b = b[n:]
	var h pb.RpcResponseHeaderProto
	if err := proto.Unmarshal(hb, &h); err != nil {
		return err
	}
	if int32(h.GetCallId()) != callID {
		return fmt.Errorf("response for call %d, want %d", h.GetCallId(), callID)
	}
	if h.GetStatus() != pb.RpcResponseHeaderProto_SUCCESS {
		if len(b) != 0 {
			return fmt.Errorf("error response carries %d trailing bytes", len(b))
		}
		return &rpcError{class: h.GetExceptionClassName(), msg: h.GetErrorMsg(), detail: h.GetErrorDetail(), status: h.GetStatus()}
	}
	mb, n := protowire.ConsumeBytes(b)
	if n < 0 || n != len(b) {
		return fmt.Errorf("bad response body framing")
	}
	return proto.Unmarshal(mb, resp)
}

func wantException(t testing.TB, err error, class string) {
	t.Helper()
	re, ok := err.(*rpcError)
	if !ok {
		t.Fatalf("got %v (%T), want remote %s", err, err, class)
	}
	if re.class != class {
		t.Fatalf("got exception %s (%s), want %s", re.class, re.msg, class)
	}
}

// rawBlockWriter streams packets of one block to the DataNode and collects
// acks, like the client's block writer.
type rawBlockWriter struct {
	c     net.Conn
	r     *bufio.Reader
	seqno int64
	off   int64
}

func dialBlockWrite(t testing.TB, lb *pb.LocatedBlockProto, client string, ctype pb.ChecksumTypeProto) (*rawBlockWriter, *pb.BlockOpResponseProto) {
	t.Helper()
	id := lb.GetLocs()[0].GetId()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", id.GetIpAddr(), id.GetXferPort()), 5*time.Second)
	if err != nil {
		t.Fatalf("dial datanode: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	op := &pb.OpWriteBlockProto{
		Header: &pb.ClientOperationHeaderProto{
			BaseHeader: &pb.BaseHeaderProto{Block: lb.GetB(), Token: lb.GetBlockToken()},
			ClientName: proto.String(client),
		},
		Stage:                 pb.OpWriteBlockProto_PIPELINE_SETUP_CREATE.Enum(),
		PipelineSize:          proto.Uint32(0),
		MinBytesRcvd:          proto.Uint64(0),
		MaxBytesRcvd:          proto.Uint64(0),
		LatestGenerationStamp: proto.Uint64(0),
		RequestedChecksum:     &pb.ChecksumProto{Type: ctype.Enum(), BytesPerChecksum: proto.Uint32(512)},
	}
	if _, err := c.Write(append([]byte{0, 28, 80}, delimited(op)...)); err != nil {
		t.Fatalf("write op: %v", err)
	}
	w := &rawBlockWriter{c: c, r: bufio.NewReader(c), seqno: 1}
	resp := &pb.BlockOpResponseProto{}
	if err := w.readDelimited(resp); err != nil {
		t.Fatalf("read op response: %v", err)
	}
	return w, resp
}

func (w *rawBlockWriter) readDelimited(m proto.Message) error {
	_ = w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := binary.ReadUvarint(w.r)
	if err != nil {
		return err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(w.r, b); err != nil {
		return err
	}
	return proto.Unmarshal(b, m)
}

// sendPacket sends data as one packet with checksums of type tab (corrupt
// flips a checksum bit) and returns its seqno.
func (w *rawBlockWriter) sendPacket(data []byte, tab *crc32.Table, last, corrupt bool) (int64, error) {
	var sums []byte
	for i := 0; i < len(data); i += 512 {
		sums = binary.BigEndian.AppendUint32(sums, crc32.Checksum(data[i:min(i+512, len(data))], tab))
	}
	if corrupt && len(sums) > 0 {
		sums[0] ^= 1
	}
	hdr, _ := proto.Marshal(&pb.PacketHeaderProto{
		OffsetInBlock: proto.Int64(w.off), Seqno: proto.Int64(w.seqno),
		LastPacketInBlock: proto.Bool(last), DataLen: proto.Int32(int32(len(data))),
	})
	p := binary.BigEndian.AppendUint32(nil, uint32(4+len(sums)+len(data)))
	p = binary.BigEndian.AppendUint16(p, uint16(len(hdr)))
	p = append(append(append(p, hdr...), sums...), data...)
	if _, err := w.c.Write(p); err != nil {
		return 0, err
	}
	w.off += int64(len(data))
	w.seqno++
	return w.seqno - 1, nil
}

func (w *rawBlockWriter) readAck() (*pb.PipelineAckProto, error) {
	ack := &pb.PipelineAckProto{}
	return ack, w.readDelimited(ack)
}

type renameResp = pb.Rename2ResponseProto

func renameReq(src, dst string, overwrite bool) *pb.Rename2RequestProto {
	return &pb.Rename2RequestProto{Src: proto.String(src), Dst: proto.String(dst), OverwriteDest: proto.Bool(overwrite)}
}
