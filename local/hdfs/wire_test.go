package hdfs

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// Wire-level behavior and bad input. After every bad input the server must
// still serve a well-behaved client.

func stillServes(t *testing.T, addr string) {
	t.Helper()
	c := newClient(t, addr, "alice")
	if _, err := c.Stat("/t"); err != nil {
		t.Fatalf("server no longer serves after bad input: %v", err)
	}
}

func TestUnknownMethod(t *testing.T) {
	s, _, c := setup(t)
	rc := dialRaw(t, s.NameNodeAddr(), "alice")
	err := rc.call("frobnicate", &pb.GetFileInfoRequestProto{}, &pb.GetFileInfoResponseProto{})
	var re *rpcError
	if !errors.As(err, &re) || re.class != "org.apache.hadoop.ipc.RpcNoSuchMethodException" ||
		re.detail != pb.RpcResponseHeaderProto_ERROR_NO_SUCH_METHOD || !strings.Contains(re.msg, "frobnicate") {
		t.Fatalf("unknown method: %v", err)
	}
	// The connection stays usable.
	var resp pb.GetFileInfoResponseProto
	if err := rc.call("getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/t")}, &resp); err != nil || resp.Fs == nil {
		t.Fatalf("getFileInfo after an unknown method: %v", err)
	}
	// Methods the client has but the emulator lacks fail cleanly too.
	_, err = c.Truncate("/t/x", 0)
	if err == nil || !strings.Contains(err.Error(), "RpcNoSuchMethodException") {
		t.Errorf("Truncate = %v, want RpcNoSuchMethodException", err)
	}
	if _, err := c.ListXAttrs("/t"); err == nil {
		t.Error("ListXAttrs succeeded")
	}
	stillServes(t, s.NameNodeAddr())
}

func TestGetFileInfoMissingIsEmpty(t *testing.T) {
	s, _, _ := setup(t)
	rc := dialRaw(t, s.NameNodeAddr(), "alice")
	var resp pb.GetFileInfoResponseProto
	if err := rc.call("getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/t/nope")}, &resp); err != nil {
		t.Fatalf("getFileInfo(missing) = %v, want success", err)
	}
	if resp.Fs != nil {
		t.Fatalf("getFileInfo(missing) returned a status: %v", resp.GetFs())
	}
	var l pb.GetListingResponseProto
	if err := rc.call("getListing", &pb.GetListingRequestProto{Src: proto.String("/t/nope"), StartAfter: []byte{}}, &l); err != nil || l.DirList != nil {
		t.Fatalf("getListing(missing) = %v, %v", l.GetDirList(), err)
	}
	err := rc.call("getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("relative/path")}, &resp)
	wantException(t, err, "org.apache.hadoop.fs.InvalidPathException")
	err = rc.call("mkdirs", &pb.MkdirsRequestProto{Src: proto.String("/t/a/../b"), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o755)}, CreateParent: proto.Bool(true)}, &pb.MkdirsResponseProto{})
	wantException(t, err, "org.apache.hadoop.fs.InvalidPathException")
	// A garbage request body is an IOException; the connection survives.
	rc.callID++
	f := rc.frame(rc.callID, "getFileInfo", &pb.GetFileInfoRequestProto{})
	f = append(f[:len(f)-1], 0x03, 0xff, 0xff, 0xff) // body: 3 bytes of junk
	binary.BigEndian.PutUint32(f, uint32(len(f)-4))
	if _, err := rc.c.Write(f); err != nil {
		t.Fatal(err)
	}
	wantException(t, rc.readResponse(rc.callID, &resp), "java.io.IOException")
	if err := rc.call("getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/t")}, &resp); err != nil {
		t.Fatalf("call after a garbage body: %v", err)
	}
}

// expectClosed reads until the server closes the connection.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server kept the connection open")
	}
}

