package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/questlog/questlog/internal/store"
)

// The journal's format (the package doc says what it is for): a text
// file, one record per line, each line starting with its own byte offset
// in the file and ending with a CRC-32C of the rest:
//
//	0 journal game-events+3 1 807f7483
//	35 ranges 0-99 200-299 1b9ea518
//	67 land dt=2026-12-01/game-events+3+100+199.parquet dt=2026-12-01/game-events+3+300+399.parquet 53bd9686
//
// The header names the partition and the format's version; ranges records
// hold the landed offsets the journal started with (up to 512 a line).
// A land record lists the files of one Land, relative to the dataset, in
// the order they are renamed. The journal only ever grows by appending; a
// new one (a new <id>) replaces it.
const (
	journalDir     = "_locks"
	journalSuffix  = ".landed"
	journalVersion = "1"
	rangesPerLine  = 512
	defaultSlack   = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// journal is what a sink knows of one partition's journal.
type journal struct {
	dataset, key string
	topic        string
	partition    int32

	name     string // the incarnation, relative to the store's root
	size     int64  // bytes known, every record valid
	reread   int64  // where the records not read back yet start (== size when none)
	snapshot int64  // bytes of the header and the ranges records
	landed   ranges
	// check is the last file of the last land record when nobody saw it
	// in place yet ("" when every record is known to be done).
	check string
}

// errStale means the journal cannot be trusted and is rebuilt from the
// file names; it never leaves the package.
var errStale = errors.New("stale journal")

func (s *Sink) slack() int64 {
	if s.JournalSlack > 0 {
		return s.JournalSlack
	}
	return defaultSlack
}

// landedRanges returns the partition's journal, up to date, under the
// partition's lock: the cached one if it is still current, else read (or
// rebuilt from the file names), and compacted when it has grown.
func (s *Sink) landedRanges(ctx context.Context, dataset, topic string, partition int32) (*journal, error) {
	key := fmt.Sprintf("%s+%d", topic, partition)
	s.mu.Lock()
	j := s.journals[dataset+"/"+key]
	s.mu.Unlock()
	var err error
	if j != nil {
		err = j.refresh(ctx, s.store)
	}
	if j == nil || errors.Is(err, fs.ErrNotExist) {
		j, err = s.findJournal(ctx, dataset, key, topic, partition)
	}
	if err == nil && j.check != "" {
		err = j.verify(ctx, s.store)
	}
	if errors.Is(err, errStale) {
		j, err = s.rebuild(ctx, dataset, key, topic, partition, err)
	}
	if err == nil && j.size > 2*j.snapshot+s.slack() {
		j, err = s.startJournal(ctx, j, j.landed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		delete(s.journals, dataset+"/"+key)
		return nil, err
	}
	if s.journals == nil {
		s.journals = map[string]*journal{}
	}
	s.journals[dataset+"/"+key] = j
	return j, nil
}

// forget drops what the sink knows of a partition's journal, after a Land
// that failed midway: the next one reads it again.
func (s *Sink) forget(dataset, key string) {
	s.mu.Lock()
	delete(s.journals, dataset+"/"+key)
	s.mu.Unlock()
}

// refresh brings j up to date with the file: unchanged if its size is
// what j expects, else the records from j.reread on are read (the first of
// them being j's own last record, which a dead appender's late bytes
// would have shifted: a record not at the offset it names is stale).
func (j *journal) refresh(ctx context.Context, st store.Store) error {
	f, err := st.Open(ctx, j.name)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Size() == j.size {
		j.reread = j.size
		return nil
	}
	if f.Size() < j.size {
		return fmt.Errorf("%w: %s shrank from %d to %d bytes", errStale, j.name, j.size, f.Size())
	}
	buf := make([]byte, f.Size()-j.reread)
	if _, err := f.ReadAt(buf, j.reread); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: read %s: %v", errStale, j.name, err)
	}
	from := j.reread
	j.size = j.reread
	return j.apply(buf, from)
}

// findJournal lists the dataset's journals: exactly one of the partition
// is read; none, or more than one (a rebuild that died before retiring the
// old one), is stale. It deletes the leftovers of such a rebuild.
func (s *Sink) findJournal(ctx context.Context, dataset, key, topic string, partition int32) (*journal, error) {
	entries, err := s.store.ReadDir(ctx, dataset+"/"+journalDir)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, e := range entries {
		id, ok := journalID(e.Name, key)
		switch {
		case !ok:
		case strings.HasSuffix(id, ".tmp"):
			if err := s.store.Remove(ctx, dataset+"/"+journalDir+"/"+e.Name); err != nil {
				return nil, err
			}
		default:
			found = append(found, e.Name)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%w: %d journals of %s %s", errStale, len(found), dataset, key)
	}
	j := &journal{dataset: dataset, key: key, topic: topic, partition: partition, name: dataset + "/" + journalDir + "/" + found[0]}
	if err := j.refresh(ctx, s.store); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %v", errStale, err)
		}
		return nil, err
	}
	if j.size == 0 {
		return nil, fmt.Errorf("%w: %s is empty", errStale, j.name)
	}
	return j, nil
}

