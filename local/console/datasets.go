package console

import (
	"context"
	"encoding/binary"
	"fmt"
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
	// footerRead is how much of a file's end one read fetches: the whole
	// footer of a landed file, and all of a small one.
	footerRead = 64 << 10
	// footersPerScan bounds the store reads of one scan: under heavy load
	// the numbers catch up over a few scans instead of costing the
	// pipeline more.
	footersPerScan = 200
)

// How a scan spares the store: a dt directory whose modification time is
// unchanged is not listed again, unless that time was within mtimeSlack
// of the last listing (a change in the same clock tick would not show) or
// every directory is due to be listed afresh (fullListEvery, in case a
// store's clock or directory times cannot be trusted).
const (
	mtimeSlack    = 2 * time.Second
	fullListEvery = time.Minute
)

// timeColumns name the column whose newest value is a dataset's newest
// event, by preference: events, inventory snapshots, dead letters.
var timeColumns = []string{"event_time", "updated_at", "kafka_timestamp"}

// datasets keeps what the console knows about the landed files. Landed
// files never change (they are renamed into place once, never
// overwritten), so each file's footer is read once, and a dt directory is
// listed again only when its modification time moved; the maps hold the
// files and directories that exist, nothing more.
type datasets struct {
	st    store.Store
	names []string

	scanMu sync.Mutex            // one scan at a time
	dirs   map[string]dirListing // by path, e.g. extracted_events/dt=2026-12-04; only the scan uses it
	listed time.Time             // when the last scan listed every directory

	mu      sync.Mutex
	files   map[string]fileMeta    // by path, every dataset and dead-letter dataset
	schemas map[string][]column    // by dataset
	totals  map[string]datasetLive // by dataset, as of the last scan
	scanned time.Time
	listing time.Duration // the last scan's time spent listing (not reading new files)
}

// dirListing is what a scan found in a dt directory.
type dirListing struct {
	mtime    time.Time // the directory's, when listed
	listedAt time.Time
	paths    []string // its files, every one with its footer read
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
	d := &datasets{st: st, names: names, dirs: map[string]dirListing{}, files: map[string]fileMeta{}, schemas: map[string][]column{}}
	d.totals = d.sum(nil)
	return d
}

// scan lists the datasets and their dead letters and reads the footers of
// files it has not seen.
func (d *datasets) scan(ctx context.Context) {
	if d.st == nil {
		return
	}
	d.scanMu.Lock()
	defer d.scanMu.Unlock()
	d.scanLocked(ctx)
}

func (d *datasets) scanLocked(ctx context.Context) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d.mu.Lock()
	known := d.files
	haveSchema := maps.Clone(d.schemas)
	d.mu.Unlock()

	sc := scanning{datasets: d, known: known, haveSchema: haveSchema, full: start.Sub(d.listed) >= fullListEvery,
		found: make(map[string]fileMeta, len(known)), dirs: make(map[string]dirListing, len(d.dirs)),
		schemas: map[string][]column{}, errs: map[string]string{}, budget: footersPerScan}
	for _, name := range d.names {
		for _, ds := range []string{name, sink.RejectedDataset(name)} {
			if err := sc.dataset(ctx, ds); err != nil {
				sc.errs[ds] = err.Error()
			}
		}
	}
	d.dirs = sc.dirs
	if sc.full {
		d.listed = start
	}
	totals := d.sum(sc.found)
	for name, dl := range totals {
		dl.Error = sc.errs[name]
		totals[name] = dl
	}
	d.mu.Lock()
	d.files = sc.found
	maps.Copy(d.schemas, sc.schemas)
	d.totals = totals
	d.scanned = time.Now()
	d.listing = d.scanned.Sub(start) - sc.reading
	d.mu.Unlock()
}

// scanning is one scan's state.
type scanning struct {
	*datasets
	known      map[string]fileMeta // as of the last scan; read-only
	haveSchema map[string][]column
	full       bool // list every directory, changed or not
	found      map[string]fileMeta
	dirs       map[string]dirListing
	schemas    map[string][]column
	errs       map[string]string
	budget     int           // footers left to read
	reading    time.Duration // spent reading footers
}

