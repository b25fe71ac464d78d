// Package lake answers SQL over the datasets the functions land: every
// dataset is a table under its own name, with its Hive partition column
// dt; the dead letters of every job are one table, rejected, with a
// dataset column; all_events is the rows of every dataset of events with
// a dataset column.
//
// The engine is DuckDB, in a separate process (questlog-sql, built on
// first use): DuckDB needs cgo and adds tens of megabytes, and the
// emulator and the functions stay pure Go. The engine is sandboxed on the
// lake's local directory: it reads those files and nothing else, and
// refuses statements that would write or reach outside (COPY, EXPORT,
// ATTACH, INSTALL/LOAD, …).
//
// DuckDB cannot read HDFS, so the files of an hdfs:// root are mirrored
// into the data directory before each query that reads them (only new
// files are fetched: landed files never change); a file:// root is read in
// place. Either way a query sees every file landed before it started.
//
// A running emulator lends its console's Client to the command line: a
// SocketServer answers a Remote's questions on a unix socket in the data
// directory, so that a one-shot command need not start an engine.
package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/lake/internal/wire"
)

// Config configures a Client. Zero values are documented defaults.
type Config struct {
	// ProjectDir holds template.yaml (whose jobs declare the datasets that
	// are tables even before they have a file) and the engine's source.
	// Default: ".".
	ProjectDir string
	// DataDir holds the mirror of an hdfs:// root, the built engine and
	// temporary files. Default: <ProjectDir>/.local.
	DataDir string
	// DatasetRoot is where the datasets land: file:///dir, a local path,
	// or hdfs://namenode:port/dir. If empty, Resolve is asked.
	DatasetRoot string
	// Resolve finds the dataset root before each query when DatasetRoot
	// is empty (the command line's: the running emulator's, or the
	// template's, starting the embedded HDFS for the duration). release,
	// if not nil, is called once the query's files are mirrored.
	Resolve func(ctx context.Context) (root string, release func(), err error)
	// Template is the SAM template. Default: <ProjectDir>/template.yaml.
	Template string
	// Engine is the questlog-sql binary. Default: questlog-sql next to the
	// running executable, else built from the project's source into the
	// data directory.
	Engine string
	// Progress receives messages a person should see (building the engine
	// the first time). Default: none.
	Progress io.Writer
	// Logger receives debug logs (what each mirror refresh fetched).
	// Default: slog.Default().
	Logger *slog.Logger
}

// Client runs queries over the lake. It is safe for concurrent use;
// queries run one at a time.
type Client struct {
	cfg Config
	// declared returns the datasets the template's jobs declare; it is
	// read while the first query starts.
	declared func() []string

	mu     sync.Mutex
	eng    *engine
	outDir string               // the engine's private directory for results and spilling
	stores map[string]*lakeRoot // by root URL
	fields map[string][]field   // schemas read from files, by local file path of the table's first file
	sent   map[string]string    // the views the engine has, as far as this client knows
}

// lakeRoot is an opened dataset root and the local directory DuckDB reads
// it from.
type lakeRoot struct {
	url    string
	store  store.Store
	dir    string  // the local directory of the files
	mirror *mirror // nil when dir is the root itself (file://)
	local  store.Store
}

// Open returns a Client. The engine starts with the first query.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.ProjectDir == "" {
		cfg.ProjectDir = "."
	}
	var err error
	if cfg.ProjectDir, err = filepath.Abs(cfg.ProjectDir); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(cfg.ProjectDir, ".local")
	}
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, err
	}
	if cfg.Template == "" {
		cfg.Template = filepath.Join(cfg.ProjectDir, "template.yaml")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DatasetRoot == "" && cfg.Resolve == nil {
		return nil, errors.New("lake: no DatasetRoot and no Resolve")
	}
	c := &Client{cfg: cfg, stores: map[string]*lakeRoot{}, fields: map[string][]field{}, sent: map[string]string{}}
	c.declared = sync.OnceValue(func() []string {
		names, err := TemplateDatasets(cfg.Template)
		if err != nil {
			// Still useful: every dataset with files is a table anyway.
			cfg.Logger.Info("lake: the template's datasets are unknown; tables are the datasets with files", "err", err)
		}
		return names
	})
	go c.declared()
	return c, nil
}

// Close stops the engine and closes the stores.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if c.eng != nil {
		errs = append(errs, c.eng.close())
		c.eng = nil
	}
	if c.outDir != "" {
		errs = append(errs, os.RemoveAll(c.outDir))
	}
	for _, r := range c.stores {
		errs = append(errs, r.store.Close())
	}
	clear(c.stores)
	return errors.Join(errs...)
}

