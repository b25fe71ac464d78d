package namenode

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// Hadoop IPC, protocol engine "protobuf", RPC version 9:
//
//	preamble  "hrpc" 0x09 <service class> <auth protocol>
//	request   uint32 BE length, then varint-delimited RpcRequestHeaderProto,
//	          RequestHeaderProto and the request message (for the
//	          connection context, callId -3: only the header and an
//	          IpcConnectionContextProto)
//	response  uint32 BE length, then varint-delimited RpcResponseHeaderProto
//	          and, on success, the response message
const (
	// MaxFrameSize caps one request frame. Longer frames close the
	// connection.
	MaxFrameSize = 64 << 20

	rpcVersion       = 9
	authNone         = 0
	callIDContext    = -3
	callIDPing       = -4
	clientProtocol   = "org.apache.hadoop.hdfs.protocol.ClientProtocol"
	serverIPCVersion = 9

	// smallFrame is read in one allocation; larger frames grow as their
	// bytes arrive, so a lying length costs no memory.
	smallFrame = 64 << 10
)

var (
	errBadPreamble   = errors.New("bad connection preamble")
	errFrameTooLarge = errors.New("rpc frame too large")
	errMalformed     = errors.New("malformed rpc frame")
)

// readPreamble reads and checks the 7-byte connection preamble.
func readPreamble(r io.Reader) error {
	var b [7]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fmt.Errorf("read preamble: %w", err)
	}
	if string(b[:4]) != "hrpc" {
		return fmt.Errorf("%w: magic %q", errBadPreamble, b[:4])
	}
	if b[4] != rpcVersion {
		return fmt.Errorf("%w: rpc version %d, want %d", errBadPreamble, b[4], rpcVersion)
	}
	if b[6] != authNone {
		return fmt.Errorf("%w: auth protocol %d (only SIMPLE is supported)", errBadPreamble, int8(b[6]))
	}
	return nil
}

// readFrame reads one length-prefixed frame of at most limit bytes.
func readFrame(r io.Reader, limit int) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", errFrameTooLarge, n, limit)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty frame", errMalformed)
	}
	if n <= smallFrame {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, unexpectedEOF(err)
		}
		return b, nil
	}
	var buf bytes.Buffer
	buf.Grow(smallFrame)
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		return nil, unexpectedEOF(err)
	}
	return buf.Bytes(), nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// request is a decoded request frame.
type request struct {
	header   *pb.RpcRequestHeaderProto
	method   string
	protocol string
	body     []byte
}

// parseFrame splits a request frame into its varint-delimited parts. The
// header is returned even when a later part is malformed, so the caller can
// answer with the call id.
func parseFrame(b []byte) (*request, error) {
	hb, rest, err := nextDelimited(b)
	if err != nil {
		return nil, fmt.Errorf("%w: rpc header: %w", errMalformed, err)
	}
	h := &pb.RpcRequestHeaderProto{}
	if err := proto.Unmarshal(hb, h); err != nil {
		return nil, fmt.Errorf("%w: rpc header: %w", errMalformed, err)
	}
	if h.CallId == nil {
		return nil, fmt.Errorf("%w: rpc header has no call id", errMalformed)
	}
	req := &request{header: h}
	if h.GetRpcKind() != pb.RpcKindProto_RPC_PROTOCOL_BUFFER {
		return req, fmt.Errorf("%w: unsupported rpc kind %v", errMalformed, h.GetRpcKind())
	}
	if h.GetCallId() < 0 {
		if len(rest) > 0 {
			if req.body, rest, err = nextDelimited(rest); err != nil {
				return req, fmt.Errorf("%w: connection context: %w", errMalformed, err)
			}
		}
		if len(rest) != 0 {
			return req, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(rest))
		}
		return req, nil
	}
	rb, rest, err := nextDelimited(rest)
	if err != nil {
		return req, fmt.Errorf("%w: request header: %w", errMalformed, err)
	}
	rh := &pb.RequestHeaderProto{}
	if err := proto.Unmarshal(rb, rh); err != nil {
		return req, fmt.Errorf("%w: request header: %w", errMalformed, err)
	}
	if rh.GetMethodName() == "" {
		return req, fmt.Errorf("%w: request header has no method name", errMalformed)
	}
	req.method, req.protocol = rh.GetMethodName(), rh.GetDeclaringClassProtocolName()
	if len(rest) > 0 {
		if req.body, rest, err = nextDelimited(rest); err != nil {
			return req, fmt.Errorf("%w: request body: %w", errMalformed, err)
		}
	}
	if len(rest) != 0 {
		return req, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(rest))
	}
	return req, nil
}

