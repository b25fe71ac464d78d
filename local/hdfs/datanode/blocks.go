package datanode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

// On-disk replica layout, one pair of files per block in <dir>:
//
//	blk_<id>       the block's bytes, nothing else
//	blk_<id>.meta  a 24-byte header followed by one big-endian CRC per
//	               512-byte chunk of the data (the last chunk may be short)
//
// Header: "QLBM", version 1, state (0 being written, 1 finalized), checksum
// type (ChecksumTypeProto), one zero byte, bytesPerChecksum (uint32 BE),
// generation stamp (uint64 BE), four zero bytes.
//
// Writes go data first, then checksums, then the in-memory length, for every
// packet, before the packet is acknowledged. A process crash therefore leaves
// the checksum file describing a prefix of the data file; on load the
// replica is cut back to the longest prefix whose checksums verify, which
// contains every acknowledged packet. Finalizing fsyncs the data, then flips
// the state byte and fsyncs the checksum file.
const (
	metaMagic      = "QLBM"
	metaVersion    = 1
	metaHeaderSize = 24

	stateWriting   = 0
	stateFinalized = 1
)

var (
	// ErrReplicaNotFound is returned for a block this DataNode does not hold.
	ErrReplicaNotFound = errors.New("replica not found")
	errReplicaBusy     = errors.New("replica is being written")
)

// replica is one block held by the DataNode.
type replica struct {
	id    uint64
	gs    uint64
	ctype pb.ChecksumTypeProto

	// io orders a writer's updates of the files, length and state against
	// readers: a writer holds it while it writes one packet, a reader while
	// it reads one.
	io        sync.RWMutex
	length    int64
	finalized bool

	// writer is the connection writing the replica, guarded by store.mu.
	writer *activeWriter
}

// activeWriter lets recovery and deletion stop a writing connection.
type activeWriter struct {
	conn    io.Closer
	done    chan struct{}
	stopped atomic.Bool
}

// store holds the replicas in one directory.
type store struct {
	dir string
	log *slog.Logger

	mu       sync.Mutex
	replicas map[uint64]*replica
}

func (s *store) dataPath(id uint64) string {
	return filepath.Join(s.dir, "blk_"+strconv.FormatUint(id, 10))
}

func (s *store) metaPath(id uint64) string { return s.dataPath(id) + ".meta" }

// openStore loads every replica under dir, cutting replicas that were being
// written back to their verified prefix.
func openStore(dir string, log *slog.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create block directory: %w", err)
	}
	s := &store{dir: dir, log: log, replicas: map[uint64]*replica{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list block directory: %w", err)
	}
	metas := map[uint64]bool{}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".meta"); ok {
			if id, ok := parseBlockName(name); ok {
				metas[id] = true
			}
		}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".meta") {
			continue
		}
		if id, ok := parseBlockName(name); ok && !metas[id] {
			// Data without checksums: the replica was created but never
			// got its header, so it holds no acknowledged byte.
			log.Warn("datanode: removing block data without checksum file", "block", id)
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("remove orphan block data: %w", err)
			}
		}
	}
	ids := make([]uint64, 0, len(metas))
	for id := range metas {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		r, err := s.load(id)
		if err != nil {
			log.Warn("datanode: dropping unreadable replica", "block", id, "err", err)
			s.removeFiles(id)
			continue
		}
		s.replicas[id] = r
	}
	return s, nil
}

func parseBlockName(name string) (uint64, bool) {
	rest, ok := strings.CutPrefix(name, "blk_")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(rest, 10, 64)
	return id, err == nil
}

func encodeMetaHeader(state byte, ctype pb.ChecksumTypeProto, gs uint64) []byte {
	h := make([]byte, metaHeaderSize)
	copy(h, metaMagic)
	h[4] = metaVersion
	h[5] = state
	h[6] = byte(ctype)
	binary.BigEndian.PutUint32(h[8:], bytesPerChecksum)
	binary.BigEndian.PutUint64(h[12:], gs)
	return h
}

