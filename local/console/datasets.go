package console

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/show"
)

// Bounds of what a dataset page lists and previews.
const (
	listedFiles  = 200
	previewRows  = 50
	rejectedRows = 100
	// wholeFileRead is the largest file whose footer is read by reading
	// the whole file at once.
	wholeFileRead = 1 << 20
	// footersPerScan bounds the store reads of one scan: under heavy load
	// the numbers catch up over a few scans instead of costing the
	// pipeline more.
	footersPerScan = 200
)

// timeColumns name the column whose newest value is a dataset's newest
// event, by preference: events, inventory snapshots, dead letters.
var timeColumns = []string{"event_time", "updated_at", "kafka_timestamp"}

// datasets keeps what the console knows about the landed files. Landed
// files never change (they are renamed into place once, never
// overwritten), so each file's footer is read once; the map holds the
// files that exist, nothing more.
type datasets struct {
	st    store.Store
	names []string

	scanMu sync.Mutex // one scan at a time

	mu      sync.Mutex
	files   map[string]fileMeta // by path, every dataset and dead-letter dataset
	schemas map[string][]column // by dataset
	scanned time.Time
	errs    map[string]string // by dataset: why its last scan failed
}

type fileMeta struct {
	Path        string `json:"path"`
	Dt          string `json:"dt"`
	Topic       string `json:"topic"`
	Partition   int32  `json:"partition"`
	First       int64  `json:"first_offset"`
	Last        int64  `json:"last_offset"`
	Rows        int64  `json:"rows"`
	Bytes       int64  `json:"bytes"`
	Modified    int64  `json:"modified"`     // Unix ms
	NewestEvent int64  `json:"newest_event"` // Unix ms; 0 when unknown
	dataset     string
}

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// datasetLive is a dataset's numbers on the Pipeline page.
type datasetLive struct {
	Rows         int64   `json:"rows"`
	Files        int     `json:"files"`
	Bytes        int64   `json:"bytes"`
	NewestDt     string  `json:"newest_dt"`
	NewestEvent  int64   `json:"newest_event"`
	FreshnessSec float64 `json:"freshness_sec"` // now − newest event; -1 when no event
	Rejected     int64   `json:"rejected"`
	ScannedAt    int64   `json:"scanned_at"`
	Error        string  `json:"error,omitempty"`
}

func newDatasets(st store.Store, names []string) *datasets {
	return &datasets{st: st, names: names, files: map[string]fileMeta{}, schemas: map[string][]column{}, errs: map[string]string{}}
}

// scan lists every dataset and its dead letters and reads the footers of
// files it has not seen.
func (d *datasets) scan(ctx context.Context) {
	if d.st == nil {
		return
	}
	d.scanMu.Lock()
	defer d.scanMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d.mu.Lock()
	known := maps.Clone(d.files)
	d.mu.Unlock()

	found := map[string]fileMeta{}
	schemas := map[string][]column{}
	errs := map[string]string{}
	budget := footersPerScan
	for _, name := range d.names {
		for _, ds := range []string{name, sink.RejectedDataset(name)} {
			if err := d.scanDataset(ctx, ds, known, found, schemas, &budget); err != nil {
				errs[ds] = err.Error()
			}
		}
	}
	d.mu.Lock()
	d.files = found
	for ds, cols := range schemas {
		d.schemas[ds] = cols
	}
	d.errs = errs
	d.scanned = time.Now()
	d.mu.Unlock()
}

