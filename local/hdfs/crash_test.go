package hdfs

import (
	"bufio"
	"bytes"
	"context"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	gohdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// child is the server running in a re-executed test binary.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	addr   string
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startChild(t testing.TB, dir string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envChild+"=1", envChildDir+"="+dir), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child stderr:\n%s", c.stderr.String())
		}
	})
	line := readLine(t, bufio.NewReader(stdout), 30e9)
	addr, ok := strings.CutPrefix(line, "READY ")
	if !ok {
		t.Fatalf("child said %q; stderr: %s", line, c.stderr.String())
	}
	c.addr = addr
	return c
}

// kill9 ends the child with SIGKILL, so nothing is flushed or closed.
func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// stop asks the child to close gracefully and checks it exits cleanly.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child exit: %v; stderr: %s", err, c.stderr.String())
	}
}

// Flow: a server in a child process receives completed files of several
// sizes, namespace changes, a file left open by the Go client mid-write and
// a file whose block packets were all acknowledged by the DataNode (written
// with a raw data-transfer client so the acknowledged length is known). The
// child is killed with SIGKILL and a new server starts on the same data
// directory. Every completed file must read back byte for byte (checksums
// verified on the way), and every open file must be recovered: closed, at
// a length between what the NameNode had committed and what was written,
// holding exactly the acknowledged bytes.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	ch := startChild(t, dir)
	c, err := gohdfs.NewClient(gohdfs.ClientOptions{Addresses: []string{ch.addr}, User: testSuperuser})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	done := map[string][]byte{
		"/done/empty":  nil,
		"/done/one":    {7},
		"/done/small":  randomBytes(1000, 1),
		"/done/block":  randomBytes(testBlockSize, 2),
		"/done/multi":  randomBytes(3*testBlockSize+testBlockSize/3, 3),
		"/done/sub/in": randomBytes(70000, 4),
	}
	if err := c.MkdirAll("/done/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range done {
		writeFile(t, c, name, data, 100_000)
	}
	// Namespace changes that must survive too.
	writeFile(t, c, "/done/tmp", []byte("temporary"), 100)
	if err := c.Rename("/done/tmp", "/done/renamed"); err != nil {
		t.Fatal(err)
	}
	done["/done/renamed"] = []byte("temporary")
	writeFile(t, c, "/done/deleted", randomBytes(5000, 5), 5000)
	if err := c.Remove("/done/deleted"); err != nil {
		t.Fatal(err)
	}
	if err := c.Chmod("/done/small", 0o600); err != nil {
		t.Fatal(err)
	}
	appended := randomBytes(testBlockSize+777, 6)
	writeFile(t, c, "/done/appended", appended[:500], 500)
	aw, err := c.Append("/done/appended")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aw.Write(appended[500:]); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	done["/done/appended"] = appended

	// Open file 1: the Go client, 2.5 blocks written, never closed.
	if err := c.Mkdir("/open", 0o777); err != nil {
		t.Fatal(err)
	}
	openData := randomBytes(2*testBlockSize+testBlockSize/2, 8)
	ow, err := c.Create("/open/client")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ow.Write(openData); err != nil {
		t.Fatal(err)
	}

	// Open file 2: raw protocol, every packet acknowledged.
	raw := dialRaw(t, ch.addr, testSuperuser)
	const rawClient = "raw-crash-writer"
	var cr pb.CreateResponseProto
	if err := raw.call("create", createReq("/open/raw", rawClient, 1), &cr); err != nil {
		t.Fatal(err)
	}
	var ab pb.AddBlockResponseProto
	if err := raw.call("addBlock", &pb.AddBlockRequestProto{Src: proto.String("/open/raw"), ClientName: proto.String(rawClient), FileId: proto.Uint64(cr.GetFs().GetFileId())}, &ab); err != nil {
		t.Fatal(err)
	}
	bw, resp := dialBlockWrite(t, ab.GetBlock(), rawClient, pb.ChecksumTypeProto_CHECKSUM_CRC32C)
	if resp.GetStatus() != pb.Status_SUCCESS {
		t.Fatalf("write op: %v", resp)
	}
	rawData := randomBytes(10*10240+333, 9)
	for off := 0; off < len(rawData); off += 10240 {
		seq, err := bw.sendPacket(rawData[off:min(off+10240, len(rawData))], crc32.MakeTable(crc32.Castagnoli), false, false)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := bw.readAck()
		if err != nil || ack.GetSeqno() != seq || ack.GetReply()[0] != pb.Status_SUCCESS {
			t.Fatalf("ack for packet %d: %v, %v", seq, ack, err)
		}
	}

	ch.kill9(t)

	ch2 := startChild(t, dir)
	c2 := newClient(t, ch2.addr, testSuperuser)
	checkDone := func(c *gohdfs.Client) {
		t.Helper()
		for name, data := range done {
			got, err := c.ReadFile(name)
			if err != nil {
				t.Fatalf("ReadFile(%s) after crash: %v", name, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s after crash: %d bytes, want %d identical", name, len(got), len(data))
			}
		}
		if _, err := c.Stat("/done/deleted"); !os.IsNotExist(err) {
			t.Errorf("deleted file is back: %v", err)
		}
		if fi, _ := c.Stat("/done/small"); fi == nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("chmod lost: %v", fi)
		}
	}
	checkDone(c2)

	got, err := c2.ReadFile("/open/client")
	if err != nil {
		t.Fatalf("ReadFile(/open/client): %v", err)
	}
	if len(got) < 2*testBlockSize || len(got) > len(openData) || !bytes.Equal(got, openData[:len(got)]) {
		t.Fatalf("/open/client recovered with %d bytes; want a prefix of the %d written, at least the %d committed",
			len(got), len(openData), 2*testBlockSize)
	}
	t.Logf("/open/client recovered with %d of %d written bytes (%d committed before the crash)", len(got), len(openData), 2*testBlockSize)
	got, err = c2.ReadFile("/open/raw")
	if err != nil || !bytes.Equal(got, rawData) {
		t.Fatalf("/open/raw recovered with %d bytes (%v); want all %d acknowledged bytes", len(got), err, len(rawData))
	}
	// Recovered files are closed: they can be appended to at once.
	for _, name := range []string{"/open/client", "/open/raw"} {
		w, err := c2.Append(name)
		if err != nil {
			t.Fatalf("Append(%s) after recovery: %v", name, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A graceful stop and an in-process start see the same state.
	ch2.stop(t)
	s, err := Start(context.Background(), Config{DataDir: dir, NameNodeAddr: "127.0.0.1:0", Superuser: testSuperuser, Logger: newServerLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c3 := newClient(t, s.NameNodeAddr(), testSuperuser)
	checkDone(c3)
	if fi, err := c3.Stat("/open/raw"); err != nil || fi.Size() != int64(len(rawData)) {
		t.Fatalf("/open/raw after restart: %v, %v", fi, err)
	}
	infos, err := c3.ReadDir("/done")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	if want := "appended block empty multi one renamed small sub"; strings.Join(names, " ") != want {
		t.Errorf("ls /done = %v, want %s", names, want)
	}
}
