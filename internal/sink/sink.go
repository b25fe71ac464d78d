// Package sink lands rows as Parquet files in a store, exactly once per
// Kafka record even when batches are redelivered.
//
// Layout (Hive-style date partitions, so engines prune by date):
//
//	<root>/<dataset>/dt=YYYY-MM-DD/<topic>+<partition>+<firstOffset>+<lastOffset>.parquet
//
// How exactly-once works: all writes of one (dataset, topic, partition) are
// serialized by a store lock (flock locally, an HDFS lease on HDFS), both
// released if the holder dies. Under the lock, the offset ranges already
// landed are known (see below); a record inside one of them was handled
// before (landed, or dropped by the job's filter, which decides the same
// way every time) and is skipped. The rest are written in offset order,
// each file under a temporary name and renamed into place, never over
// another file. A file holds a run of rows that share a date and straddle
// no landed range, so landed ranges never overlap: redelivering any batch,
// an overlapping one with other boundaries, or an older one after a newer
// (a replay beside the live mapping) neither duplicates nor loses a row,
// and a crash between two renames leaves only whole files.
//
// The file names are the truth about what landed: Hive, Spark, DuckDB and
// the lake read them. But listing every file of a dataset under the lock on
// every batch costs more the more files it holds, tens of thousands a day
// under load. So each partition keeps a journal beside its lock,
// <dataset>/_locks/<topic>+<partition>.<id>.landed, a write-ahead log of
// the files its landings rename into place (format in journal.go):
//
//   - A Land appends one record, the names of the files it is about to
//     rename, in order; the append is durable before the first rename.
//   - The next holder checks the last record: if its last file is in place,
//     that landing finished (it renames in order); if not, it died or failed
//     midway and the holder rebuilds the journal (below). Every earlier
//     record was checked by the holder that appended the next one.
//   - A record names its own offset in the journal, so bytes that an
//     appender which died left behind, and that HDFS only shows once the
//     next appender has recovered the file, shift every later record off
//     its offset: caught, and rebuilt.
//   - A sink keeps each partition's ranges between calls (a warm execution
//     environment lands batch after batch) and knows the journal unchanged
//     while it has the size the sink left it at; otherwise it reads only
//     what was appended since. A landing costs the same whatever the
//     dataset holds.
//
// Rebuilding is the listing: when the journal is missing (a new partition,
// a dataset landed before journals, a journal deleted by hand), damaged,
// doubled, or its last landing did not finish, the ranges are read from the
// file names, the temporary files of the landing that died are removed, and
// a new journal holding the ranges is written under a temporary name,
// renamed into place, and only then the old ones are deleted. A journal
// grown past twice its snapshot plus Sink.JournalSlack is compacted the
// same way from its ranges, so a cold sink reads little. A crash at any
// step of this leaves the old journal or the new one in force, or both,
// which the next reader rebuilds; sinktest kills a landing at every step.
//
// The journal is questlog's record of what it landed, and assumes nothing
// else lands or deletes a partition's files. A file deleted by hand stays
// landed (a replay does not land its records again) and one added by hand
// goes unnoticed, unless it is the partition's latest file. To make the
// sink read the names again, delete the partition's journal, or every
// _locks/*.landed of the dataset: the next landing rebuilds it.
//
// A batch is taken to hold every record of its partition between its first
// and last offsets, as a Kafka batch does.
package sink

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/questlog/questlog/internal/kafkaconf"
	"github.com/questlog/questlog/internal/store"
)

// Record is one row to land and the Kafka offset it came from.
type Record[T any] struct {
	Offset int64
	Date   time.Time // names the dt= partition (its UTC date)
	Row    T
}

// Sink writes datasets into a store. It keeps each partition's landed
// ranges between calls (a function's warm execution environment lands
// batch after batch), checked against the partition's journal under its
// lock.
type Sink struct {
	store store.Store
	log   *slog.Logger

	// JournalSlack is how many bytes of land records a partition's
	// journal gathers beyond twice its snapshot before it is compacted
	// into a new one; zero means 64 KiB.
	JournalSlack int64

	mu       sync.Mutex
	journals map[string]*journal // by dataset/topic+partition
}

// New returns a sink writing to st.
func New(st store.Store, log *slog.Logger) *Sink {
	if log == nil {
		log = slog.Default()
	}
	return &Sink{store: st, log: log}
}

// Store returns the sink's store.
func (s *Sink) Store() store.Store { return s.store }

// Landed reports what one Land call did.
type Landed struct {
	Files   []string // names of the files written, relative to the root
	Rows    int      // rows written
	Skipped int      // records at or below the watermark, landed before
}