func (d *datasets) scanDataset(ctx context.Context, ds string, known, found map[string]fileMeta, schemas map[string][]column, budget *int) error {
	parts, err := d.st.ReadDir(ctx, ds)
	if err != nil {
		return fmt.Errorf("list %s: %w", ds, err)
	}
	for _, part := range parts {
		dt, ok := strings.CutPrefix(part.Name, "dt=")
		if !part.IsDir || !ok {
			continue
		}
		dir := ds + "/" + part.Name
		entries, err := d.st.ReadDir(ctx, dir)
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range entries {
			topic, p, first, last, ok := sink.ParseFileName(e.Name)
			if e.IsDir || !ok {
				continue
			}
			path := dir + "/" + e.Name
			meta, seen := known[path]
			if !seen && *budget <= 0 {
				continue // a later scan reads it
			}
			if !seen || meta.Bytes != e.Size {
				*budget--
				meta = fileMeta{Path: path, Dt: dt, Topic: topic, Partition: p, First: first, Last: last,
					Bytes: e.Size, Modified: e.ModTime.UnixMilli(), dataset: ds}
				cols, err := readFooter(ctx, d.st, &meta)
				if err != nil {
					return err
				}
				if _, have := schemas[ds]; !have {
					schemas[ds] = cols
				}
			}
			found[path] = meta
		}
	}
	return nil
}

// readFooter fills a file's row count and newest event from its Parquet
// footer, and returns its columns.
func readFooter(ctx context.Context, st store.Store, meta *fileMeta) ([]column, error) {
	f, err := st.Open(ctx, meta.Path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", meta.Path, err)
	}
	defer f.Close()
	// A landed file is small: one read of it all costs the store less than
	// the footer's several small reads.
	var r io.ReaderAt = f
	if f.Size() <= wholeFileRead {
		buf := make([]byte, f.Size())
		if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", meta.Path, err)
		}
		r = bytes.NewReader(buf)
	}
	pf, err := parquet.OpenFile(r, f.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s is not a Parquet file: %w", meta.Path, err)
	}
	meta.Rows = pf.NumRows()
	leaves := pf.Schema().Columns()
	for _, name := range timeColumns {
		i := slices.IndexFunc(leaves, func(path []string) bool { return len(path) == 1 && path[0] == name })
		if i < 0 {
			continue
		}
		for _, rg := range pf.Metadata().RowGroups {
			if i < len(rg.Columns) {
				if maxValue := rg.Columns[i].MetaData.Statistics.MaxValue; len(maxValue) == 8 {
					meta.NewestEvent = max(meta.NewestEvent, int64(binary.LittleEndian.Uint64(maxValue)))
				}
			}
		}
		break
	}
	var cols []column
	for _, field := range pf.Schema().Fields() {
		cols = append(cols, column{Name: field.Name(), Type: typeName(field)})
	}
	return append(cols, column{Name: "dt", Type: "STRING (partition)"}), nil
}

// typeName names a column's type as Parquet tools print it.
func typeName(field parquet.Field) string {
	var name string
	if lt := field.Type().LogicalType(); lt != nil {
		name = lt.String()
	} else if field.Leaf() {
		name = field.Type().Kind().String()
	} else {
		name = "GROUP"
	}
	if field.Optional() {
		name += ", optional"
	}
	return name
}

// live returns each dataset's totals from the last scan.
func (d *datasets) live(now time.Time) map[string]datasetLive {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]datasetLive, len(d.names))
	for _, name := range d.names {
		dl := datasetLive{FreshnessSec: -1, ScannedAt: d.scanned.UnixMilli(), Error: d.errs[name]}
		out[name] = dl
	}
	for _, f := range d.files {
		name, rejected := strings.CutPrefix(f.dataset, "_rejected/dataset=")
		dl, ok := out[name]
		if !ok {
			continue
		}
		if rejected {
			dl.Rejected += f.Rows
		} else {
			dl.Rows += f.Rows
			dl.Files++
			dl.Bytes += f.Bytes
			dl.NewestDt = max(dl.NewestDt, f.Dt)
			dl.NewestEvent = max(dl.NewestEvent, f.NewestEvent)
		}
		out[name] = dl
	}
	for name, dl := range out {
		if dl.NewestEvent > 0 {
			dl.FreshnessSec = max(0, float64(now.UnixMilli()-dl.NewestEvent)/1000)
			out[name] = dl
		}
	}
	return out
}

// filesOf returns a dataset's files, sorted by dt, topic, partition and
// offset.
func (d *datasets) filesOf(ds string) []fileMeta {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []fileMeta
	for _, f := range d.files {
		if f.dataset == ds {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b fileMeta) int {
		return cmpFiles(a, b)
	})
	return out
}