// load reads one replica's header and checks its data against its
// checksums, truncating a torn tail.
func (s *store) load(id uint64) (*replica, error) {
	meta, err := os.OpenFile(s.metaPath(id), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer meta.Close()
	h := make([]byte, metaHeaderSize)
	if _, err := io.ReadFull(meta, h); err != nil {
		return nil, fmt.Errorf("read checksum header: %w", err)
	}
	if string(h[:4]) != metaMagic || h[4] != metaVersion {
		return nil, errors.New("bad checksum file header")
	}
	ctype := pb.ChecksumTypeProto(h[6])
	if checksumTable(ctype) == nil || binary.BigEndian.Uint32(h[8:]) != bytesPerChecksum {
		return nil, fmt.Errorf("unsupported checksum type %d", h[6])
	}
	r := &replica{id: id, gs: binary.BigEndian.Uint64(h[12:]), ctype: ctype, finalized: h[5] == stateFinalized}

	data, err := os.OpenFile(s.dataPath(id), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer data.Close()
	dst, err := data.Stat()
	if err != nil {
		return nil, err
	}
	mst, err := meta.Stat()
	if err != nil {
		return nil, err
	}
	dataLen := dst.Size()
	entries := (mst.Size() - metaHeaderSize) / 4
	consistent := entries == int64(chunkCount64(dataLen))
	if r.finalized && consistent {
		// Finalized replicas were fsynced before the state flipped; a
		// full check happens on every read.
		r.length = dataLen
		return r, nil
	}
	n, err := verifiedPrefix(data, meta, dataLen, entries, checksumTable(ctype))
	if err != nil {
		return nil, err
	}
	if n != dataLen || !consistent {
		s.log.Warn("datanode: truncating replica to verified length", "block", id, "length", n, "on_disk", dataLen, "finalized", r.finalized)
	}
	if err := truncateReplica(data, meta, n, checksumTable(ctype)); err != nil {
		return nil, err
	}
	r.length = n
	return r, nil
}

func chunkCount64(n int64) int64 { return (n + bytesPerChecksum - 1) / bytesPerChecksum }

// verifiedPrefix returns the longest prefix of the data whose chunks match
// the stored checksums. A last chunk that was extended on disk after its
// checksum was written matches at its shorter, acknowledged length.
func verifiedPrefix(data, meta *os.File, dataLen, entries int64, tab *crc32.Table) (int64, error) {
	const step = 1 << 20
	buf := make([]byte, step)
	sums := make([]byte, 4*(step/bytesPerChecksum))
	var off int64
	for off < dataLen {
		chunk := int64(off / bytesPerChecksum)
		if chunk >= entries {
			return off, nil
		}
		n := min(int64(step), dataLen-off)
		nChunks := min(chunkCount64(n), entries-chunk)
		n = min(n, nChunks*bytesPerChecksum)
		if _, err := data.ReadAt(buf[:n], off); err != nil {
			return 0, fmt.Errorf("read block data: %w", err)
		}
		if _, err := meta.ReadAt(sums[:4*nChunks], metaHeaderSize+4*chunk); err != nil {
			return 0, fmt.Errorf("read checksums: %w", err)
		}
		for i := int64(0); i < nChunks; i++ {
			c := buf[i*bytesPerChecksum : min((i+1)*bytesPerChecksum, n)]
			want := binary.BigEndian.Uint32(sums[4*i:])
			if crc32.Checksum(c, tab) == want {
				continue
			}
			for k := len(c) - 1; k > 0; k-- {
				if crc32.Checksum(c[:k], tab) == want {
					return off + i*bytesPerChecksum + int64(k), nil
				}
			}
			return off + i*bytesPerChecksum, nil
		}
		off += n
	}
	return off, nil
}

// truncateReplica cuts data to n bytes and the checksum file to match,
// recomputing the checksum of a new partial last chunk, and fsyncs both.
func truncateReplica(data, meta *os.File, n int64, tab *crc32.Table) error {
	if err := data.Truncate(n); err != nil {
		return fmt.Errorf("truncate block data: %w", err)
	}
	chunks := chunkCount64(n)
	if err := meta.Truncate(metaHeaderSize + 4*chunks); err != nil {
		return fmt.Errorf("truncate checksums: %w", err)
	}
	if rem := n % bytesPerChecksum; rem != 0 {
		c := make([]byte, rem)
		if _, err := data.ReadAt(c, n-rem); err != nil {
			return fmt.Errorf("read last chunk: %w", err)
		}
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], crc32.Checksum(c, tab))
		if _, err := meta.WriteAt(sum[:], metaHeaderSize+4*(chunks-1)); err != nil {
			return fmt.Errorf("write last checksum: %w", err)
		}
	}
	if err := data.Sync(); err != nil {
		return fmt.Errorf("sync block data: %w", err)
	}
	return meta.Sync()
}