var (
	datasetSegment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.=-]{0,127}$`)
)

// ValidateDataset checks a dataset name: up to three slash-separated
// segments of letters, digits, '_', '.', '=', '-', none starting "dt=".
func ValidateDataset(name string) error {
	segs := strings.Split(name, "/")
	if len(segs) > 3 {
		return fmt.Errorf("dataset %q: at most three segments", name)
	}
	for _, seg := range segs {
		if !datasetSegment.MatchString(seg) || strings.HasPrefix(seg, "dt=") || seg == "_tmp" || seg == "_locks" {
			return fmt.Errorf("dataset %q: segment %q must be letters, digits, '_', '.', '=' or '-' and not dt=, _tmp or _locks", name, seg)
		}
	}
	return nil
}

// RejectedDataset is the dead-letter dataset of a job writing dataset: a
// Hive partition of _rejected, so the dead letters of every job read as
// one table with a dataset column.
func RejectedDataset(dataset string) string { return "_rejected/dataset=" + dataset }

// Land writes records, all from one topic partition, to dataset exactly
// once. Records may come in any order and may repeat.
func Land[T any](ctx context.Context, s *Sink, dataset, topic string, partition int32, records []Record[T]) (Landed, error) {
	if err := ValidateDataset(dataset); err != nil {
		return Landed{}, err
	}
	if err := kafkaconf.ValidateTopic(topic); err != nil {
		return Landed{}, err
	}
	if len(records) == 0 {
		return Landed{}, nil
	}
	key := fmt.Sprintf("%s+%d", topic, partition)
	unlock, err := s.store.Lock(ctx, dataset+"/_locks/"+key)
	if err != nil {
		return Landed{}, fmt.Errorf("land %s %s: %w", dataset, key, err)
	}
	defer func() {
		if err := unlock(); err != nil {
			s.log.Warn("releasing dataset lock failed", "dataset", dataset, "partition", key, "err", err)
		}
	}()
	j, err := s.landedRanges(ctx, dataset, topic, partition)
	if err != nil {
		return Landed{}, fmt.Errorf("land %s %s: %w", dataset, key, err)
	}
	pending := uncovered(j.landed, records)
	result := Landed{Skipped: len(records) - len(pending)}
	if len(pending) == 0 {
		return result, nil
	}
	var files [][]Record[T]
	var names []string
	for rest := pending; len(rest) > 0; {
		file := run(j.landed, rest)
		files = append(files, file)
		names = append(names, landedName(topic, partition, file[0].Date, file[0].Offset, file[len(file)-1].Offset))
		rest = rest[len(file):]
	}
	if err := j.intend(ctx, s.store, names); err != nil {
		s.forget(dataset, key)
		return result, fmt.Errorf("land %s %s: journal: %w", dataset, key, err)
	}
	for i, file := range files {
		name := dataset + "/" + names[i]
		if err := writeFile(ctx, s.store, dataset, key, name, file); err != nil {
			s.forget(dataset, key)
			return result, fmt.Errorf("land %s %s offsets %d-%d: %w", dataset, key, file[0].Offset, file[len(file)-1].Offset, err)
		}
		result.Files = append(result.Files, name)
		result.Rows += len(file)
	}
	j.landedAll(names)
	return result, nil
}

func dateOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// FileName is the name of a landed file within its date partition.
func FileName(topic string, partition int32, first, last int64) string {
	return fmt.Sprintf("%s+%d+%d+%d.parquet", topic, partition, first, last)
}

// ParseFileName is the inverse of FileName.
func ParseFileName(name string) (topic string, partition int32, first, last int64, ok bool) {
	base, found := strings.CutSuffix(name, ".parquet")
	parts := strings.Split(base, "+")
	if !found || len(parts) != 4 {
		return "", 0, 0, 0, false
	}
	p, err1 := strconv.ParseInt(parts[1], 10, 32)
	f, err2 := strconv.ParseInt(parts[2], 10, 64)
	l, err3 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || f > l {
		return "", 0, 0, 0, false
	}
	return parts[0], int32(p), f, l, true
}

// Watermark returns the highest offset of topic/partition landed in
// dataset, or -1 if none.
func (s *Sink) Watermark(ctx context.Context, dataset, topic string, partition int32) (int64, error) {
	landed, err := s.ranges(ctx, dataset, topic, partition)
	if err != nil || len(landed) == 0 {
		return -1, err
	}
	return landed[len(landed)-1].last, nil
}

func (s *Sink) ranges(ctx context.Context, dataset, topic string, partition int32) (ranges, error) {
	var landed ranges
	err := s.eachFile(ctx, dataset, func(dir, name string) {
		if t, p, first, last, ok := ParseFileName(name); ok && t == topic && p == partition {
			landed = append(landed, offsetRange{first, last})
		}
	})
	landed.sort()
	return landed, err
}

// Files lists the landed files of dataset, oldest partition first.
func (s *Sink) Files(ctx context.Context, dataset string) ([]string, error) {
	if err := ValidateDataset(dataset); err != nil {
		return nil, err
	}
	var files []string
	err := s.eachFile(ctx, dataset, func(dir, name string) {
		if _, _, _, _, ok := ParseFileName(name); ok {
			files = append(files, dir+"/"+name)
		}
	})
	return files, err
}

func (s *Sink) eachFile(ctx context.Context, dataset string, fn func(dir, name string)) error {
	parts, err := s.store.ReadDir(ctx, dataset)
	if err != nil {
		return fmt.Errorf("list %s: %w", dataset, err)
	}
	for _, part := range parts {
		if !part.IsDir || !strings.HasPrefix(part.Name, "dt=") {
			continue
		}
		dir := dataset + "/" + part.Name
		files, err := s.store.ReadDir(ctx, dir)
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		for _, f := range files {
			if !f.IsDir {
				fn(dir, f.Name)
			}
		}
	}
	return nil
}

// removeTemp deletes temporary files a crashed holder of this partition's
// lock left behind.
func (s *Sink) removeTemp(ctx context.Context, dataset, key string) error {
	entries, err := s.store.ReadDir(ctx, dataset+"/_tmp")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name, key+"+") {
			if err := s.store.Remove(ctx, dataset+"/_tmp/"+e.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFile writes run under a temporary name and renames it to final.
func writeFile[T any](ctx context.Context, st store.Store, dataset, key, final string, run []Record[T]) error {
	tmp := fmt.Sprintf("%s/_tmp/%s+%s.parquet", dataset, key, randomSuffix())
	w, err := st.Create(ctx, tmp)
	if err != nil {
		return err
	}
	// The Parquet writer writes page by page; batch that into few large
	// writes (syscalls locally, packets on HDFS).
	buf := bufio.NewWriterSize(w, 1<<20)
	if err := Encode(buf, run); err != nil {
		w.Close()
		st.Remove(ctx, tmp)
		return err
	}
	if err := errors.Join(buf.Flush(), w.Close()); err != nil {
		st.Remove(ctx, tmp)
		return err
	}
	if err := st.Rename(ctx, tmp, final); err != nil {
		st.Remove(ctx, tmp)
		return err
	}
	return nil
}

// Compression is the codec of every column: zstd at its fastest level
// compresses better than snappy at a similar speed, and Spark, Trino,
// DuckDB and pyarrow all read it.
var Compression = &zstd.Codec{Level: zstd.SpeedFastest}

// Encode writes the rows of run to w as one Parquet file.
func Encode[T any](w io.Writer, run []Record[T]) error {
	pool := writerPool[T]()
	pw, _ := pool.Get().(*parquet.GenericWriter[T])
	if pw == nil {
		pw = parquet.NewGenericWriter[T](w, parquet.Compression(Compression), parquet.CreatedBy("questlog", "1", ""))
	} else {
		pw.Reset(w)
	}
	defer pool.Put(pw)
	// Rows go through a small buffer rather than one copy of the whole run.
	buf := make([]T, 0, min(len(run), 512))
	for i := range run {
		buf = append(buf, run[i].Row)
		if len(buf) == cap(buf) || i == len(run)-1 {
			if err := writeRows(pw, buf); err != nil {
				return err
			}
			clear(buf)
			buf = buf[:0]
		}
	}
	return pw.Close()
}

// writerPools keeps Parquet writers between files, one pool per row type:
// a writer's column buffers and dictionaries are much of the cost of a
// file, and a warm execution environment writes the same schema again and
// again.
var writerPools sync.Map // reflect.Type → *sync.Pool

func writerPool[T any]() *sync.Pool {
	p, _ := writerPools.LoadOrStore(reflect.TypeFor[T](), &sync.Pool{})
	return p.(*sync.Pool)
}

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ReadFile reads every row of one landed file.
func ReadFile[T any](ctx context.Context, st store.Store, name string) ([]T, error) {
	f, err := st.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](io.NewSectionReader(f, 0, f.Size()))
	defer r.Close()
	rows := make([]T, r.NumRows())
	for n := 0; n < len(rows); {
		m, err := r.Read(rows[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return rows[:n], nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	return rows, nil
}

// ReadDataset reads every row of dataset.
func ReadDataset[T any](ctx context.Context, s *Sink, dataset string) ([]T, error) {
	files, err := s.Files(ctx, dataset)
	if err != nil {
		return nil, err
	}
	var all []T
	for _, name := range files {
		rows, err := ReadFile[T](ctx, s.store, name)
		if err != nil {
			return nil, err
		}
		all = append(all, rows...)
	}
	return all, nil
}