func cmpFiles(a, b fileMeta) int {
	if c := strings.Compare(a.Dt, b.Dt); c != 0 {
		return c
	}
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	if a.Partition != b.Partition {
		return int(a.Partition - b.Partition)
	}
	return int(a.First - b.First)
}

// covering finds the file of ds holding topic/partition/offset, listing
// the store afresh so that a file landed a moment ago is found.
func (d *datasets) covering(ctx context.Context, ds, topic string, partition int32, offset int64) (fileMeta, bool, error) {
	parts, err := d.st.ReadDir(ctx, ds)
	if err != nil {
		return fileMeta{}, false, err
	}
	for _, part := range slices.Backward(parts) {
		dt, ok := strings.CutPrefix(part.Name, "dt=")
		if !part.IsDir || !ok {
			continue
		}
		entries, err := d.st.ReadDir(ctx, ds+"/"+part.Name)
		if err != nil {
			return fileMeta{}, false, err
		}
		for _, e := range entries {
			t, p, first, last, ok := sink.ParseFileName(e.Name)
			if ok && t == topic && p == partition && first <= offset && offset <= last {
				return fileMeta{Path: ds + "/" + part.Name + "/" + e.Name, Dt: dt, Topic: t, Partition: p, First: first, Last: last,
					Bytes: e.Size, Modified: e.ModTime.UnixMilli(), dataset: ds}, true, nil
			}
		}
	}
	return fileMeta{}, false, nil
}

type datasetPage struct {
	datasetInfo
	Live       datasetLive `json:"live"`
	Schema     []column    `json:"schema"`
	Partitions []dtSummary `json:"partitions"`
	Files      []fileMeta  `json:"files"` // newest first, at most listedFiles
	FileCount  int         `json:"file_count"`
}

