package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/filter"
	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/esm"
	"github.com/questlog/questlog/local/template"
)

// jobSpec is what the template says a Kafka-triggered job lands: the
// events its mapping delivers and its FILTER keeps (every event when it
// has none) into DATASET.
type jobSpec struct {
	function, dataset, group, topic string
	predicate                       *filter.Predicate // nil keeps every event
	delivers                        func(value []byte) bool
}

// loadJobs reads the jobs from the template, as the emulator does.
func loadJobs(projectDir string) ([]jobSpec, error) {
	tpl, err := template.Load(filepath.Join(projectDir, "template.yaml"), template.Options{})
	if err != nil {
		return nil, err
	}
	var jobs []jobSpec
	for _, fn := range tpl.Functions {
		dataset := fn.Environment["DATASET"]
		for _, ev := range fn.KafkaEvents {
			if !ev.Enabled || dataset == "" {
				continue
			}
			m := esm.Mapping{Function: fn.LogicalID, Topic: ev.Topic, ConsumerGroupID: ev.ConsumerGroupID, FilterPatterns: ev.FilterPatterns}
			delivers, err := m.Delivers()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fn.LogicalID, err)
			}
			j := jobSpec{function: fn.LogicalID, dataset: dataset, group: m.GroupID(), topic: ev.Topic, delivers: delivers}
			if expr := fn.Environment["FILTER"]; expr != "" {
				if j.predicate, err = filter.Compile(expr); err != nil {
					return nil, fmt.Errorf("%s: %w", fn.LogicalID, err)
				}
			}
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return nil, errors.New("the template has no Kafka-triggered job with a DATASET")
	}
	for _, j := range jobs[1:] {
		if j.topic != jobs[0].topic {
			return nil, fmt.Errorf("jobs read %s and %s; the harness checks jobs of one events topic", jobs[0].topic, j.topic)
		}
	}
	return jobs, nil
}

// topicRecord is one record of the events topic as the jobs see it.
type topicRecord struct {
	partition int32
	offset    int64
	value     []byte // nil: a NULL value
	valid     bool   // a valid event, decoded below
	event     event.Event
	munged    event.Event
}

type position struct {
	partition int32
	offset    int64
}

func (r *topicRecord) pos() position { return position{r.partition, r.offset} }

// eventsTopic is the events topic read back.
type eventsTopic struct {
	records []topicRecord
	ids     map[string]int // event id → records holding it
}

func readEventsTopic(ctx context.Context, rd *kafkaReader, topic string) (*eventsTopic, error) {
	t := &eventsTopic{ids: map[string]int{}}
	err := rd.each(ctx, topic, func(r *kgo.Record) {
		rec := topicRecord{partition: r.Partition, offset: r.Offset, value: r.Value}
		if e, err := event.Decode(r.Value); err == nil {
			rec.valid, rec.event, rec.munged = true, e, event.Munge(e)
			t.ids[e.EventID]++
		}
		t.records = append(t.records, rec)
	})
	return t, err
}

// datasetCheck compares one job's dataset with what it should hold.
type datasetCheck struct {
	Dataset, Function string
	// Players: an inventory snapshot dataset, counted in players rather
	// than events.
	Players                                           bool
	Expected, Rows, Distinct, Lost, Duplicated, Extra int
	// Dead letters: records that are not events, which the job must set
	// aside with a reason; DeadLost of them are nowhere.
	DeadExpected, DeadLanded, DeadLost int
}

func (c datasetCheck) failed() bool {
	return c.Lost > 0 || c.Duplicated > 0 || c.Extra > 0 || c.DeadLost > 0
}

// deadLetters counts the dead letters of every job by reason.
type deadLetters map[string]map[position]int // reason → record → jobs