func (s *store) removeFiles(id uint64) {
	for _, p := range []string{s.dataPath(id), s.metaPath(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("datanode: remove replica file", "path", p, "err", err)
		}
	}
}

// stopWriter closes the connection writing r and waits for it to let go.
// It is called with s.mu held and returns with s.mu held.
func (s *store) stopWriter(r *replica) {
	for r.writer != nil {
		w := r.writer
		w.stopped.Store(true)
		w.conn.Close()
		s.mu.Unlock()
		<-w.done
		s.mu.Lock()
	}
}

// replicaWriter appends packets to one replica.
type replicaWriter struct {
	s    *store
	r    *replica
	w    *activeWriter
	data *os.File
	meta *os.File
	tab  *crc32.Table
	tail []byte // bytes of the current partial last chunk
	end  int64  // bytes written to the block file

	// sums are checksums staged for chunks sumsFrom, sumsFrom+1, ...
	sums     []byte
	sumsFrom int64

	closeOnce sync.Once
}

// beginWrite opens a replica for writing by conn. For a new replica
// (appendAt < 0) it creates the files; otherwise the replica must exist with
// exactly appendAt bytes. allow is called under the store lock and must not
// block: it is the NameNode's word that the block may be written.
func (s *store) beginWrite(id, gs uint64, ctype pb.ChecksumTypeProto, appendAt int64, conn io.Closer, allow func() error) (*replicaWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := allow(); err != nil {
		return nil, err
	}
	r := s.replicas[id]
	if r != nil && r.writer != nil {
		return nil, errReplicaBusy
	}
	w := &replicaWriter{s: s, w: &activeWriter{conn: conn, done: make(chan struct{})}}
	var err error
	switch {
	case appendAt < 0 && r != nil && r.length > 0:
		return nil, fmt.Errorf("block %d already exists with %d bytes", id, r.length)
	case appendAt < 0:
		if r == nil {
			r = &replica{id: id, gs: gs, ctype: ctype}
		}
		r.gs, r.ctype, r.finalized, r.length = gs, ctype, false, 0
		if w.meta, err = os.OpenFile(s.metaPath(id), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			return nil, fmt.Errorf("create checksum file: %w", err)
		}
		if _, err = w.meta.WriteAt(encodeMetaHeader(stateWriting, ctype, gs), 0); err != nil {
			w.meta.Close()
			return nil, fmt.Errorf("write checksum header: %w", err)
		}
		if w.data, err = os.OpenFile(s.dataPath(id), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			w.meta.Close()
			return nil, fmt.Errorf("create block file: %w", err)
		}
	default:
		if r == nil {
			return nil, fmt.Errorf("%w: block %d", ErrReplicaNotFound, id)
		}
		if r.gs != gs {
			return nil, fmt.Errorf("block %d has generation stamp %d, not %d", id, r.gs, gs)
		}
		if r.length != appendAt {
			return nil, fmt.Errorf("block %d has %d bytes, append expected %d", id, r.length, appendAt)
		}
		if w.meta, err = os.OpenFile(s.metaPath(id), os.O_RDWR, 0); err != nil {
			return nil, fmt.Errorf("open checksum file: %w", err)
		}
		if w.data, err = os.OpenFile(s.dataPath(id), os.O_RDWR, 0); err != nil {
			w.meta.Close()
			return nil, fmt.Errorf("open block file: %w", err)
		}
		if rem := r.length % bytesPerChecksum; rem != 0 {
			w.tail = make([]byte, rem, bytesPerChecksum)
			if _, err = w.data.ReadAt(w.tail, r.length-rem); err != nil {
				w.data.Close()
				w.meta.Close()
				return nil, fmt.Errorf("read last chunk: %w", err)
			}
		}
		r.io.Lock()
		r.finalized = false
		_, err = w.meta.WriteAt([]byte{stateWriting}, 5)
		r.io.Unlock()
		if err != nil {
			w.data.Close()
			w.meta.Close()
			return nil, fmt.Errorf("reopen replica: %w", err)
		}
	}
	w.r = r
	w.end = r.length
	w.tab = checksumTable(r.ctype)
	r.writer = w.w
	s.replicas[id] = r
	return w, nil
}