// Result is the rows of a query. Values are JSON-friendly: nil, bool,
// string, int64, float64, json.Number (DECIMAL and HUGEINT, exact),
// []any, map[string]any. Dates are "2006-01-02"; timestamps ISO 8601
// text, ending in Z when they are instants (TIMESTAMP WITH TIME ZONE).
type Result struct {
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Total is the number of rows the query produced; more than len(Rows)
	// when a row limit cut them.
	Total int64 `json:"total"`
}

// Column is a result column and its DuckDB type, as DESCRIBE spells it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is a table of the lake.
type Table struct {
	Name    string   `json:"name"`
	Rows    int64    `json:"rows"`
	Files   int      `json:"files"`
	Bytes   int64    `json:"bytes"`
	Columns []Column `json:"columns"`
}

// QueryError is a query that failed: DuckDB's message (or the engine's,
// for a refused statement) and the tables and columns that exist, so a
// person can fix the query.
type QueryError struct {
	Message string `json:"message"`
	// Refused is true for statements the engine will not run (COPY,
	// ATTACH, INSTALL, …), as opposed to ones DuckDB rejected.
	Refused bool `json:"refused"`
	// Tables are the lake's tables with their columns (Rows, Files and
	// Bytes are not filled).
	Tables []Table `json:"tables,omitempty"`
	// Mentioned are the tables the query names.
	Mentioned []string `json:"mentioned,omitempty"`
}

func (e *QueryError) Error() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(e.Message))
	if len(e.Tables) > 0 {
		names := make([]string, len(e.Tables))
		for i, t := range e.Tables {
			names[i] = t.Name
		}
		fmt.Fprintf(&b, "\n\ntables: %s", strings.Join(names, ", "))
	}
	for _, t := range e.Tables {
		if !slices.Contains(e.Mentioned, t.Name) {
			continue
		}
		cols := make([]string, len(t.Columns))
		for i, col := range t.Columns {
			cols[i] = col.Name + " " + col.Type
		}
		fmt.Fprintf(&b, "\ncolumns of %s: %s", t.Name, strings.Join(cols, ", "))
	}
	return b.String()
}

// Query runs sql, which may hold several statements separated by ';';
// the rows of the last one come back.
func (c *Client) Query(ctx context.Context, sql string) (*Result, error) {
	return c.query(ctx, sql, QueryOptions{})
}

func (c *Client) query(ctx context.Context, sql string, opts QueryOptions) (*Result, error) {
	var res Result
	err := c.Stream(ctx, sql, opts, func(cols []Column) error {
		res.Columns = cols
		return nil
	}, func(rows [][]any) error {
		res.Rows = append(res.Rows, rows...)
		return nil
	}, &res.Total)
	if err != nil {
		return nil, err
	}
	if res.Rows == nil {
		res.Rows = [][]any{}
	}
	return &res, nil
}

// QueryOptions tune Stream.
type QueryOptions struct {
	// MaxRows stops sending rows after this many; the total is still
	// counted. 0 sends them all.
	MaxRows int
	// Variables are set before the query runs (SET VARIABLE), as SQL
	// literals; a query reads them with getvariable('name').
	Variables map[string]string
	// ParquetTo, if set, writes the rows to this file, which must be in
	// the directory OutDir returns, as Parquet (DuckDB's COPY), instead of
	// sending them.
	ParquetTo string
	// ReadOnly refuses, with ErrChangesSession and before it runs, a
	// statement that would change the engine's session (CREATE, SET,
	// INSERT, …): for questions that must leave no trace in an engine
	// others share.
	ReadOnly bool
}

// ErrChangesSession is a ReadOnly query's statement that would have
// changed the engine's session; it did not run.
var ErrChangesSession = errors.New("the query would change the SQL session")

