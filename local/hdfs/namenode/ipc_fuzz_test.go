package namenode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

func seedFrame(callID int32, method string, msg proto.Message) []byte {
	var b []byte
	h, _ := proto.Marshal(&pb.RpcRequestHeaderProto{RpcKind: pb.RpcKindProto_RPC_PROTOCOL_BUFFER.Enum(),
		RpcOp: pb.RpcRequestHeaderProto_RPC_FINAL_PACKET.Enum(), CallId: proto.Int32(callID), ClientId: []byte("0123456789abcdef")})
	b = protowire.AppendBytes(b, h)
	if method != "" {
		rh, _ := proto.Marshal(&pb.RequestHeaderProto{MethodName: proto.String(method),
			DeclaringClassProtocolName: proto.String(clientProtocol), ClientProtocolVersion: proto.Uint64(1)})
		b = protowire.AppendBytes(b, rh)
	}
	m, _ := proto.Marshal(msg)
	return protowire.AppendBytes(b, m)
}

// FuzzParseFrame feeds arbitrary frame bodies to the RPC frame parser: it
// must never panic, and whatever it accepts must be self-consistent.
func FuzzParseFrame(f *testing.F) {
	f.Add(seedFrame(-3, "", &pb.IpcConnectionContextProto{UserInfo: &pb.UserInformationProto{EffectiveUser: proto.String("u")}}))
	f.Add(seedFrame(1, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}))
	f.Add(seedFrame(7, "create", &pb.CreateRequestProto{Src: proto.String("/a"), ClientName: proto.String("c")}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x02, 0x18, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseFrame(b)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		if req.header == nil || req.header.CallId == nil {
			t.Fatal("accepted a frame without a call id")
		}
		if req.header.GetCallId() >= 0 && req.method == "" {
			t.Fatal("accepted a call without a method")
		}
		if len(req.body) > len(b) {
			t.Fatal("body longer than the frame")
		}
	})
}

// FuzzReadFrame checks the length-prefixed reader against arbitrary streams
// and a small cap: it never returns more than the cap and never panics.
func FuzzReadFrame(f *testing.F) {
	f.Add(binary.BigEndian.AppendUint32(nil, 3), []byte{1, 2, 3})
	f.Add(binary.BigEndian.AppendUint32(nil, 0xffffffff), []byte{})
	f.Add(binary.BigEndian.AppendUint32(nil, 0), []byte{})
	f.Fuzz(func(t *testing.T, prefix, rest []byte) {
		const limit = 1 << 10
		b, err := readFrame(bytes.NewReader(append(prefix, rest...)), limit)
		if err == nil && (len(b) == 0 || len(b) > limit) {
			t.Fatalf("readFrame returned %d bytes with limit %d", len(b), limit)
		}
	})
}

// FuzzConnection runs whole connections of arbitrary bytes, after a valid
// preamble and connection context, through a real NameNode: no input may
// crash it or make it hang.
func FuzzConnection(f *testing.F) {
	frame := func(body []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	f.Add(frame(seedFrame(1, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/")})))
	f.Add(frame(seedFrame(1, "mkdirs", &pb.MkdirsRequestProto{Src: proto.String("/x/y"), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o755)}, CreateParent: proto.Bool(true)})))
	f.Add(frame(seedFrame(1, "getListing", &pb.GetListingRequestProto{Src: proto.String("/"), StartAfter: []byte("zzz")})))
	f.Add(frame(seedFrame(1, "delete", &pb.DeleteRequestProto{Src: proto.String("/x"), Recursive: proto.Bool(true)})))
	f.Add(frame(seedFrame(1, "noSuchMethod", &pb.GetFileInfoRequestProto{})))
	f.Add(frame(seedFrame(1, "rename2", &pb.Rename2RequestProto{Src: proto.String("/"), Dst: proto.String("/a/..")})))
	f.Add([]byte{0, 0, 0, 1, 0})
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	nn, _ := startNode(f, clk)
	ctx := frame(seedFrame(-3, "", &pb.IpcConnectionContextProto{UserInfo: &pb.UserInformationProto{EffectiveUser: proto.String("super")}}))
	f.Fuzz(func(t *testing.T, input []byte) {
		server, peer := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			nn.serveConn(server)
		}()
		go io.Copy(io.Discard, peer)
		_ = peer.SetWriteDeadline(time.Now().Add(5 * time.Second))
		peer.Write(append(append([]byte("hrpc\x09\x00\x00"), ctx...), input...))
		peer.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection handler did not return after the peer closed")
		}
	})
}