type dtSummary struct {
	Dt    string `json:"dt"`
	Files int    `json:"files"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

func (s *Server) knownDataset(w http.ResponseWriter, r *http.Request) (datasetInfo, bool) {
	name := r.PathValue("name")
	info, ok := s.pipeline.dataset(name)
	if !ok || s.store == nil {
		writeError(w, http.StatusNotFound, "no dataset "+strconv.Quote(name)+" in the pipeline")
	}
	return info, ok
}

// handleDataset serves a dataset's schema, dt partitions and files.
func (s *Server) handleDataset(w http.ResponseWriter, r *http.Request) {
	info, ok := s.knownDataset(w, r)
	if !ok {
		return
	}
	s.datasets.scanIfStale(r.Context())
	page := datasetPage{datasetInfo: info, Live: s.datasets.live(time.Now())[info.Name], Partitions: []dtSummary{}, Files: []fileMeta{}}
	s.datasets.mu.Lock()
	page.Schema = s.datasets.schemas[info.Name]
	s.datasets.mu.Unlock()
	files := s.datasets.filesOf(info.Name)
	page.FileCount = len(files)
	for _, f := range files {
		if n := len(page.Partitions); n == 0 || page.Partitions[n-1].Dt != f.Dt {
			page.Partitions = append(page.Partitions, dtSummary{Dt: f.Dt})
		}
		p := &page.Partitions[len(page.Partitions)-1]
		p.Files++
		p.Rows += f.Rows
		p.Bytes += f.Bytes
	}
	slices.Reverse(page.Partitions)
	slices.SortFunc(files, func(a, b fileMeta) int {
		if a.Modified != b.Modified {
			return int(b.Modified - a.Modified)
		}
		return -cmpFiles(a, b)
	})
	page.Files = append(page.Files, files[:min(len(files), listedFiles)]...)
	writeJSON(w, page)
}

// scanIfStale scans when the last scan is older than a scan period, for
// a page opened before the sampler got to it.
func (d *datasets) scanIfStale(ctx context.Context) {
	d.mu.Lock()
	stale := time.Since(d.scanned) > datasetEvery
	d.mu.Unlock()
	if stale {
		d.scan(ctx)
	}
}

type rowsPage struct {
	Dataset string           `json:"dataset"`
	File    string           `json:"file"`
	Columns []string         `json:"columns"`
	Rows    []map[string]any `json:"rows"`
	Total   int              `json:"total"` // rows in the file
	Match   int              `json:"match"` // index in Rows of the searched event, -1 if none
}

// handleRows previews a file of a dataset: ?file= (default: the newest),
// ?event= to find one event's row in it.
func (s *Server) handleRows(w http.ResponseWriter, r *http.Request) {
	info, ok := s.knownDataset(w, r)
	if !ok {
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	s.datasets.scanIfStale(ctx)
	files := s.datasets.filesOf(info.Name)
	file := r.URL.Query().Get("file")
	if file == "" {
		if len(files) == 0 {
			writeJSON(w, rowsPage{Dataset: info.Name, Columns: []string{}, Rows: []map[string]any{}, Match: -1})
			return
		}
		newest := slices.MaxFunc(files, func(a, b fileMeta) int { return int(a.Modified - b.Modified) })
		file = newest.Path
	} else if !hasFile(files, file) {
		// Only files a listing found: a name from the page never reaches
		// the store unchecked. A file landed since the last scan is found
		// by scanning now.
		s.datasets.scan(ctx)
		if files = s.datasets.filesOf(info.Name); !hasFile(files, file) {
			writeError(w, http.StatusNotFound, "no file "+strconv.Quote(file)+" in "+info.Name)
			return
		}
	}
	page, err := s.rows(ctx, info.Name, file, r.URL.Query().Get("event"))
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, page)
}

func hasFile(files []fileMeta, path string) bool {
	return slices.ContainsFunc(files, func(f fileMeta) bool { return f.Path == path })
}

// rows reads a file and returns its last previewRows rows, or the rows
// around the event when event is set.
func (s *Server) rows(ctx context.Context, dataset, file, event string) (rowsPage, error) {
	all, columns, err := show.ReadFile(ctx, s.store, file)
	if err != nil {
		return rowsPage{}, err
	}
	page := rowsPage{Dataset: dataset, File: file, Columns: columns, Total: len(all), Match: -1}
	from := max(0, len(all)-previewRows)
	if event != "" {
		if i := slices.IndexFunc(all, func(row map[string]any) bool { return row["event_id"] == event }); i >= 0 {
			from = max(0, min(i-previewRows/2, len(all)-previewRows))
			page.Match = i - from
		}
	}
	page.Rows = all[from:min(len(all), from+previewRows)]
	for _, row := range page.Rows {
		displayable(row)
	}
	return page, nil
}

// displayable makes raw bytes (keys, values of dead letters) readable
// text in JSON rather than base64.
func displayable(row map[string]any) {
	for k, v := range row {
		if b, ok := v.([]byte); ok {
			row[k] = printable(b)
		}
	}
}

// handleRejected serves a dataset's newest dead letters with their
// reasons and raw values.
func (s *Server) handleRejected(w http.ResponseWriter, r *http.Request) {
	info, ok := s.knownDataset(w, r)
	if !ok {
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	s.datasets.scanIfStale(ctx)
	files := s.datasets.filesOf(sink.RejectedDataset(info.Name))
	out := rowsPage{Dataset: info.Name, Columns: []string{}, Rows: []map[string]any{}, Match: -1}
	for _, f := range files {
		out.Total += int(f.Rows)
	}
	for _, f := range slices.Backward(files) {
		if len(out.Rows) >= rejectedRows {
			break
		}
		rows, columns, err := show.ReadFile(ctx, s.store, f.Path)
		if err != nil {
			writeError(w, http.StatusBadGateway, err.Error())
			return
		}
		out.Columns = columns
		for _, row := range slices.Backward(rows) {
			if len(out.Rows) < rejectedRows {
				displayable(row)
				out.Rows = append(out.Rows, row)
			}
		}
	}
	writeJSON(w, out)
}