// checkDataset compares a job's dataset and dead letters with the topic.
func checkDataset(ctx context.Context, s *sink.Sink, j jobSpec, topic *eventsTopic, want map[string]expectedInventory, dead deadLetters) (datasetCheck, error) {
	c := datasetCheck{Dataset: j.dataset, Function: j.function}
	expected, expectedDead := map[string]bool{}, map[position]bool{}
	for i := range topic.records {
		r := &topic.records[i]
		if !j.delivers(r.value) {
			continue
		}
		if !r.valid {
			expectedDead[r.pos()] = true
			continue
		}
		if j.predicate == nil {
			expected[r.event.EventID] = true
		} else if keep, err := j.predicate.Match(&r.munged); err == nil && keep {
			expected[r.event.EventID] = true
		}
	}

	kind, err := datasetKind(ctx, s, j.dataset)
	if err != nil {
		return c, err
	}
	if kind == snapshotRows {
		if err := checkSnapshots(ctx, s, &c, want); err != nil {
			return c, err
		}
	} else {
		rows, err := sink.ReadDataset[event.Row](ctx, s, j.dataset)
		if err != nil {
			return c, err
		}
		got := map[string]int{}
		for _, r := range rows {
			got[r.EventID]++
		}
		c.Expected, c.Rows, c.Distinct = len(expected), len(rows), len(got)
		c.Duplicated = c.Rows - c.Distinct
		for id := range expected {
			if got[id] == 0 {
				c.Lost++
			}
		}
		for id := range got {
			if !expected[id] {
				c.Extra++
			}
		}
	}

	rejected, err := sink.ReadDataset[job.Rejected](ctx, s, sink.RejectedDataset(j.dataset))
	if err != nil {
		return c, err
	}
	landed := map[position]bool{}
	for _, r := range rejected {
		p := position{r.KafkaPartition, r.KafkaOffset}
		landed[p] = true
		reason := normalizeReason(r.Reason)
		if dead[reason] == nil {
			dead[reason] = map[position]int{}
		}
		dead[reason][p]++
	}
	c.DeadExpected, c.DeadLanded = len(expectedDead), len(landed)
	for p := range expectedDead {
		if !landed[p] {
			c.DeadLost++
		}
	}
	return c, nil
}

type rowKind int

const (
	eventRows rowKind = iota
	snapshotRows
)

// datasetKind tells an event dataset from an inventory snapshot dataset by
// the columns of its first file; a dataset without files holds events.
func datasetKind(ctx context.Context, s *sink.Sink, dataset string) (rowKind, error) {
	files, err := s.Files(ctx, dataset)
	if err != nil || len(files) == 0 {
		return eventRows, err
	}
	f, err := s.Store().Open(ctx, files[0])
	if err != nil {
		return eventRows, err
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size())
	if err != nil {
		return eventRows, fmt.Errorf("%s is not Parquet: %w", files[0], err)
	}
	columns := map[string]bool{}
	for _, f := range pf.Schema().Fields() {
		columns[f.Name()] = true
	}
	if !columns["event_id"] && columns["items"] {
		return snapshotRows, nil
	}
	return eventRows, nil
}

// checkSnapshots checks an inventory snapshot dataset, per player: every
// player with purchases has a latest snapshot equal to the inventory the
// purchases add up to, and no snapshot landed twice.
func checkSnapshots(ctx context.Context, s *sink.Sink, c *datasetCheck, want map[string]expectedInventory) error {
	rows, err := sink.ReadDataset[inventory.Snapshot](ctx, s, c.Dataset)
	if err != nil {
		return err
	}
	c.Players = true
	type key struct {
		user string
		p    position
	}
	seen := map[key]bool{}
	latest := map[string]inventory.Snapshot{}
	for _, r := range rows {
		k := key{r.UserName, position{r.KafkaPartition, r.KafkaOffset}}
		if seen[k] {
			c.Duplicated++
		}
		seen[k] = true
		if l, ok := latest[r.UserName]; !ok || r.Purchases > l.Purchases {
			latest[r.UserName] = r
		}
	}
	c.Rows, c.Distinct = len(rows), len(latest)
	for user, w := range want {
		if w.Purchases == 0 {
			if _, ok := latest[user]; ok {
				c.Extra++ // a snapshot of a player whose purchases were all invalid
			}
			continue
		}
		c.Expected++
		l, ok := latest[user]
		if !ok || !w.equal(l.Items, l.SpentCents, l.Purchases) {
			c.Lost++ // missing or stale
		}
	}
	return nil
}

var (
	quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'`)
	digits = regexp.MustCompile(`\d+`)
)

