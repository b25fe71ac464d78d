package datanode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"testing"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func allow() error { return nil }

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// writeReplica writes data to a new replica in packets of the given sizes,
// as acknowledged packets, without finalizing (a writer that then crashed).
func writeReplica(t *testing.T, s *store, id uint64, ctype pb.ChecksumTypeProto, data []byte, packets []int) {
	t.Helper()
	w, err := s.beginWrite(id, 1001, ctype, -1, nopCloser{}, allow)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for _, n := range packets {
		if err := w.write(int64(off), data[off:off+n], nil); err != nil {
			t.Fatal(err)
		}
		if err := w.flush(); err != nil { // what precedes an ack
			t.Fatal(err)
		}
		off += n
	}
	w.close()
}

func reopen(t *testing.T, dir string) *store {
	t.Helper()
	s, err := openStore(dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readAll(t *testing.T, s *store, id uint64) []byte {
	t.Helper()
	rr, err := s.openRead(id, 1001)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.close()
	var out []byte
	buf := make([]byte, 4*128+readPacketData)
	for off := int64(0); off < rr.length(); {
		n, _, corrupt, err := rr.readChunks(off, readPacketData, buf, 512)
		if err != nil || corrupt != nil {
			t.Fatalf("read at %d: %v %v", off, err, corrupt)
		}
		out = append(out, buf[512:512+n]...)
		off += int64(n)
	}
	return out
}

// Flow: packets of odd sizes (so chunks are split across packets) are
// written and acknowledged, then the files are damaged the way a crash
// mid-packet leaves them. On load the replica is cut back to the last
// acknowledged byte, and its checksums stay consistent.
func TestTornTailRecovery(t *testing.T) {
	data := pattern(10_000)
	packets := []int{700, 1, 1800, 3000, 300}
	acked := 0
	for _, n := range packets {
		acked += n
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, s *store, id uint64)
	}{
		{"clean", func(*testing.T, *store, uint64) {}},
		{"data written, checksum not", func(t *testing.T, s *store, id uint64) {
			// The next packet's data reached the file; its checksums did not.
			f, _ := os.OpenFile(s.dataPath(id), os.O_WRONLY|os.O_APPEND, 0)
			f.Write(data[acked : acked+1500])
			f.Close()
		}},
		{"half a packet of data", func(t *testing.T, s *store, id uint64) {
			f, _ := os.OpenFile(s.dataPath(id), os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{1, 2, 3})
			f.Close()
		}},
		{"garbage checksum entries past the data", func(t *testing.T, s *store, id uint64) {
			f, _ := os.OpenFile(s.metaPath(id), os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{9, 9, 9, 9, 8, 8, 8, 8})
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := reopen(t, dir)
			writeReplica(t, s, 5, pb.ChecksumTypeProto_CHECKSUM_CRC32C, data, packets)
			tc.damage(t, s, 5)
			s = reopen(t, dir)
			n, finalized, ok := s.info(5)
			if !ok || finalized || n != int64(acked) {
				t.Fatalf("after load: length %d finalized %v ok %v; want %d, false, true", n, finalized, ok, acked)
			}
			if got := readAll(t, s, 5); !bytes.Equal(got, data[:acked]) {
				t.Fatal("recovered bytes differ")
			}
			// Recovery finalizes at that length; a later load agrees.
			if n, err := s.recover(5); err != nil || n != int64(acked) {
				t.Fatalf("recover = %d, %v", n, err)
			}
			s = reopen(t, dir)
			if n, finalized, _ := s.info(5); n != int64(acked) || !finalized {
				t.Fatalf("after recover and reload: %d finalized %v", n, finalized)
			}
		})
	}
}

func TestCorruptMiddleChunkTruncatesUnfinalized(t *testing.T) {
	dir := t.TempDir()
	s := reopen(t, dir)
	data := pattern(5000)
	writeReplica(t, s, 9, pb.ChecksumTypeProto_CHECKSUM_CRC32, data, []int{5000})
	f, _ := os.OpenFile(s.dataPath(9), os.O_WRONLY, 0)
	f.WriteAt([]byte{0xEE}, 2000) // chunk 3
	f.Close()
	s = reopen(t, dir)
	if n, _, _ := s.info(9); n != 3*512 {
		t.Fatalf("length %d, want %d (cut before the bad chunk)", n, 3*512)
	}
}

func TestAppendRecomputesPartialChunk(t *testing.T) {
	dir := t.TempDir()
	s := reopen(t, dir)
	data := pattern(3000)
	writeReplica(t, s, 3, pb.ChecksumTypeProto_CHECKSUM_CRC32, data[:1000], []int{1000})
	if _, err := s.recover(3); err != nil {
		t.Fatal(err)
	}
	w, err := s.beginWrite(3, 1001, pb.ChecksumTypeProto_CHECKSUM_CRC32C, 1000, nopCloser{}, allow)
	if err != nil {
		t.Fatal(err)
	}
	if w.checksumType() != pb.ChecksumTypeProto_CHECKSUM_CRC32 {
		t.Fatalf("append changed the stored checksum type to %v", w.checksumType())
	}
	if err := w.write(1000, data[1000:1024], nil); err != nil {
		t.Fatal(err)
	}
	if err := w.write(1024, data[1024:], nil); err != nil {
		t.Fatal(err)
	}
	if err := w.finalize(); err != nil {
		t.Fatal(err)
	}
	w.close()
	s = reopen(t, dir)
	if got := readAll(t, s, 3); !bytes.Equal(got, data) {
		t.Fatal("appended replica differs")
	}
	meta, _ := os.ReadFile(s.metaPath(3))
	for i := 0; i*512 < len(data); i++ {
		want := crc32.ChecksumIEEE(data[i*512 : min((i+1)*512, len(data))])
		if got := binary.BigEndian.Uint32(meta[metaHeaderSize+4*i:]); got != want {
			t.Fatalf("stored checksum %d = %08x, want %08x", i, got, want)
		}
	}
}

func TestWriteRequiresAuthority(t *testing.T) {
	s := reopen(t, t.TempDir())
	deny := errors.New("not yours")
	if _, err := s.beginWrite(1, 1001, pb.ChecksumTypeProto_CHECKSUM_CRC32C, -1, nopCloser{}, func() error { return deny }); !errors.Is(err, deny) {
		t.Fatalf("beginWrite = %v", err)
	}
	if _, _, ok := s.info(1); ok {
		t.Fatal("a refused write created a replica")
	}
}
