package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/lake"
)

func init() {
	register(Command{
		Name: "sql", Args: `["query"] [--format table|csv|json|jsonl|parquet] [--out FILE] | --tables | --schema NAME`,
		Summary: "SQL over every dataset (DuckDB); no query: an interactive prompt, or SQL from stdin",
		Examples: []string{
			`questlog sql "select event_type, count(*) from extracted_events group by 1 order by 1"`,
			"questlog sql --tables",
			"questlog sql --schema sword_purchases_hits",
			`questlog sql "select * from rejected" --format csv --out rejected.csv`,
			"echo 'select count(*) from guild_joins' | questlog sql",
			"questlog sql",
		},
		Setup: setupSQL,
	})
}

func setupSQL(fs *flag.FlagSet) Run {
	var c common
	c.register(fs, "warn")
	var out outputFlags
	out.register(fs)
	tables := fs.Bool("tables", false, "list the tables with their rows, files and bytes")
	schema := fs.String("schema", "", "print the columns of a table")
	return func(ctx context.Context, pos []string) error {
		if err := c.finish(); err != nil {
			return err
		}
		if err := lake.CheckFormat(out.Format); err != nil {
			return usagef("%v", err)
		}
		if len(pos) > 1 {
			return usagef(`give the query as one argument, quoted: questlog sql "select ..."`)
		}
		return runSQL(ctx, &c, &out, *tables, *schema, pos)
	}
}

func runSQL(ctx context.Context, c *common, out *outputFlags, tables bool, schema string, pos []string) error {
	client, err := openLake(ctx, c)
	if err != nil {
		return err
	}
	defer client.Close()
	switch {
	case tables:
		list, err := client.Tables(ctx)
		if err != nil {
			return err
		}
		return out.write(client, func(w io.Writer) error { return lake.WriteResult(w, tablesResult(list), out.Output) })
	case schema != "":
		return out.write(client, func(w io.Writer) error { return writeSchema(ctx, client, w, schema, out.Output) })
	case len(pos) == 1:
		return out.run(ctx, client, pos[0])
	case term.IsTerminal(int(os.Stdin.Fd())):
		return prompt(ctx, client, out.Output, filepath.Join(dataDir(c), "sql_history"))
	}
	sql, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(sql)) == "" {
		return errors.New("no query: give one as an argument, or on stdin")
	}
	return out.run(ctx, client, string(sql))
}

// outputFlags are how sql and report write results.
type outputFlags struct {
	lake.Output
	out string
}

func (o *outputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Format, "format", "table", "output format: "+strings.Join(lake.Formats, ", "))
	fs.StringVar(&o.out, "out", "", "write the result to this file (written only if the query succeeds)")
	fs.IntVar(&o.MaxRows, "max-rows", 100, "rows a table shows (0: all); other formats write every row")
	fs.IntVar(&o.Truncate, "truncate", 40, "cut table values longer than this (0: never)")
}

// run runs sql and writes its result.
func (o *outputFlags) run(ctx context.Context, client *lake.Client, sql string) error {
	return o.write(client, func(w io.Writer) error { return client.Write(ctx, w, sql, o.Output) })
}

// write writes a result to --out or stdout, but only once all of it was
// produced: a failed query writes nothing.
func (o *outputFlags) write(client *lake.Client, produce func(io.Writer) error) error {
	dir := filepath.Dir(o.out)
	if o.out == "" {
		var err error
		if dir, err = client.OutDir(); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(dir, ".questlog-result-*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = produce(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if o.out != "" {
		return os.Rename(tmp.Name(), o.out)
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(os.Stdout, f)
	return err
}

// openLake opens the lake of the dataset root the command's flags name:
// the running emulator's, or the template's (starting the embedded HDFS
// for the time it takes to refresh the mirror).
func openLake(ctx context.Context, c *common) (*lake.Client, error) {
	return lake.Open(ctx, lake.Config{
		ProjectDir: c.cfg.ProjectDir, DataDir: c.cfg.DataDir, Template: c.cfg.Template,
		Resolve:  func(ctx context.Context) (string, func(), error) { return datasetRoot(ctx, c) },
		Progress: os.Stderr, Logger: c.cfg.Logger,
	})
}

// prepareSQLEngine builds the SQL engine in the background if its build
// is missing or stale, so that the first questlog sql need not wait.
func prepareSQLEngine(ctx context.Context, c *common) {
	project := c.cfg.ProjectDir
	if project == "" {
		project = "."
	}
	var progress bytes.Buffer
	bin, err := lake.PrepareEngine(ctx, project, dataDir(c), &progress)
	switch {
	case err != nil && ctx.Err() == nil:
		c.cfg.Logger.Warn("the SQL engine for questlog sql could not be built; questlog sql will try again", "err", err)
	case progress.Len() > 0:
		c.cfg.Logger.Info("built the SQL engine for questlog sql", "path", bin)
	}
}

// dataDir is the data directory the flags name.
func dataDir(c *common) string {
	if c.cfg.DataDir != "" {
		return c.cfg.DataDir
	}
	project := c.cfg.ProjectDir
	if project == "" {
		project = "."
	}
	return filepath.Join(project, ".local")
}

// tablesResult is the table list as rows.
func tablesResult(tables []lake.Table) *lake.Result {
	res := &lake.Result{Columns: []lake.Column{{Name: "table", Type: "VARCHAR"}, {Name: "rows", Type: "BIGINT"},
		{Name: "files", Type: "BIGINT"}, {Name: "bytes", Type: "BIGINT"}, {Name: "columns", Type: "BIGINT"}}}
	for _, t := range tables {
		res.Rows = append(res.Rows, []any{t.Name, t.Rows, int64(t.Files), t.Bytes, int64(len(t.Columns))})
	}
	res.Total = int64(len(res.Rows))
	return res
}

// writeSchema writes the columns of a table.
func writeSchema(ctx context.Context, client *lake.Client, w io.Writer, table string, out lake.Output) error {
	if table == "" {
		return errors.New("name a table, e.g. extracted_events")
	}
	const columns = "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main'"
	res, err := client.Query(ctx, columns+" AND table_name = "+lake.SQLString(table)+" ORDER BY ordinal_position")
	if err != nil {
		return err
	}
	if len(res.Rows) == 0 {
		names, err := client.Query(ctx, "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'main' ORDER BY 1")
		if err != nil {
			return err
		}
		var list []string
		for _, r := range names.Rows {
			list = append(list, fmt.Sprint(r[0]))
		}
		return fmt.Errorf("no table %q; the tables are: %s", table, strings.Join(list, ", "))
	}
	return lake.WriteResult(w, res, out)
}

// rootOf is the dataset root without starting anything: the running
// emulator's, the overridden one, or the template's default.
func rootOf(c *common) (string, error) {
	if o, ok := c.cfg.ParameterOverrides[emulator.ParamDatasetRoot]; ok {
		return o, nil
	}
	if _, root, _, ok := emulator.Running(dataDir(c)); ok {
		return root, nil
	}
	template := c.cfg.Template
	if template == "" {
		template = filepath.Join(c.cfg.ProjectDir, "template.yaml")
	}
	return lake.TemplateParameter(template, emulator.ParamDatasetRoot)
}