func TestMalformedFrames(t *testing.T) {
	s, _, _ := setup(t)
	preamble := []byte{'h', 'r', 'p', 'c', 9, 0, 0}
	raw := &rawConn{clientID: []byte("0123456789abcdef")}
	ctx := raw.frame(-3, "", &pb.IpcConnectionContextProto{UserInfo: &pb.UserInformationProto{EffectiveUser: proto.String("alice")}})
	length := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"bad magic", []byte("GET / HTTP/1.1\r\n\r\n")},
		{"rpc version 8", []byte{'h', 'r', 'p', 'c', 8, 0, 0}},
		{"sasl", []byte{'h', 'r', 'p', 'c', 9, 0, 0xdf}},
		{"oversize frame", append(append([]byte{}, preamble...), length(1<<30)...)},
		{"just over the 64 MiB cap", append(append([]byte{}, preamble...), length(64<<20+1)...)},
		{"empty frame", append(append([]byte{}, preamble...), length(0)...)},
		{"garbage frame", append(append(append([]byte{}, preamble...), length(5)...), 0xff, 0xff, 0xff, 0xff, 0xff)},
		{"header length past frame", append(append(append([]byte{}, preamble...), length(2)...), 0x7f, 0x00)},
		{"call before context", append(append([]byte{}, preamble...), raw.frame(1, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/")})...)},
		{"context then truncated frame", append(append(append(append([]byte{}, preamble...), ctx...), length(1000)...), 1, 2, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.NameNodeAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(tc.input); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(tc.name, "context then truncated") {
				c.(*net.TCPConn).CloseWrite()
			}
			expectClosed(t, c)
		})
	}
	// A large frame announced but sent slowly is read as it arrives.
	c, err := net.Dial("tcp", s.NameNodeAddr())
	if err != nil {
		t.Fatal(err)
	}
	c.Write(append(append(append([]byte{}, preamble...), ctx...), length(32<<20)...))
	c.Write(bytes.Repeat([]byte{0}, 1<<20))
	c.Close()
	stillServes(t, s.NameNodeAddr())
}

func TestDataNodeBadInput(t *testing.T) {
	s, _, c := setup(t)
	writeFile(t, c, "/t/f", randomBytes(5000, 1), 5000)
	dn := s.DataNodeAddr()
	send := func(t *testing.T, b []byte) (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", dn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		return conn, bufio.NewReader(conn)
	}
	readResp := func(t *testing.T, conn net.Conn, r *bufio.Reader) *pb.BlockOpResponseProto {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := binary.ReadUvarint(r)
		if err != nil {
			t.Fatalf("read response: %v", err)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		resp := &pb.BlockOpResponseProto{}
		if err := proto.Unmarshal(b, resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("unknown op", func(t *testing.T) {
		conn, r := send(t, []byte{0, 28, 0x99})
		if resp := readResp(t, conn, r); resp.GetStatus() != pb.Status_ERROR_UNSUPPORTED {
			t.Errorf("status %v", resp.GetStatus())
		}
	})
	t.Run("wrong version", func(t *testing.T) {
		conn, r := send(t, []byte{0, 27, 81})
		if resp := readResp(t, conn, r); resp.GetStatus() != pb.Status_ERROR_UNSUPPORTED {
			t.Errorf("status %v", resp.GetStatus())
		}
	})
	t.Run("oversize op message", func(t *testing.T) {
		conn, _ := send(t, []byte{0, 28, 80, 0xff, 0xff, 0xff, 0x7f})
		expectClosed(t, conn)
	})
	t.Run("read of an unknown block", func(t *testing.T) {
		op := &pb.OpReadBlockProto{
			Header: &pb.ClientOperationHeaderProto{BaseHeader: &pb.BaseHeaderProto{Block: &pb.ExtendedBlockProto{
				PoolId: proto.String("x"), BlockId: proto.Uint64(424242), GenerationStamp: proto.Uint64(1001)}}, ClientName: proto.String("c")},
			Offset: proto.Uint64(0), Len: proto.Uint64(10),
		}
		conn, r := send(t, append([]byte{0, 28, 81}, delimited(op)...))
		if resp := readResp(t, conn, r); resp.GetStatus() != pb.Status_ERROR || resp.GetMessage() == "" {
			t.Errorf("response %v", resp)
		}
	})
	t.Run("write of a block the namenode did not hand out", func(t *testing.T) {
		lb := &pb.LocatedBlockProto{
			B:    &pb.ExtendedBlockProto{PoolId: proto.String("x"), BlockId: proto.Uint64(777), GenerationStamp: proto.Uint64(1001)},
			Locs: []*pb.DatanodeInfoProto{{Id: &pb.DatanodeIDProto{IpAddr: proto.String("127.0.0.1"), XferPort: proto.Uint32(uint32(portOf(t, dn)))}}},
		}
		_, resp := dialBlockWrite(t, lb, "intruder", pb.ChecksumTypeProto_CHECKSUM_CRC32C)
		if resp.GetStatus() != pb.Status_ERROR || !strings.Contains(resp.GetMessage(), "not open for writing") {
			t.Errorf("response %v", resp)
		}
	})

	// Bad checksum, oversize packet: start a real file to get a writable block.
	raw := dialRaw(t, s.NameNodeAddr(), "alice")
	newBlock := func(t *testing.T, name string) *pb.LocatedBlockProto {
		var cr pb.CreateResponseProto
		if err := raw.call("create", createReq(name, "raw-bad", 1), &cr); err != nil {
			t.Fatal(err)
		}
		var ab pb.AddBlockResponseProto
		if err := raw.call("addBlock", &pb.AddBlockRequestProto{Src: proto.String(name), ClientName: proto.String("raw-bad")}, &ab); err != nil {
			t.Fatal(err)
		}
		return ab.GetBlock()
	}
	t.Run("checksum mismatch", func(t *testing.T) {
		bw, resp := dialBlockWrite(t, newBlock(t, "/t/badsum"), "raw-bad", pb.ChecksumTypeProto_CHECKSUM_CRC32)
		if resp.GetStatus() != pb.Status_SUCCESS {
			t.Fatalf("write op: %v", resp)
		}
		if _, err := bw.sendPacket(randomBytes(3000, 2), crc32.IEEETable, false, false); err != nil {
			t.Fatal(err)
		}
		if ack, err := bw.readAck(); err != nil || ack.GetReply()[0] != pb.Status_SUCCESS {
			t.Fatalf("good packet: %v %v", ack, err)
		}
		if _, err := bw.sendPacket(randomBytes(3000, 3), crc32.IEEETable, false, true); err != nil {
			t.Fatal(err)
		}
		if ack, err := bw.readAck(); err != nil || ack.GetReply()[0] != pb.Status_ERROR_CHECKSUM {
			t.Fatalf("corrupt packet: %v %v", ack, err)
		}
		expectClosed(t, bw.c)
	})
	t.Run("oversize packet", func(t *testing.T) {
		bw, resp := dialBlockWrite(t, newBlock(t, "/t/huge"), "raw-bad", pb.ChecksumTypeProto_CHECKSUM_CRC32C)
		if resp.GetStatus() != pb.Status_SUCCESS {
			t.Fatalf("write op: %v", resp)
		}
		p := binary.BigEndian.AppendUint32(nil, 1<<31)
		p = binary.BigEndian.AppendUint16(p, 25)
		bw.c.Write(p)
		expectClosed(t, bw.c)
	})
	t.Run("exact reply bytes", func(t *testing.T) {
		lb := newBlock(t, "/t/bytes")
		id := lb.GetLocs()[0].GetId()
		conn, err := net.Dial("tcp", net.JoinHostPort(id.GetIpAddr(), strconv.Itoa(int(id.GetXferPort()))))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		op := &pb.OpWriteBlockProto{
			Header:            &pb.ClientOperationHeaderProto{BaseHeader: &pb.BaseHeaderProto{Block: lb.GetB()}, ClientName: proto.String("raw-bad")},
			Stage:             pb.OpWriteBlockProto_PIPELINE_SETUP_CREATE.Enum(),
			RequestedChecksum: &pb.ChecksumProto{Type: pb.ChecksumTypeProto_CHECKSUM_CRC32C.Enum(), BytesPerChecksum: proto.Uint32(512)},
		}
		conn.Write(append([]byte{0, 28, 80}, delimited(op)...))
		got := make([]byte, 5)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, []byte{4, 8, 0, 0x12, 0}) {
			t.Fatalf("write op response = % x, %v; want 04 08 00 12 00", got, err)
		}
		bw := &rawBlockWriter{c: conn, r: bufio.NewReader(conn), seqno: 1}
		bw.sendPacket([]byte("x"), crc32.MakeTable(crc32.Castagnoli), false, false)
		if _, err := io.ReadFull(bw.r, got); err != nil || !bytes.Equal(got, []byte{4, 8, 2, 0x10, 0}) {
			t.Fatalf("ack for seqno 1 = % x, %v; want 04 08 02 10 00", got, err)
		}
	})
	stillServes(t, s.NameNodeAddr())
	if got, err := c.ReadFile("/t/f"); err != nil || !bytes.Equal(got, randomBytes(5000, 1)) {
		t.Fatalf("existing file damaged: %v", err)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCorruptReplicaIsNotServed(t *testing.T) {
	s, cfg := newServer(t)
	c := newClient(t, s.NameNodeAddr(), testSuperuser)
	data := randomBytes(100_000, 1)
	writeFile(t, c, "/f", data, len(data))
	blocks, err := os.ReadDir(cfg.DataDir + "/datanode/blocks")
	if err != nil {
		t.Fatal(err)
	}
	var corrupted bool
	for _, e := range blocks {
		if strings.HasPrefix(e.Name(), "blk_") && !strings.HasSuffix(e.Name(), ".meta") {
			p := cfg.DataDir + "/datanode/blocks/" + e.Name()
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[50_000] ^= 0x40
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			corrupted = true
		}
	}
	if !corrupted {
		t.Fatal("no block file found")
	}
	got, err := c.ReadFile("/f")
	if err == nil {
		t.Fatalf("read of a corrupted block succeeded (%d bytes, equal %v)", len(got), bytes.Equal(got, data))
	}
	// Data before the bad chunk is still readable.
	f, err := c.Open("/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 40_000)
	if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data[:40_000]) {
		t.Fatalf("ReadAt before the damage: %v", err)
	}
}

// Calls the Go client never makes but Java clients do: the FileSystem
// spec's rename (false instead of exceptions, move into a directory) and
// create with createParent.
func TestJavaStyleCalls(t *testing.T) {
	s, _, c := setup(t)
	rc := dialRaw(t, s.NameNodeAddr(), "alice")
	writeFile(t, c, "/t/a", []byte("a"), 1)
	writeFile(t, c, "/t/b", []byte("b"), 1)
	if err := c.Mkdir("/t/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	rename := func(src, dst string) bool {
		t.Helper()
		var resp pb.RenameResponseProto
		if err := rc.call("rename", &pb.RenameRequestProto{Src: proto.String(src), Dst: proto.String(dst)}, &resp); err != nil {
			t.Fatalf("rename(%s, %s): %v", src, dst, err)
		}
		return resp.GetResult()
	}
	for _, tc := range []struct {
		src, dst string
		want     bool
	}{
		{"/t/a", "/t/b", false},         // destination exists
		{"/t/missing", "/t/x", false},   // source missing
		{"/t/a", "/t/nodir/x", false},   // destination parent missing
		{"/t/dir", "/t/dir/sub", false}, // into itself
		{"/t/a", "/t/a", true},          // same path
		{"/t/a", "/t/dir", true},        // into a directory: /t/dir/a
		{"/t/b", "/t/c", true},
	} {
		if got := rename(tc.src, tc.dst); got != tc.want {
			t.Errorf("rename(%s, %s) = %v, want %v", tc.src, tc.dst, got, tc.want)
		}
	}
	if got, err := c.ReadFile("/t/dir/a"); err != nil || string(got) != "a" {
		t.Errorf("/t/dir/a = %q, %v", got, err)
	}
	if got, err := c.ReadFile("/t/c"); err != nil || string(got) != "b" {
		t.Errorf("/t/c = %q, %v", got, err)
	}

	req := createReq("/t/deep/er/file", "java-client", 1)
	req.CreateParent = proto.Bool(true)
	var cr pb.CreateResponseProto
	if err := rc.call("create", req, &cr); err != nil {
		t.Fatalf("create with createParent: %v", err)
	}
	if err := rc.call("complete", &pb.CompleteRequestProto{Src: proto.String("/t/deep/er/file"), ClientName: proto.String("java-client")}, new(pb.CompleteResponseProto)); err != nil {
		t.Fatal(err)
	}
	if fi, err := c.Stat("/t/deep/er"); err != nil || !fi.IsDir() {
		t.Fatalf("parents not created: %v", err)
	}
	// Listing a file yields the file itself.
	var l pb.GetListingResponseProto
	if err := rc.call("getListing", &pb.GetListingRequestProto{Src: proto.String("/t/c"), StartAfter: []byte{}}, &l); err != nil {
		t.Fatal(err)
	}
	if n := len(l.GetDirList().GetPartialListing()); n != 1 || l.GetDirList().GetPartialListing()[0].GetLength() != 1 {
		t.Errorf("listing a file = %v", l.GetDirList())
	}
}