// normalizeReason groups dead-letter reasons that differ only in the
// values they quote or the positions they name.
func normalizeReason(r string) string {
	r = quoted.ReplaceAllString(r, `"…"`)
	r = digits.ReplaceAllString(r, "N")
	return clip(r, 72)
}

// memStore is the dataset store with every Parquet file read whole, once,
// ahead of the checks: several checks read each file, and fetching many
// small files in parallel is far faster than a few ReadAt calls each, one
// file at a time, over HDFS.
type memStore struct {
	store.Store
	files map[string][]byte
}

type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

func (m *memStore) Open(ctx context.Context, name string) (store.File, error) {
	if b, ok := m.files[name]; ok {
		return memFile{bytes.NewReader(b)}, nil
	}
	return m.Store.Open(ctx, name)
}

// prefetch reads every Parquet file under the store's root.
func prefetch(ctx context.Context, st store.Store) (*memStore, error) {
	var names []string
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := st.ReadDir(ctx, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := strings.TrimPrefix(dir+"/"+e.Name, "/")
			switch {
			case e.IsDir:
				if err := walk(name); err != nil {
					return err
				}
			case strings.HasSuffix(e.Name, ".parquet"):
				names = append(names, name)
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	m := &memStore{Store: st, files: make(map[string][]byte, len(names))}
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for name := range work {
				b, err := readWhole(ctx, st, name)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				m.files[name] = b
				mu.Unlock()
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	return m, firstErr
}

func readWhole(ctx context.Context, st store.Store, name string) ([]byte, error) {
	f, err := st.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, f.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// scanParquet searches every Parquet file for the secrets, value by
// value, and records the datasets it found them in.
func scanParquet(m *memStore, sec *secrets, found leaks) error {
	for name, data := range m.files {
		err := eachByteArray(name, data, func(v []byte) {
			for _, s := range sec.in(v) {
				found.add(s, "parquet "+datasetOf(name))
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// datasetOf returns the dataset of a file: the path before its dt= part.
func datasetOf(name string) string {
	if i := strings.Index(name, "/dt="); i >= 0 {
		return name[:i]
	}
	return name
}

// eachByteArray calls fn with every string and binary value of a Parquet
// file, whatever its schema.
func eachByteArray(name string, data []byte, fn func([]byte)) error {
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("%s is not Parquet: %w", name, err)
	}
	values := make([]parquet.Value, 1024)
	for _, rg := range pf.RowGroups() {
		for _, chunk := range rg.ColumnChunks() {
			if chunk.Type().Kind() != parquet.ByteArray {
				continue
			}
			pages := chunk.Pages()
			for {
				page, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					pages.Close()
					return fmt.Errorf("read %s: %w", name, err)
				}
				r := page.Values()
				for {
					n, err := r.ReadValues(values)
					for _, v := range values[:n] {
						if !v.IsNull() {
							fn(v.ByteArray())
						}
					}
					if err != nil {
						break
					}
				}
				parquet.Release(page)
			}
			pages.Close()
		}
	}
	return nil
}

// scanKafka searches every record of every topic for the secrets. The ones
// the Kafka corpus put in the events topic's record headers belong there;
// anything else is a leak.
func scanKafka(ctx context.Context, rd *kafkaReader, eventsTopic string, sec *secrets, found leaks) (records int, err error) {
	topics, err := rd.adm.ListTopics(ctx)
	if err != nil {
		return 0, err
	}
	names := topics.Names()
	sort.Strings(names)
	for _, topic := range names {
		err := rd.each(ctx, topic, func(r *kgo.Record) {
			records++
			for _, part := range [][]byte{r.Key, r.Value} {
				for _, s := range sec.in(part) {
					found.add(s, "kafka "+topic)
				}
			}
			for _, h := range r.Headers {
				for _, s := range sec.in([]byte(h.Key + ": " + string(h.Value))) {
					if topic == eventsTopic && sec.get(s).inEventHeaders {
						continue
					}
					found.add(s, "kafka "+topic+" headers")
				}
			}
		})
		if err != nil {
			return records, err
		}
	}
	return records, nil
}