// stopped reports whether recovery or deletion closed the connection.
func (w *replicaWriter) stopped() bool { return w.w.stopped.Load() }

// checksumType is the type the replica stores.
func (w *replicaWriter) checksumType() pb.ChecksumTypeProto { return w.r.ctype }

// write stores one packet's data at off, which must follow the data
// already written. reuse, if not nil, holds checksums of the replica's
// type for 512-byte chunks of data, already verified. The data goes to the
// block file at once; its checksums are staged until flush, which makes
// them durable together with the new length.
func (w *replicaWriter) write(off int64, data, reuse []byte) error {
	if off != w.end {
		return fmt.Errorf("packet offset %d, block has %d bytes", off, w.end)
	}
	if len(data) == 0 {
		return nil
	}
	firstChunk := off / bytesPerChecksum
	need := 4 * chunkCount(len(w.tail)+len(data), bytesPerChecksum)
	if len(w.sums) == 0 {
		w.sumsFrom = firstChunk
	}
	// A packet that completes a partial chunk replaces that chunk's staged
	// checksum, or stages a new one over the stored one.
	at := int(firstChunk-w.sumsFrom) * 4
	if at < 0 || at > len(w.sums) {
		if err := w.flushSums(); err != nil {
			return err
		}
		w.sumsFrom, at = firstChunk, 0
	}
	w.sums = append(w.sums[:at], make([]byte, need)...)
	sums := w.sums[at:]
	switch {
	case len(w.tail) == 0 && reuse != nil:
		copy(sums, reuse)
	default:
		rest := data
		i := 0
		if len(w.tail) != 0 {
			k := min(bytesPerChecksum-len(w.tail), len(rest))
			crc := crc32.Update(crc32.Checksum(w.tail, w.tab), w.tab, rest[:k])
			binary.BigEndian.PutUint32(sums, crc)
			rest = rest[k:]
			i = 1
		}
		computeChecksums(sums[4*i:], rest, bytesPerChecksum, w.tab)
	}
	if _, err := w.data.WriteAt(data, off); err != nil {
		return fmt.Errorf("write block data: %w", err)
	}
	w.end = off + int64(len(data))
	switch rem := int(w.end % bytesPerChecksum); {
	case rem == 0:
		w.tail = w.tail[:0]
	case len(data) >= rem:
		w.tail = append(w.tail[:0], data[len(data)-rem:]...)
	default:
		w.tail = append(w.tail, data...)
	}
	return nil
}

// flush writes the staged checksums and publishes the new length: after
// it, every byte written so far survives a crash and may be acknowledged.
func (w *replicaWriter) flush() error {
	w.r.io.Lock()
	defer w.r.io.Unlock()
	if err := w.flushSums(); err != nil {
		return err
	}
	w.r.length = w.end
	return nil
}