func nextDelimited(b []byte) (msg, rest []byte, err error) {
	n, k := protowire.ConsumeVarint(b)
	if k < 0 {
		return nil, nil, errors.New("bad length prefix")
	}
	if n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("length %d exceeds the %d bytes left", n, len(b)-k)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// encodeResponse frames a response header and, if msg is not nil, the
// response message.
func encodeResponse(hdr *pb.RpcResponseHeaderProto, msg proto.Message) ([]byte, error) {
	hb, err := proto.Marshal(hdr)
	if err != nil {
		return nil, fmt.Errorf("marshal response header: %w", err)
	}
	var mb []byte
	if msg != nil {
		if mb, err = proto.Marshal(msg); err != nil {
			return nil, fmt.Errorf("marshal %T: %w", msg, err)
		}
	}
	size := protowire.SizeBytes(len(hb))
	if msg != nil {
		size += protowire.SizeBytes(len(mb))
	}
	out := make([]byte, 4, 4+size)
	binary.BigEndian.PutUint32(out, uint32(size))
	out = protowire.AppendBytes(out, hb)
	if msg != nil {
		out = protowire.AppendBytes(out, mb)
	}
	return out, nil
}

func responseHeader(callID int32, clientID []byte, err error) *pb.RpcResponseHeaderProto {
	h := &pb.RpcResponseHeaderProto{
		CallId:              proto.Uint32(uint32(callID)),
		Status:              pb.RpcResponseHeaderProto_SUCCESS.Enum(),
		ServerIpcVersionNum: proto.Uint32(serverIPCVersion),
		ClientId:            clientID,
	}
	if err != nil {
		re := asRemote(err)
		h.Status = pb.RpcResponseHeaderProto_ERROR.Enum()
		if re.Code >= pb.RpcResponseHeaderProto_FATAL_UNKNOWN {
			h.Status = pb.RpcResponseHeaderProto_FATAL.Enum()
		}
		h.ExceptionClassName = proto.String(re.Class)
		h.ErrorMsg = proto.String(re.Msg)
		h.ErrorDetail = re.Code.Enum()
	}
	return h
}

func asRemote(err error) *RemoteError {
	var re *RemoteError
	if errors.As(err, &re) {
		return re
	}
	return errIO("%v", err)
}

// serveConn runs one client connection: calls are answered strictly in
// order, as the client sends one at a time.
func (nn *NameNode) serveConn(conn net.Conn) {
	remoteAddr := conn.RemoteAddr().String()
	r := bufio.NewReaderSize(conn, smallFrame)
	if err := readPreamble(r); err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			nn.log.Warn("namenode: rejecting connection", "remote", remoteAddr, "err", err)
		}
		return
	}
	var user string
	send := func(id int32, clientID []byte, msg proto.Message, err error) error {
		out, merr := encodeResponse(responseHeader(id, clientID, err), msg)
		if merr != nil {
			nn.log.Error("namenode: cannot encode response", "remote", remoteAddr, "err", merr)
			out, merr = encodeResponse(responseHeader(id, clientID, &RemoteError{
				Class: exIO, Msg: "cannot serialize response", Code: pb.RpcResponseHeaderProto_ERROR_SERIALIZING_RESPONSE,
			}), nil)
			if merr != nil {
				return merr
			}
		}
		_, werr := conn.Write(out)
		return werr
	}
	for {
		frame, err := readFrame(r, MaxFrameSize)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				nn.log.Warn("namenode: closing connection", "remote", remoteAddr, "err", err)
			}
			return
		}
		req, err := parseFrame(frame)
		if err != nil {
			nn.log.Warn("namenode: malformed request", "remote", remoteAddr, "err", err)
			if req != nil && req.header.GetCallId() >= 0 {
				_ = send(req.header.GetCallId(), req.header.GetClientId(), nil, &RemoteError{
					Class: exIPC, Msg: err.Error(), Code: pb.RpcResponseHeaderProto_FATAL_DESERIALIZING_REQUEST,
				})
			}
			return
		}
		id := req.header.GetCallId()
		if id == callIDContext {
			var cc pb.IpcConnectionContextProto
			if err := proto.Unmarshal(req.body, &cc); err != nil || cc.GetUserInfo().GetEffectiveUser() == "" || !utf8.ValidString(cc.GetUserInfo().GetEffectiveUser()) {
				nn.log.Warn("namenode: bad connection context", "remote", remoteAddr, "err", err)
				return
			}
			user = cc.GetUserInfo().GetEffectiveUser()
			continue
		}
		if id < 0 {
			continue // ping and other control calls get no answer
		}
		if user == "" {
			_ = send(id, req.header.GetClientId(), nil, &RemoteError{
				Class: exIPC, Msg: "connection context not received", Code: pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED,
			})
			return
		}
		c := &call{method: req.method, user: user, clientID: req.header.GetClientId(), remote: remoteAddr}
		msg, err := nn.dispatch(c, req)
		if err := send(id, c.clientID, msg, err); err != nil {
			return
		}
	}
}

// dispatch runs one call through the method table. A panic in a handler is
// logged and answered as an IOException.
func (nn *NameNode) dispatch(c *call, req *request) (msg proto.Message, err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			nn.log.Error("namenode: panic in rpc", "method", c.method, "panic", p, "stack", string(debug.Stack()))
			msg, err = nil, errIO("internal error in %s", c.method)
		}
		if err != nil {
			msg = nil
		}
		nn.log.Debug("namenode: rpc", "method", c.method, "user", c.user, "duration", time.Since(start), "err", err)
	}()
	if req.protocol != "" && req.protocol != clientProtocol {
		return nil, &RemoteError{Class: exNoSuchProtocol, Msg: fmt.Sprintf("Unknown protocol: %s", req.protocol), Code: pb.RpcResponseHeaderProto_ERROR_NO_SUCH_PROTOCOL}
	}
	m, ok := methods[req.method]
	if !ok {
		return nil, &RemoteError{
			Class: exNoSuchMethod,
			Msg:   fmt.Sprintf("Unknown method %s called on %s protocol.", req.method, clientProtocol),
			Code:  pb.RpcResponseHeaderProto_ERROR_NO_SUCH_METHOD,
		}
	}
	return m(nn, c, req.body)
}