// Stream runs sql like Query, passing the columns, then the rows in
// batches, as they come; total receives the number of rows produced.
func (c *Client) Stream(ctx context.Context, sql string, opts QueryOptions, columns func([]Column) error, rows func([][]any) error, total *int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t0 := time.Now()
	root, err := c.prepare(ctx, func(def tableDef) bool { return mentions(sql, def.name) }, mentions(sql, AllEventsTable))
	if err != nil {
		return err
	}
	t1 := time.Now()
	views, err := c.viewsFor(root, sql)
	if err != nil {
		return err
	}
	t2 := time.Now()
	defer func() {
		c.cfg.Logger.Debug("lake query", "refresh", t1.Sub(t0), "views", t2.Sub(t1), "engine", time.Since(t2))
	}()
	req := wire.Request{SQL: sql, Views: views, Variables: opts.Variables, MaxRows: opts.MaxRows, ReadOnly: opts.ReadOnly}
	if opts.ParquetTo != "" {
		req.CopyTo, req.CopyFormat = opts.ParquetTo, "parquet"
	}
	var cols []Column
	err = c.run(ctx, req, func(m wire.Message) error {
		switch {
		case m.Columns != nil:
			cols = make([]Column, len(m.Columns))
			for i, col := range m.Columns {
				cols[i] = Column(col)
			}
			return columns(cols)
		case m.Rows != nil:
			typedRows(m.Rows, cols)
			return rows(m.Rows)
		case m.Done && total != nil:
			*total = m.Total
		}
		return nil
	})
	var qe *QueryError
	if errors.As(err, &qe) {
		qe.Tables, _ = c.schemaLocked(ctx, root)
		for _, t := range qe.Tables {
			if mentions(sql, t.Name) {
				qe.Mentioned = append(qe.Mentioned, t.Name)
			}
		}
	}
	return err
}

// OutDir is a directory the engine may write Parquet results into (see
// QueryOptions.ParquetTo), private to this Client.
func (c *Client) OutDir() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outDirLocked()
}

func (c *Client) outDirLocked() (string, error) {
	if c.outDir == "" {
		dir, err := PrivateDir(c.cfg.DataDir)
		if err != nil {
			return "", err
		}
		c.outDir = dir
	}
	return c.outDir, nil
}

// PrivateDir makes a new directory for this process's temporary files
// under dataDir. The caller removes it; should the process be killed
// first, the next PrivateDir does.
func PrivateDir(dataDir string) (string, error) {
	base := filepath.Join(dataDir, "lake", "tmp")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	removeOrphans(base)
	return os.MkdirTemp(base, fmt.Sprintf("pid-%d-", os.Getpid()))
}

// removeOrphans removes the private directories of processes that are
// gone (killed before they could clean up).
func removeOrphans(base string) {
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "pid-%d-", &pid); err == nil && pid > 0 && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
}

// Tables lists the lake's tables with their row counts, files, bytes and
// columns, refreshing every table's files first.
func (c *Client) Tables(ctx context.Context) ([]Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	root, err := c.prepare(ctx, func(tableDef) bool { return true }, true)
	if err != nil {
		return nil, err
	}
	tables, err := c.schemaLocked(ctx, root)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return tables, nil
	}
	var counts []string
	for _, t := range tables {
		counts = append(counts, fmt.Sprintf("SELECT %s AS name, count(*) AS n FROM %s", SQLString(t.Name), sqlIdent(t.Name)))
	}
	res, err := c.runLocked(ctx, root, strings.Join(counts, " UNION ALL "))
	if err != nil {
		return nil, err
	}
	rows := map[string]int64{}
	for _, r := range res.Rows {
		rows[r[0].(string)], _ = r[1].(int64)
	}
	defs, err := c.defs(ctx, root)
	if err != nil {
		return nil, err
	}
	for i := range tables {
		t := &tables[i]
		t.Rows = rows[t.Name]
		for _, def := range defs {
			if def.name == t.Name || t.Name == AllEventsTable && c.isEvents(root, def) {
				files, err := listFiles(ctx, root.local, def)
				if err != nil {
					return nil, err
				}
				t.Files += len(files)
				for _, f := range files {
					t.Bytes += f.size
				}
			}
		}
	}
	return tables, nil
}

// schemaLocked returns every table and its columns, as the engine has them.
func (c *Client) schemaLocked(ctx context.Context, root *lakeRoot) ([]Table, error) {
	res, err := c.runLocked(ctx, root, "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position")
	if err != nil {
		return nil, err
	}
	var tables []Table
	for _, r := range res.Rows {
		name, col, typ := r[0].(string), r[1].(string), r[2].(string)
		if len(tables) == 0 || tables[len(tables)-1].Name != name {
			tables = append(tables, Table{Name: name})
		}
		t := &tables[len(tables)-1]
		t.Columns = append(t.Columns, Column{Name: col, Type: typ})
	}
	return tables, nil
}

// runLocked runs a query of the lake's own over root's tables as they are.
func (c *Client) runLocked(ctx context.Context, root *lakeRoot, sql string) (*Result, error) {
	views, err := c.viewsFor(root, sql)
	if err != nil {
		return nil, err
	}
	var res Result
	err = c.run(ctx, wire.Request{SQL: sql, Views: views}, func(m wire.Message) error {
		if m.Columns != nil {
			for _, col := range m.Columns {
				res.Columns = append(res.Columns, Column(col))
			}
		}
		typedRows(m.Rows, res.Columns)
		res.Rows = append(res.Rows, m.Rows...)
		return nil
	})
	return &res, err
}