func (sc *scanning) dataset(ctx context.Context, ds string) error {
	parts, err := sc.st.ReadDir(ctx, ds)
	if err != nil {
		return fmt.Errorf("list %s: %w", ds, err)
	}
	for _, part := range parts {
		dt, ok := strings.CutPrefix(part.Name, "dt=")
		if !part.IsDir || !ok {
			continue
		}
		dir := ds + "/" + part.Name
		if prev, ok := sc.datasets.dirs[dir]; ok && !sc.full && prev.mtime.Equal(part.ModTime) && prev.listedAt.Sub(part.ModTime) > mtimeSlack {
			for _, path := range prev.paths {
				sc.found[path] = sc.known[path]
			}
			sc.dirs[dir] = prev
			continue
		}
		listing := dirListing{mtime: part.ModTime, listedAt: time.Now()}
		complete, err := sc.dir(ctx, ds, dir, dt, &listing)
		if err != nil {
			return err
		}
		if complete {
			sc.dirs[dir] = listing
		}
	}
	return nil
}

// dir lists a dt directory and reads the footers of its new files, as many
// as the budget allows; complete is false when some were left for later.
func (sc *scanning) dir(ctx context.Context, ds, dir, dt string, listing *dirListing) (complete bool, err error) {
	entries, err := sc.st.ReadDir(ctx, dir)
	if err != nil {
		return false, fmt.Errorf("list %s: %w", dir, err)
	}
	complete = true
	for _, e := range entries {
		topic, p, first, last, ok := sink.ParseFileName(e.Name)
		if e.IsDir || !ok {
			continue
		}
		path := dir + "/" + e.Name
		meta, seen := sc.known[path]
		if !seen || meta.Bytes != e.Size {
			if sc.budget <= 0 {
				complete = false // a later scan reads it
				continue
			}
			sc.budget--
			meta = fileMeta{Path: path, Dt: dt, Topic: topic, Partition: p, First: first, Last: last,
				Bytes: e.Size, Modified: e.ModTime.UnixMilli(), dataset: ds}
			_, have := sc.haveSchema[ds]
			if _, now := sc.schemas[ds]; now {
				have = true
			}
			began := time.Now()
			cols, err := readFooter(ctx, sc.st, &meta, !have)
			sc.reading += time.Since(began)
			if err != nil {
				return false, err
			}
			if !have {
				sc.schemas[ds] = cols
			}
		}
		sc.found[path] = meta
		listing.paths = append(listing.paths, path)
	}
	return complete, nil
}

// readFooter fills a file's row count and newest event from its Parquet
// footer, and returns its columns when asked to.
func readFooter(ctx context.Context, st store.Store, meta *fileMeta, schema bool) ([]column, error) {
	f, err := st.Open(ctx, meta.Path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", meta.Path, err)
	}
	defer f.Close()
	// One read of the file's end: each read of a remote file costs a
	// round trip to the store, whatever its length.
	pf, err := parquet.OpenFile(f, f.Size(), parquet.SkipMagicBytes(true), parquet.OptimisticRead(true), parquet.ReadBufferSize(footerRead),
		parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
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
	if !schema {
		return nil, nil
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

// sum totals each dataset's files.
func (d *datasets) sum(files map[string]fileMeta) map[string]datasetLive {
	out := make(map[string]datasetLive, len(d.names))
	for _, name := range d.names {
		out[name] = datasetLive{FreshnessSec: -1}
	}
	for _, f := range files {
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
	return out
}

// live returns each dataset's totals from the last scan, their freshness
// as of now.
func (d *datasets) live(now time.Time) map[string]datasetLive {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]datasetLive, len(d.totals))
	for name, dl := range d.totals {
		dl.ScannedAt = d.scanned.UnixMilli()
		if dl.NewestEvent > 0 {
			dl.FreshnessSec = max(0, float64(now.UnixMilli()-dl.NewestEvent)/1000)
		}
		out[name] = dl
	}
	return out
}

// due says whether the datasets should be scanned again: a scan period
// since the last, or longer when listing grew slow (a large lake), so that
// listing takes at most 1/scanShare of the time. New files are read once
// each, whatever the pace.
func (d *datasets) due() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Since(d.scanned) >= max(datasetEvery, scanShare*d.listing)
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
// a page opened before the scanner got to it.
func (d *datasets) scanIfStale(ctx context.Context) {
	if d.st == nil {
		return
	}
	d.scanMu.Lock()
	defer d.scanMu.Unlock()
	d.mu.Lock()
	stale := time.Since(d.scanned) > datasetEvery
	d.mu.Unlock()
	if stale {
		d.scanLocked(ctx)
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