func (w *replicaWriter) flushSums() error {
	if len(w.sums) == 0 {
		return nil
	}
	if _, err := w.meta.WriteAt(w.sums, metaHeaderSize+4*w.sumsFrom); err != nil {
		return fmt.Errorf("write checksums: %w", err)
	}
	w.sums = w.sums[:0]
	return nil
}

// finalize makes the replica durable and readable as a complete block.
func (w *replicaWriter) finalize() error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.data.Sync(); err != nil {
		return fmt.Errorf("sync block data: %w", err)
	}
	if _, err := w.meta.WriteAt([]byte{stateFinalized}, 5); err != nil {
		return fmt.Errorf("finalize replica: %w", err)
	}
	if err := w.meta.Sync(); err != nil {
		return fmt.Errorf("sync checksums: %w", err)
	}
	if err := syncDir(w.s.dir); err != nil {
		return err
	}
	w.r.io.Lock()
	w.r.finalized = true
	w.r.io.Unlock()
	return nil
}

// close releases the files and the replica. It is safe to call twice.
func (w *replicaWriter) close() {
	w.closeOnce.Do(func() {
		w.data.Close()
		w.meta.Close()
		w.s.mu.Lock()
		if w.r.writer == w.w {
			w.r.writer = nil
		}
		w.s.mu.Unlock()
		close(w.w.done)
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open block directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync block directory: %w", err)
	}
	return nil
}

// replicaReader reads packets from one replica.
type replicaReader struct {
	r    *replica
	data *os.File
	meta *os.File
}

// openRead opens a replica for reading.
func (s *store) openRead(id, gs uint64) (*replicaReader, error) {
	s.mu.Lock()
	r := s.replicas[id]
	s.mu.Unlock()
	if r == nil {
		return nil, fmt.Errorf("%w: block %d", ErrReplicaNotFound, id)
	}
	if r.gs != gs {
		return nil, fmt.Errorf("block %d has generation stamp %d, not %d", id, r.gs, gs)
	}
	data, err := os.Open(s.dataPath(id))
	if err != nil {
		return nil, fmt.Errorf("open block file: %w", err)
	}
	meta, err := os.Open(s.metaPath(id))
	if err != nil {
		data.Close()
		return nil, fmt.Errorf("open checksum file: %w", err)
	}
	return &replicaReader{r: r, data: data, meta: meta}, nil
}

// length returns the replica's readable length.
func (rr *replicaReader) length() int64 {
	rr.r.io.RLock()
	defer rr.r.io.RUnlock()
	return rr.r.length
}

// readChunks reads up to want bytes at off, which must be chunk aligned,
// into the packet buffer: the data goes to buf[dataAt:], the stored
// checksums of the chunks read end right at buf[dataAt]. It reads less than
// want only at the end of the replica. It returns the bytes read, where the
// checksums start, and, separately from I/O errors, whether the data
// matches its checksums.
func (rr *replicaReader) readChunks(off int64, want int, buf []byte, dataAt int) (n, sumsAt int, corrupt, err error) {
	rr.r.io.RLock()
	defer rr.r.io.RUnlock()
	n = int(min(int64(want), rr.r.length-off))
	if n <= 0 {
		return 0, dataAt, nil, fmt.Errorf("read past end of block %d", rr.r.id)
	}
	sumLen := 4 * chunkCount(n, bytesPerChecksum)
	sumsAt = dataAt - sumLen
	data, sums := buf[dataAt:dataAt+n], buf[sumsAt:dataAt]
	if _, err := rr.data.ReadAt(data, off); err != nil {
		return 0, 0, nil, fmt.Errorf("read block data: %w", err)
	}
	if _, err := rr.meta.ReadAt(sums, metaHeaderSize+4*(off/bytesPerChecksum)); err != nil {
		return 0, 0, nil, fmt.Errorf("read checksums: %w", err)
	}
	if err := verifyChecksums(data, sums, bytesPerChecksum, checksumTable(rr.r.ctype)); err != nil {
		corrupt = fmt.Errorf("block %d at offset %d: %w", rr.r.id, off, err)
	}
	return n, sumsAt, corrupt, nil
}

// readSums reads the stored checksums of the whole replica.
func (rr *replicaReader) readSums() ([]byte, int64, error) {
	rr.r.io.RLock()
	defer rr.r.io.RUnlock()
	sums := make([]byte, 4*chunkCount64(rr.r.length))
	if _, err := rr.meta.ReadAt(sums, metaHeaderSize); err != nil {
		return nil, 0, fmt.Errorf("read checksums: %w", err)
	}
	return sums, rr.r.length, nil
}

func (rr *replicaReader) close() {
	rr.data.Close()
	rr.meta.Close()
}

// info reports a replica's length and state.
func (s *store) info(id uint64) (length int64, finalized, ok bool) {
	s.mu.Lock()
	r := s.replicas[id]
	s.mu.Unlock()
	if r == nil {
		return 0, false, false
	}
	r.io.RLock()
	defer r.io.RUnlock()
	return r.length, r.finalized, true
}

// recover stops any writer of the replica and finalizes it at its
// acknowledged length, which it returns. A missing replica has length 0.
func (s *store) recover(id uint64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.replicas[id]
	if r == nil {
		return 0, nil
	}
	s.stopWriter(r)
	r.io.Lock()
	n := r.length
	r.io.Unlock()
	if err := s.finalizeLocked(r, n); err != nil {
		return 0, err
	}
	return n, nil
}

// finalizeAt makes sure a replica is finalized with exactly n bytes,
// dropping bytes past n. It fails if the replica holds fewer.
func (s *store) finalizeAt(id uint64, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.replicas[id]
	if r == nil {
		return fmt.Errorf("%w: block %d", ErrReplicaNotFound, id)
	}
	s.stopWriter(r)
	r.io.RLock()
	have, fin := r.length, r.finalized
	r.io.RUnlock()
	if have < n {
		return fmt.Errorf("block %d has %d bytes, expected %d", id, have, n)
	}
	if have == n && fin {
		return nil
	}
	return s.finalizeLocked(r, n)
}

// finalizeLocked truncates a replica without a writer to n bytes and marks
// it finalized. s.mu is held.
func (s *store) finalizeLocked(r *replica, n int64) error {
	data, err := os.OpenFile(s.dataPath(r.id), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open block file: %w", err)
	}
	defer data.Close()
	meta, err := os.OpenFile(s.metaPath(r.id), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open checksum file: %w", err)
	}
	defer meta.Close()
	r.io.Lock()
	defer r.io.Unlock()
	if err := truncateReplica(data, meta, n, checksumTable(r.ctype)); err != nil {
		return err
	}
	if _, err := meta.WriteAt([]byte{stateFinalized}, 5); err != nil {
		return fmt.Errorf("finalize replica: %w", err)
	}
	if err := meta.Sync(); err != nil {
		return fmt.Errorf("sync checksums: %w", err)
	}
	r.length, r.finalized = n, true
	return nil
}

// remove stops writers of the replicas and deletes them.
func (s *store) remove(ids []uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		r := s.replicas[id]
		if r == nil {
			continue
		}
		s.stopWriter(r)
		delete(s.replicas, id)
		s.removeFiles(id)
	}
}

// retain deletes every replica for which keep returns false.
func (s *store) retain(keep func(id uint64) bool) []uint64 {
	s.mu.Lock()
	var drop []uint64
	for id := range s.replicas {
		if !keep(id) {
			drop = append(drop, id)
		}
	}
	s.mu.Unlock()
	s.remove(drop)
	return drop
}

// used returns the bytes held in replicas.
func (s *store) used() int64 {
	s.mu.Lock()
	rs := make([]*replica, 0, len(s.replicas))
	for _, r := range s.replicas {
		rs = append(rs, r)
	}
	s.mu.Unlock()
	var n int64
	for _, r := range rs {
		r.io.RLock()
		n += r.length
		r.io.RUnlock()
	}
	return n
}