// prepare resolves the root, refreshes the files of the tables want
// selects (every table of events too if allEvents), and makes sure the
// engine runs on the root's local directory.
func (c *Client) prepare(ctx context.Context, want func(tableDef) bool, allEvents bool) (*lakeRoot, error) {
	rootURL, release := c.cfg.DatasetRoot, func() {}
	if rootURL == "" {
		var err error
		if rootURL, release, err = c.cfg.Resolve(ctx); err != nil {
			return nil, err
		}
		if release == nil {
			release = func() {}
		}
	}
	root, err := c.openRoot(ctx, rootURL)
	if err == nil {
		// The engine starts up while the files are refreshed.
		err = c.startEngine(ctx, root)
	}
	if err == nil {
		err = c.refresh(ctx, root, want, allEvents)
	}
	release()
	if err != nil {
		return nil, err
	}
	return root, nil
}

// openRoot opens a root, once per URL.
func (c *Client) openRoot(ctx context.Context, rootURL string) (*lakeRoot, error) {
	if r, ok := c.stores[rootURL]; ok {
		return r, nil
	}
	st, err := store.Open(ctx, rootURL)
	if err != nil {
		return nil, fmt.Errorf("open the dataset root %s: %w", rootURL, err)
	}
	r := &lakeRoot{url: rootURL, store: st}
	if dir, ok := strings.CutPrefix(st.URL(), "file://"); ok {
		r.dir, r.local = dir, st
	} else {
		// One mirror per data directory: a root seen at another address
		// (the embedded HDFS on another port) keeps the files it has.
		if r.mirror, err = newMirror(filepath.Join(c.cfg.DataDir, "lake", "mirror")); err != nil {
			st.Close()
			return nil, err
		}
		r.dir, r.local = r.mirror.dir, r.mirror.local
	}
	c.stores[rootURL] = r
	return r, nil
}

// defs lists the root's tables.
func (c *Client) defs(ctx context.Context, root *lakeRoot) ([]tableDef, error) {
	defs, err := tableDefs(ctx, root.store, c.declared())
	if err != nil {
		return nil, fmt.Errorf("list the datasets in %s: %w", root.url, err)
	}
	return defs, nil
}

// refresh mirrors the selected tables' files (nothing to do for a local
// root).
func (c *Client) refresh(ctx context.Context, root *lakeRoot, want func(tableDef) bool, allEvents bool) error {
	if root.mirror == nil {
		return nil
	}
	defs, err := c.defs(ctx, root)
	if err != nil {
		return err
	}
	began := time.Now()
	var total syncStats
	for _, def := range defs {
		if !want(def) && !(allEvents && c.isEvents(root, def)) {
			continue
		}
		stats, err := root.mirror.sync(ctx, root.store, def)
		if err != nil {
			return err
		}
		total.fetched += stats.fetched
		total.removed += stats.removed
		total.bytes += stats.bytes
	}
	c.cfg.Logger.Debug("lake mirror refreshed", "root", root.url, "fetched", total.fetched, "bytes", total.bytes,
		"removed", total.removed, "took", time.Since(began))
	return nil
}

// startEngine starts the engine on root's local directory, restarting it
// if it runs on another (the emulator started or stopped between two
// queries) or stopped.
func (c *Client) startEngine(ctx context.Context, root *lakeRoot) error {
	if c.eng != nil && (c.eng.lakeDir != root.dir || c.eng.dead != nil) {
		c.eng.close()
		c.eng = nil
	}
	if c.eng == nil {
		clear(c.sent)
	}
	if c.eng != nil {
		return nil
	}
	bin, err := c.findEngine(ctx)
	if err != nil {
		return err
	}
	out, err := c.outDirLocked()
	if err != nil {
		return err
	}
	if c.eng, err = startEngine(bin, root.dir, out); err != nil {
		return err
	}
	c.cfg.Logger.Debug("started the SQL engine", "pid", c.eng.cmd.Process.Pid, "lake", root.dir)
	return nil
}

// isEvents reports whether a table holds events: its schema, read from
// its first file or declared, is event.Row's.
func (c *Client) isEvents(root *lakeRoot, def tableDef) bool {
	if def.name == RejectedTable {
		return false
	}
	return sameNames(c.tableFields(root, def), eventFields)
}

