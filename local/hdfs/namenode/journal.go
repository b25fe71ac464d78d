package namenode

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// Durability of the namespace: an image (fsimage, JSON) plus an append-only
// edit log (edits). Every mutation is appended to the log as one record and
// fsynced before the RPC that made it is answered; concurrent RPCs share
// fsyncs (group commit). A checkpoint writes a new image through a temporary
// file, renames it into place and empties the log. Records carry
// transaction ids and the image its last one, so a crash between the rename
// and the truncation replays nothing twice.
//
// Edit log record: uint32 BE payload length, uint32 BE CRC32C of the payload,
// payload = JSON {"tx":N,"op":"name","d":{...}}. A torn or corrupt record at
// the tail (a crash mid-append) ends the log and is cut off on open.
const (
	imageFile    = "fsimage"
	editsFile    = "edits"
	imageVersion = 1
	maxRecord    = 16 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// record is one edit log entry.
type record struct {
	Tx   uint64          `json:"tx"`
	Op   string          `json:"op"`
	Data json.RawMessage `json:"d"`
}

// journal is the edit log.
type journal struct {
	dir string
	log *slog.Logger

	mu      sync.Mutex
	cond    sync.Cond
	f       *os.File
	buf     []byte // records appended but not yet written
	spare   []byte
	nextTx  uint64
	bufLast uint64 // last tx in buf
	synced  uint64 // last tx on disk
	syncing bool
	err     error // sticky: the log can no longer be trusted
	records int   // records since the last checkpoint
}

// openJournal opens the namespace directory and returns the image (nil if
// there is none yet) and the edit records that follow it.
func openJournal(dir string, log *slog.Logger) (*journal, *image, []record, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("create namespace directory: %w", err)
	}
	img, err := readImage(filepath.Join(dir, imageFile))
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, editsFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open edit log: %w", err)
	}
	recs, good, err := readEdits(f)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() != good {
		log.Warn("namenode: cutting torn edit log tail", "valid_bytes", good, "file_bytes", st.Size())
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("truncate edit log: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("sync edit log: %w", err)
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("seek edit log: %w", err)
	}
	var last uint64
	if img != nil {
		last = img.LastTx
	}
	var replay []record
	for _, r := range recs {
		if r.Tx <= last {
			continue // already in the image
		}
		if r.Tx != last+1 {
			f.Close()
			return nil, nil, nil, fmt.Errorf("edit log gap: transaction %d follows %d", r.Tx, last)
		}
		replay = append(replay, r)
		last = r.Tx
	}
	j := &journal{dir: dir, log: log, f: f, nextTx: last + 1, synced: last, bufLast: last, records: len(recs)}
	j.cond.L = &j.mu
	return j, img, replay, nil
}

// readEdits decodes records until the end of the log or the first torn or
// corrupt one, and returns the byte length of the good prefix.
func readEdits(f *os.File) ([]record, int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("seek edit log: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var recs []record
	var good int64
	for {
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return recs, good, nil
		}
		n := binary.BigEndian.Uint32(h[:4])
		if n == 0 || n > maxRecord {
			return recs, good, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return recs, good, nil
		}
		if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(h[4:]) {
			return recs, good, nil
		}
		var rec record
		if err := json.Unmarshal(payload, &rec); err != nil {
			return recs, good, nil
		}
		recs = append(recs, rec)
		good += 8 + int64(n)
	}
}

// append encodes op as the next transaction and buffers it. It runs under
// the NameNode lock, so transaction order is apply order.
func (j *journal) append(name string, op editOp) (uint64, error) {
	data, err := json.Marshal(op)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", name, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, j.err
	}
	tx := j.nextTx
	payload, err := json.Marshal(record{Tx: tx, Op: name, Data: data})
	if err != nil {
		return 0, fmt.Errorf("encode record: %w", err)
	}
	var h [8]byte
	binary.BigEndian.PutUint32(h[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
	j.buf = append(append(j.buf, h[:]...), payload...)
	j.nextTx++
	j.bufLast = tx
	j.records++
	return tx, nil
}

// sync returns once transaction tx is on disk. One caller writes and fsyncs
// everything buffered while the others wait for it.
func (j *journal) sync(tx uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for {
		if j.synced >= tx {
			return nil
		}
		if j.err != nil {
			return j.err
		}
		if j.syncing {
			j.cond.Wait()
			continue
		}
		buf, last := j.buf, j.bufLast
		j.buf, j.spare = j.spare[:0], nil
		j.syncing = true
		j.mu.Unlock()
		_, err := j.f.Write(buf)
		if err == nil {
			err = j.f.Sync()
		}
		j.mu.Lock()
		j.syncing = false
		j.spare = buf[:0]
		if err != nil {
			j.err = fmt.Errorf("edit log: %w", err)
			j.log.Error("namenode: edit log write failed; refusing further changes", "err", err)
		} else {
			j.synced = last
		}
		j.cond.Broadcast()
	}
}

// fail marks the log unusable, e.g. when an edit could not be applied.
func (j *journal) fail(err error) {
	j.mu.Lock()
	if j.err == nil {
		j.err = err
	}
	j.mu.Unlock()
}

func (j *journal) pending() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.records
}