// journalID returns the part of a file name in _locks/ after the
// partition's key: "<id>.landed" for a journal, "<id>.tmp" for one being
// written.
func journalID(name, key string) (string, bool) {
	id, ok := strings.CutPrefix(name, key+".")
	return id, ok && (strings.HasSuffix(id, journalSuffix) || strings.HasSuffix(id, ".tmp"))
}

// verify looks for the last file of the last land record: present, every
// file of that Land is (they are renamed in order); missing, that Land
// died or failed midway and the journal is stale.
func (j *journal) verify(ctx context.Context, st store.Store) error {
	f, err := st.Open(ctx, j.dataset+"/"+j.check)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: the last landing of %s (%s) did not finish", errStale, j.name, j.check)
	}
	if err != nil {
		return err
	}
	f.Close()
	j.check = ""
	return nil
}

// rebuild starts a new journal from the file names, the truth, after
// removing the temporary files of a landing that died.
func (s *Sink) rebuild(ctx context.Context, dataset, key, topic string, partition int32, why error) (*journal, error) {
	start := time.Now()
	landed, err := s.ranges(ctx, dataset, topic, partition)
	if err != nil {
		return nil, err
	}
	if err := s.removeTemp(ctx, dataset, key); err != nil {
		return nil, err
	}
	j, err := s.startJournal(ctx, &journal{dataset: dataset, key: key, topic: topic, partition: partition}, landed.merged())
	if err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if len(landed) == 0 {
		level = slog.LevelDebug // a new dataset or partition
	}
	s.log.Log(ctx, level, "rebuilt the landed-range journal from the file names", "dataset", dataset, "partition", key,
		"reason", strings.TrimPrefix(why.Error(), errStale.Error()+": "), "files", len(landed), "took", time.Since(start))
	return j, nil
}

// startJournal writes a new incarnation of old's journal holding landed,
// renames it into place and deletes every other incarnation, in that
// order: until the others are gone nobody appends to the new one, and a
// reader that finds two rebuilds.
func (s *Sink) startJournal(ctx context.Context, old *journal, landed ranges) (*journal, error) {
	j := &journal{dataset: old.dataset, key: old.key, topic: old.topic, partition: old.partition, landed: landed}
	id := randomSuffix()
	dir := j.dataset + "/" + journalDir
	j.name = dir + "/" + j.key + "." + id + journalSuffix
	tmp := dir + "/" + j.key + "." + id + ".tmp"
	data := appendRecord(nil, 0, "journal", j.key, journalVersion)
	for rest := landed; len(rest) > 0; rest = rest[min(len(rest), rangesPerLine):] {
		var fields []string
		for _, r := range rest[:min(len(rest), rangesPerLine)] {
			fields = append(fields, strconv.FormatInt(r.first, 10)+"-"+strconv.FormatInt(r.last, 10))
		}
		data = appendRecord(data, int64(len(data)), "ranges", fields...)
	}
	if err := writeAll(ctx, s.store, tmp, s.store.Create, data); err != nil {
		return nil, err
	}
	if err := s.store.Rename(ctx, tmp, j.name); err != nil {
		return nil, err
	}
	entries, err := s.store.ReadDir(ctx, dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if _, ok := journalID(e.Name, j.key); ok && dir+"/"+e.Name != j.name {
			if err := s.store.Remove(ctx, dir+"/"+e.Name); err != nil {
				return nil, err
			}
		}
	}
	j.size, j.reread, j.snapshot = int64(len(data)), int64(len(data)), int64(len(data))
	return j, nil
}