// tableFields returns a table's schema: its first local file's, or the
// declared one when it has no file (nil if neither).
func (c *Client) tableFields(root *lakeRoot, def tableDef) []field {
	name, ok := firstLocalFile(root.dir, def)
	if !ok {
		return def.fields
	}
	first := filepath.Join(root.dir, filepath.FromSlash(name))
	if f, ok := c.fields[first]; ok {
		return f
	}
	f, err := fileFields(first)
	if err != nil {
		c.cfg.Logger.Warn("lake: unreadable Parquet footer", "file", first, "err", err)
		return def.fields
	}
	c.fields[first] = f
	return f
}

// run sends a request to the engine. The views the engine has are
// forgotten when a request fails (it may have failed defining one) or its
// statements may have changed views.
func (c *Client) run(ctx context.Context, req wire.Request, fn func(wire.Message) error) error {
	reset := false
	err := c.eng.run(ctx, req, func(m wire.Message) error {
		reset = reset || m.ViewsReset
		return fn(m)
	})
	if err != nil || reset {
		clear(c.sent)
	}
	return err
}

// viewsFor returns the views the engine must define or drop before sql
// runs: those of the tables sql mentions (of every table when it mentions
// none, as SHOW TABLES), unless the engine has them as they are. A view
// costs DuckDB a listing of its files to define, so a one-shot command
// defines only the ones its query reads.
func (c *Client) viewsFor(root *lakeRoot, sql string) ([]wire.View, error) {
	desired, events, err := c.views(root)
	if err != nil {
		return nil, err
	}
	need := map[string]bool{}
	for _, v := range desired {
		if mentions(sql, v.Name) {
			need[v.Name] = true
		}
	}
	if need[AllEventsTable] {
		for _, name := range events {
			need[name] = true
		}
	}
	var out []wire.View
	present := map[string]bool{}
	for _, v := range desired {
		present[v.Name] = true
		if (len(need) == 0 || need[v.Name]) && c.sent[v.Name] != v.Query {
			out = append(out, v)
			c.sent[v.Name] = v.Query
		}
	}
	for name := range c.sent {
		if !present[name] {
			out = append(out, wire.View{Name: name})
			delete(c.sent, name)
		}
	}
	return out, nil
}

// views returns every table as a view over root's local directory, in
// creation order, and the tables of events (which all_events reads).
func (c *Client) views(root *lakeRoot) (views []wire.View, events []string, err error) {
	defs, err := tableDefs(context.Background(), root.local, c.declared())
	if err != nil {
		return nil, nil, err
	}
	for _, def := range defs {
		var query string
		_, hasFiles := firstLocalFile(root.dir, def)
		switch {
		case hasFiles:
			query = readParquet(def, root.dir)
		case def.fields != nil:
			query = emptyTable(append(slices.Clone(def.fields), partitionFieldsOf(def)...))
		default:
			continue
		}
		views = append(views, wire.View{Name: def.name, Query: query})
		if def.name != RejectedTable && sameNames(c.tableFields(root, def), eventFields) {
			events = append(events, def.name)
		}
	}
	views = append(views, wire.View{Name: AllEventsTable, Query: allEvents(events)})
	return views, events, nil
}

func partitionFieldsOf(def tableDef) []field {
	var fs []field
	for _, p := range def.partitions {
		fs = append(fs, partitionFields[p])
	}
	return fs
}

// readParquet is the query of a table with files.
func readParquet(def tableDef, dir string) string {
	types := make([]string, len(def.partitions))
	for i, p := range def.partitions {
		types[i] = SQLString(p) + ": " + SQLString(duckDB.typeName(partitionFields[p].typ))
	}
	return fmt.Sprintf("SELECT * FROM read_parquet(%s, hive_partitioning = true, hive_types = {%s})",
		SQLString(def.glob(dir)), strings.Join(types, ", "))
}

// emptyTable is the query of a table with no file yet: no rows, typed
// columns.
func emptyTable(fields []field) string {
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = fmt.Sprintf("CAST(NULL AS %s) AS %s", duckDB.typeName(f.typ), sqlIdent(f.name))
	}
	return "SELECT " + strings.Join(cols, ", ") + " WHERE false"
}

// allEvents is the query of the all_events table.
func allEvents(tables []string) string {
	if len(tables) == 0 {
		return emptyTable(append([]field{datasetField}, append(slices.Clone(eventFields), dtField)...))
	}
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = fmt.Sprintf("SELECT %s AS dataset, * FROM %s", SQLString(t), sqlIdent(t))
	}
	return strings.Join(parts, " UNION ALL ")
}
