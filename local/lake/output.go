package lake

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/questlog/questlog/local/show"
)

// Formats are the output formats of Write.
var Formats = []string{"table", "csv", "json", "jsonl", "parquet"}

// Output says how Write runs a query and writes its result.
type Output struct {
	// Format is one of Formats. Default: table.
	Format string `json:"format,omitempty"`
	// MaxRows bounds the rows of a table (the rest are counted, and a line
	// says so); 0 prints every row. Other formats write every row.
	MaxRows int `json:"max_rows,omitempty"`
	// Truncate cuts table values longer than this many characters; 0
	// never cuts.
	Truncate int `json:"truncate,omitempty"`
	// Variables are set before the query runs (see QueryOptions).
	Variables map[string]string `json:"variables,omitempty"`
	// ReadOnly refuses statements that would change the session (see
	// QueryOptions).
	ReadOnly bool `json:"-"`
}

// CheckFormat returns an error for an unknown format.
func CheckFormat(format string) error {
	for _, f := range Formats {
		if f == format || format == "" {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// Write runs sql and writes its result to w: an aligned table like show's,
// CSV with a header, a JSON array of objects, JSON lines, or Parquet.
// Values are written as Result holds them (CSV: nested values as JSON,
// NULL as an empty field).
func (c *Client) Write(ctx context.Context, w io.Writer, sql string, out Output) error {
	if err := CheckFormat(out.Format); err != nil {
		return err
	}
	opts := QueryOptions{Variables: out.Variables, ReadOnly: out.ReadOnly}
	if out.Format == "parquet" {
		return c.writeParquet(ctx, w, sql, opts)
	}
	if out.Format == "" || out.Format == "table" {
		opts.MaxRows = out.MaxRows
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	rw := newRowWriter(bw, out)
	var total int64
	if err := c.Stream(ctx, sql, opts, rw.columns, rw.rows, &total); err != nil {
		return err
	}
	if err := rw.end(total); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteResult writes a result held in memory as Write would.
func WriteResult(w io.Writer, res *Result, out Output) error {
	if err := CheckFormat(out.Format); err != nil {
		return err
	}
	if out.Format == "parquet" {
		return errors.New("parquet output needs a query")
	}
	bw := bufio.NewWriter(w)
	rw := newRowWriter(bw, out)
	rows := res.Rows
	if out.MaxRows > 0 && len(rows) > out.MaxRows && (out.Format == "" || out.Format == "table") {
		rows = rows[:out.MaxRows]
	}
	if err := rw.columns(res.Columns); err != nil {
		return err
	}
	if err := rw.rows(rows); err != nil {
		return err
	}
	if err := rw.end(max(res.Total, int64(len(res.Rows)))); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteTables writes the table list (Tables) as rows: name, rows, files,
// bytes and number of columns.
func (c *Client) WriteTables(ctx context.Context, w io.Writer, out Output) error {
	list, err := c.Tables(ctx)
	if err != nil {
		return err
	}
	res := &Result{Columns: []Column{{Name: "table", Type: "VARCHAR"}, {Name: "rows", Type: "BIGINT"},
		{Name: "files", Type: "BIGINT"}, {Name: "bytes", Type: "BIGINT"}, {Name: "columns", Type: "BIGINT"}}}
	for _, t := range list {
		res.Rows = append(res.Rows, []any{t.Name, t.Rows, int64(t.Files), t.Bytes, int64(len(t.Columns))})
	}
	res.Total = int64(len(res.Rows))
	return WriteResult(w, res, out)
}

// WriteSchema writes the columns of a table and their types.
func (c *Client) WriteSchema(ctx context.Context, w io.Writer, table string, out Output) error {
	if table == "" {
		return errors.New("name a table, e.g. extracted_events")
	}
	const columns = "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main'"
	res, err := c.Query(ctx, columns+" AND table_name = "+SQLString(table)+" ORDER BY ordinal_position")
	if err != nil {
		return err
	}
	if len(res.Rows) == 0 {
		names, err := c.Query(ctx, "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'main' ORDER BY 1")
		if err != nil {
			return err
		}
		var list []string
		for _, r := range names.Rows {
			list = append(list, fmt.Sprint(r[0]))
		}
		return fmt.Errorf("no table %q; the tables are: %s", table, strings.Join(list, ", "))
	}
	return WriteResult(w, res, out)
}

func newRowWriter(w *bufio.Writer, out Output) rowWriter {
	switch out.Format {
	case "csv":
		return &csvWriter{w: csv.NewWriter(w)}
	case "json":
		return &jsonWriter{w: w, array: true}
	case "jsonl":
		return &jsonWriter{w: w}
	}
	return &tableWriter{w: w, truncate: out.Truncate}
}

// rowWriter writes a result as it streams: columns, rows in batches, and
// the end with the total number of rows produced.
type rowWriter interface {
	columns([]Column) error
	rows([][]any) error
	end(total int64) error
}

type csvWriter struct {
	w      *csv.Writer
	record []string
}

func (c *csvWriter) columns(cols []Column) error {
	c.record = make([]string, len(cols))
	for i, col := range cols {
		c.record[i] = col.Name
	}
	return c.w.Write(c.record)
}

func (c *csvWriter) rows(rows [][]any) error {
	for _, row := range rows {
		for i, v := range row {
			c.record[i] = csvText(v)
		}
		if err := c.w.Write(c.record); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) end(int64) error {
	c.w.Flush()
	return c.w.Error()
}

func csvText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any, []any:
		data, _ := json.Marshal(v)
		return string(data)
	}
	return fmt.Sprint(v)
}

// jsonWriter writes objects whose keys keep the columns' order.
type jsonWriter struct {
	w     *bufio.Writer
	array bool
	keys  [][]byte
	n     int
}

func (j *jsonWriter) columns(cols []Column) error {
	for _, col := range cols {
		key, _ := json.Marshal(col.Name)
		j.keys = append(j.keys, key)
	}
	if j.array {
		j.w.WriteString("[")
	}
	return nil
}

func (j *jsonWriter) rows(rows [][]any) error {
	for _, row := range rows {
		switch {
		case j.array && j.n > 0:
			j.w.WriteString(",\n")
		case j.array:
			j.w.WriteString("\n")
		}
		j.n++
		j.w.WriteByte('{')
		for i, v := range row {
			if i > 0 {
				j.w.WriteByte(',')
			}
			j.w.Write(j.keys[i])
			j.w.WriteByte(':')
			data, err := json.Marshal(v)
			if err != nil {
				return err
			}
			j.w.Write(data)
		}
		j.w.WriteByte('}')
		if !j.array {
			j.w.WriteByte('\n')
		}
	}
	return nil
}

func (j *jsonWriter) end(int64) error {
	if j.array {
		j.w.WriteString("\n]\n")
	}
	return nil
}

// tableWriter prints the result like show: a box of right-aligned values,
// then a line if rows were left out.
type tableWriter struct {
	w        io.Writer
	truncate int
	names    []string
	types    []string
	cells    [][]string
}

func (t *tableWriter) columns(cols []Column) error {
	for _, col := range cols {
		t.names = append(t.names, col.Name)
		t.types = append(t.types, col.Type)
	}
	return nil
}

func (t *tableWriter) rows(rows [][]any) error {
	for _, row := range rows {
		line := make([]string, len(row))
		for i, v := range row {
			line[i] = cellText(v, t.types[i], t.truncate)
		}
		t.cells = append(t.cells, line)
	}
	return nil
}

func (t *tableWriter) end(total int64) error {
	show.WriteTable(t.w, t.names, t.cells)
	if total > int64(len(t.cells)) {
		_, err := fmt.Fprintf(t.w, "only showing the first %d of %d rows\n", len(t.cells), total)
		return err
	}
	return nil
}

// cellText renders a table cell: timestamps as show prints them, numbers
// in full, the rest as show renders values.
func cellText(v any, typ string, truncate int) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
		if strings.HasPrefix(typ, "TIMESTAMP") {
			s = strings.TrimSuffix(strings.Replace(s, "T", " ", 1), "Z")
		}
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		s = show.Render(v)
	}
	if truncate > 0 {
		s = show.Cut(s, truncate)
	}
	return s
}

// writeParquet has the engine write the result as Parquet into its
// private directory, then copies that file to w.
func (c *Client) writeParquet(ctx context.Context, w io.Writer, sql string, opts QueryOptions) error {
	dir, err := c.OutDir()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "result-*.parquet")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	os.Remove(name) // DuckDB creates it
	defer os.Remove(name)
	opts.ParquetTo = name
	if err := c.Stream(ctx, sql, opts, func([]Column) error { return nil }, func([][]any) error { return nil }, nil); err != nil {
		return err
	}
	result, err := os.Open(filepath.Clean(name))
	if err != nil {
		return err
	}
	defer result.Close()
	_, err = io.Copy(w, result)
	return err
}
