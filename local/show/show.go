// Package show prints a dataset the way Spark's DataFrame.show() does: a
// header, the first rows, values cut to 20 characters, right-aligned.
package show

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// Options control what Show prints.
type Options struct {
	// Where is a CEL predicate over the columns (and dt), e.g.
	// `user_name == "divya" && dt == "2026-11-26"`. Empty keeps every row.
	Where string
	// Limit is the number of rows printed. Default: 20, as Spark.
	Limit int
	// Truncate cuts values longer than this; 0 means 20, -1 never.
	Truncate int
	// JSON prints one JSON object per row instead of a table.
	JSON bool
}

func (o Options) limit() int {
	if o.Limit > 0 {
		return o.Limit
	}
	return 20
}

func (o Options) truncate() int {
	if o.Truncate == 0 {
		return 20
	}
	return o.Truncate
}

// Show prints dataset from st to w.
func Show(ctx context.Context, st store.Store, dataset string, opts Options, w io.Writer) error {
	files, err := sink.New(st, nil).Files(ctx, dataset)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("dataset %s has no files in %s (has its job run? `show` lists datasets with --list)", dataset, st.URL())
	}
	var (
		columns []string
		rows    []map[string]any
		where   cel.Program
		more    bool
	)
	for _, name := range files {
		fileRows, fileColumns, err := ReadFile(ctx, st, name)
		if err != nil {
			return err
		}
		if columns == nil {
			columns = fileColumns
			if opts.Where != "" {
				if where, err = compile(opts.Where, columns); err != nil {
					return err
				}
			}
		}
		for _, row := range fileRows {
			if where != nil {
				keep, err := match(where, row)
				if err != nil {
					return fmt.Errorf("--where %q: %w", opts.Where, err)
				}
				if !keep {
					continue
				}
			}
			if len(rows) == opts.limit() {
				more = true
				break
			}
			rows = append(rows, row)
		}
		if more {
			break
		}
	}
	if opts.JSON {
		return writeJSON(w, rows)
	}
	cells := make([][]string, len(rows))
	for r, row := range rows {
		cells[r] = make([]string, len(columns))
		for i, c := range columns {
			cells[r][i] = Cut(Render(row[c]), opts.truncate())
		}
	}
	WriteTable(w, columns, cells)
	if more {
		fmt.Fprintf(w, "only showing top %d rows\n", opts.limit())
	}
	fmt.Fprintln(w)
	return nil
}

// ReadFile reads a landed file's rows as maps, plus its dt partition, and
// its column names in schema order.
func ReadFile(ctx context.Context, st store.Store, name string) ([]map[string]any, []string, error) {
	f, err := st.Open(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a Parquet file: %w", name, err)
	}
	var columns []string
	fields := pf.Schema().Fields()
	for _, field := range fields {
		columns = append(columns, field.Name())
	}
	columns = append(columns, "dt") // Hive partition columns come last, as in Spark
	dt := partition(name)
	r := parquet.NewReader(pf)
	defer r.Close()
	var rows []map[string]any
	for {
		row := map[string]any{}
		if err := r.Read(&row); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		for _, field := range fields {
			row[field.Name()] = typed(field, row[field.Name()])
		}
		row["dt"] = dt
		rows = append(rows, row)
	}
	return rows, columns, nil
}

// typed turns a physical value read from a column into its logical type:
// STRING bytes into a string, TIMESTAMP integers into a time.Time, and the
// values of a MAP likewise.
func typed(field parquet.Field, v any) any {
	if v == nil {
		return nil
	}
	var logical format.LogicalTypeValue
	if lt := field.Type().LogicalType(); lt != nil {
		logical = lt.Value
	}
	switch lt := logical.(type) {
	case *format.StringType:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	case *format.TimestampType:
		if n, ok := v.(int64); ok {
			return time.Unix(0, 0).Add(time.Duration(n) * lt.Unit.Value.Duration()).UTC()
		}
	case *format.MapType:
		m, ok := v.(map[string]any)
		if !ok || len(field.Fields()) != 1 {
			return v
		}
		var value parquet.Field
		for _, f := range field.Fields()[0].Fields() {
			if f.Name() == "value" {
				value = f
			}
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if value != nil {
				x = typed(value, x)
			}
			out[k] = x
		}
		return out
	}
	return v
}

func partition(name string) string {
	for _, seg := range strings.Split(name, "/") {
		if v, ok := strings.CutPrefix(seg, "dt="); ok {
			return v
		}
	}
	return ""
}

func compile(expr string, columns []string) (cel.Program, error) {
	var vars []cel.EnvOption
	for _, c := range columns {
		vars = append(vars, cel.Variable(c, cel.DynType))
	}
	env, err := cel.NewEnv(vars...)
	if err != nil {
		return nil, err
	}
	ast, issues := env.Compile(expr)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("--where %q: %w", expr, issues.Err())
	}
	return env.Program(ast)
}

func match(prg cel.Program, row map[string]any) (bool, error) {
	vars := make(map[string]any, len(row))
	for k, v := range row {
		if v == nil {
			v = "" // absent optional columns compare as empty, as in filter jobs
		}
		vars[k] = v
	}
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	keep, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("is not a boolean expression")
	}
	return keep, nil
}

func writeJSON(w io.Writer, rows []map[string]any) error {
	enc := json.NewEncoder(w)
	for _, row := range rows {
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable writes cells under columns as Spark's show() does: a box
// of right-aligned values. `questlog sql` prints its results with it too.
func WriteTable(w io.Writer, columns []string, cells [][]string) {
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = max(3, utf8.RuneCountInString(c))
	}
	for _, row := range cells {
		for i, s := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	sep := "+"
	for _, n := range widths {
		sep += strings.Repeat("-", n) + "+"
	}
	line := func(values []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, v := range values {
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)))
			b.WriteString(v)
			b.WriteString("|")
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w, sep)
	line(columns)
	fmt.Fprintln(w, sep)
	for _, row := range cells {
		line(row)
	}
	fmt.Fprintln(w, sep)
}

// Cut shortens s to n runes, ending in "..."; n < 0 never cuts.
func Cut(s string, n int) string {
	if n < 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 4 {
		return string([]rune(s)[:n])
	}
	return string([]rune(s)[:n-3]) + "..."
}

// Render renders a value as Spark prints it.
func Render(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case []byte:
		hex := make([]string, len(v))
		for i, b := range v {
			hex[i] = fmt.Sprintf("%02X", b)
		}
		return "[" + strings.Join(hex, " ") + "]"
	case time.Time:
		return v.UTC().Format("2006-01-02 15:04:05.000")
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " -> " + Render(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = Render(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return fmt.Sprint(v)
	}
}