// intend appends the land record of names, the files a Land is about to
// rename into place, in that order.
func (j *journal) intend(ctx context.Context, st store.Store, names []string) error {
	rec := appendRecord(nil, j.size, "land", names...)
	if err := writeAll(ctx, st, j.name, st.Append, rec); err != nil {
		return err
	}
	// The record is read back next time unless the size proves it sits
	// where it says (see refresh).
	j.reread = j.size
	j.size += int64(len(rec))
	j.check = names[len(names)-1]
	return nil
}

// landedAll records that every file of the last land record is in place.
func (j *journal) landedAll(names []string) {
	for _, name := range names {
		r, _ := j.parseName(name)
		j.landed.add(r)
	}
	j.check = ""
}

func writeAll(ctx context.Context, st store.Store, name string, open func(context.Context, string) (io.WriteCloser, error), data []byte) error {
	w, err := open(ctx, name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// appendRecord appends one line: off, kind, fields, the CRC-32C of those.
func appendRecord(dst []byte, off int64, kind string, fields ...string) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, off, 10)
	dst = append(dst, ' ')
	dst = append(dst, kind...)
	for _, f := range fields {
		dst = append(dst, ' ')
		dst = append(dst, f...)
	}
	sum := crc32.Checksum(dst[start:], castagnoli)
	return fmt.Appendf(dst, " %08x\n", sum)
}

// apply reads the records in data, which starts at offset from of the
// journal, into j. Anything but whole, valid records, each at the offset
// it names, is stale.
func (j *journal) apply(data []byte, from int64) error {
	for len(data) > 0 {
		line, rest, ok := bytes.Cut(data, []byte{'\n'})
		if !ok {
			return fmt.Errorf("%w: %s ends in a torn record at %d", errStale, j.name, from)
		}
		if err := j.applyLine(string(line), from); err != nil {
			return fmt.Errorf("%w: %s at %d: %v", errStale, j.name, from, err)
		}
		from += int64(len(line)) + 1
		data = rest
		j.size, j.reread = from, from
	}
	return nil
}

func (j *journal) applyLine(line string, at int64) error {
	n := len(line) - len(" 01234567")
	if n < 0 || line[n] != ' ' || fmt.Sprintf("%08x", crc32.Checksum([]byte(line[:n]), castagnoli)) != line[n+1:] {
		return errors.New("bad checksum")
	}
	fields := strings.Split(line[:n], " ")
	if len(fields) < 2 || fields[0] != strconv.FormatInt(at, 10) {
		return errors.New("not at the offset it names")
	}
	kind, args := fields[1], fields[2:]
	switch {
	case kind == "journal" && at == 0:
		if len(args) != 2 || args[0] != j.key || args[1] != journalVersion {
			return fmt.Errorf("header %q is not version %s of %s", args, journalVersion, j.key)
		}
	case kind == "ranges" && at > 0 && at == j.snapshot:
		for _, a := range args {
			first, last, _ := strings.Cut(a, "-")
			f, err1 := strconv.ParseInt(first, 10, 64)
			l, err2 := strconv.ParseInt(last, 10, 64)
			if err1 != nil || err2 != nil || f > l {
				return fmt.Errorf("bad range %q", a)
			}
			j.landed.add(offsetRange{f, l})
		}
	case kind == "land" && at > 0 && len(args) > 0:
		for _, name := range args {
			r, ok := j.parseName(name)
			if !ok {
				return fmt.Errorf("bad file name %q", name)
			}
			j.landed.add(r)
		}
		j.check = args[len(args)-1]
	default:
		return fmt.Errorf("unexpected %s record", kind)
	}
	if kind != "land" {
		j.snapshot = at + int64(len(line)) + 1
	}
	return nil
}

// landedName is a landed file's name relative to its dataset.
func landedName(topic string, partition int32, date time.Time, first, last int64) string {
	return "dt=" + dateOf(date) + "/" + FileName(topic, partition, first, last)
}

// parseName parses a name of landedName, of j's partition, in its
// canonical form only (it becomes a path).
func (j *journal) parseName(name string) (offsetRange, bool) {
	dir, base, _ := strings.Cut(name, "/")
	date, err := time.Parse(time.DateOnly, strings.TrimPrefix(dir, "dt="))
	t, p, first, last, ok := ParseFileName(base)
	if err != nil || !ok || t != j.topic || p != j.partition || name != landedName(t, p, date, first, last) {
		return offsetRange{}, false
	}
	return offsetRange{first, last}, true
}