// checkpoint replaces the image with one written by write and empties the
// log. It runs under the NameNode lock, so the image covers every
// transaction appended so far, including buffered ones.
func (j *journal) checkpoint(write func(w io.Writer, lastTx uint64) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.syncing {
		j.cond.Wait()
	}
	if j.err != nil {
		return j.err
	}
	last := j.nextTx - 1
	tmp := filepath.Join(j.dir, imageFile+".tmp")
	if err := writeFileSync(tmp, func(w io.Writer) error { return write(w, last) }); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, imageFile)); err != nil {
		return fmt.Errorf("install image: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		return err
	}
	if err := j.f.Truncate(0); err != nil {
		j.err = fmt.Errorf("truncate edit log: %w", err)
		return j.err
	}
	if _, err := j.f.Seek(0, io.SeekStart); err != nil {
		j.err = fmt.Errorf("seek edit log: %w", err)
		return j.err
	}
	if err := j.f.Sync(); err != nil {
		j.err = fmt.Errorf("sync edit log: %w", err)
		return j.err
	}
	j.buf = j.buf[:0]
	j.synced, j.bufLast, j.records = last, last, 0
	j.cond.Broadcast()
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.syncing {
		j.cond.Wait()
	}
	var err error
	if len(j.buf) > 0 && j.err == nil {
		if _, err = j.f.Write(j.buf); err == nil {
			err = j.f.Sync()
		}
		j.buf = nil
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if j.err == nil {
		j.err = errors.New("edit log closed")
	}
	return err
}

func writeFileSync(path string, write func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// image is the namespace as stored in fsimage.
type image struct {
	Version   int          `json:"version"`
	LastTx    uint64       `json:"lastTx"`
	NextInode uint64       `json:"nextInode"`
	NextBlock uint64       `json:"nextBlock"`
	GenStamp  uint64       `json:"genStamp"`
	Inodes    []imageInode `json:"inodes"`
}

type imageInode struct {
	ID          uint64       `json:"id"`
	Parent      uint64       `json:"parent,omitempty"`
	Name        string       `json:"name,omitempty"`
	Dir         bool         `json:"dir,omitempty"`
	Perm        uint32       `json:"perm"`
	Owner       string       `json:"owner"`
	Group       string       `json:"group"`
	MTime       int64        `json:"mtime"`
	ATime       int64        `json:"atime"`
	Replication uint32       `json:"repl,omitempty"`
	BlockSize   int64        `json:"blockSize,omitempty"`
	Blocks      []imageBlock `json:"blocks,omitempty"`
	Client      string       `json:"client,omitempty"`
}

type imageBlock struct {
	ID        uint64 `json:"id"`
	GS        uint64 `json:"gs"`
	Len       int64  `json:"len"`
	Committed bool   `json:"committed"`
}

func readImage(path string) (*image, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open image: %w", err)
	}
	defer f.Close()
	var img image
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&img); err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	if img.Version != imageVersion {
		return nil, fmt.Errorf("image version %d, want %d", img.Version, imageVersion)
	}
	return &img, nil
}

// writeImage streams the namespace, parents before children.
func (ns *namespace) writeImage(w io.Writer, lastTx uint64) error {
	img := image{Version: imageVersion, LastTx: lastTx, NextInode: ns.nextInode, NextBlock: ns.nextBlock, GenStamp: ns.genStamp}
	queue := []*inode{ns.root}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		ii := imageInode{ID: n.id, Name: n.name, Dir: n.dir, Perm: n.perm, Owner: n.owner, Group: n.group,
			MTime: n.mtime, ATime: n.atime, Replication: n.replication, BlockSize: n.blockSize, Client: n.client}
		if n.parent != nil {
			ii.Parent = n.parent.id
		}
		for _, b := range n.blocks {
			ii.Blocks = append(ii.Blocks, imageBlock{ID: b.id, GS: b.gs, Len: b.numBytes, Committed: b.committed})
		}
		img.Inodes = append(img.Inodes, ii)
		for _, name := range n.sortedChildren() {
			queue = append(queue, n.children[name])
		}
	}
	return json.NewEncoder(w).Encode(&img)
}

// namespaceFromImage rebuilds the tree.
func namespaceFromImage(img *image) (*namespace, error) {
	if len(img.Inodes) == 0 || img.Inodes[0].ID != rootInodeID {
		return nil, errors.New("image has no root directory")
	}
	r := img.Inodes[0]
	ns := newNamespace(r.Owner, r.Group, r.MTime)
	ns.root.perm, ns.root.atime = r.Perm, r.ATime
	for _, ii := range img.Inodes[1:] {
		parent := ns.inodes[ii.Parent]
		if parent == nil || !parent.dir {
			return nil, fmt.Errorf("image: inode %d has no parent directory %d", ii.ID, ii.Parent)
		}
		n := &inode{id: ii.ID, name: ii.Name, dir: ii.Dir, perm: ii.Perm, owner: ii.Owner, group: ii.Group,
			mtime: ii.MTime, atime: ii.ATime, replication: ii.Replication, blockSize: ii.BlockSize, client: ii.Client}
		if n.dir {
			n.children = map[string]*inode{}
		}
		for _, b := range ii.Blocks {
			n.blocks = append(n.blocks, &blockInfo{id: b.ID, gs: b.GS, numBytes: b.Len, committed: b.Committed})
		}
		ns.attach(parent, n)
	}
	ns.nextInode = max(ns.nextInode, img.NextInode)
	ns.nextBlock = max(ns.nextBlock, img.NextBlock)
	if img.GenStamp != 0 {
		ns.genStamp = img.GenStamp
	}
	return ns, nil
}
