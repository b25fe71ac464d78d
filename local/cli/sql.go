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
	l := openLake(c)
	defer l.Close()
	switch {
	case tables:
		return out.write(l, func(w io.Writer) error { return l.WriteTables(ctx, w, out.Output) })
	case schema != "":
		return out.write(l, func(w io.Writer) error { return l.WriteSchema(ctx, w, schema, out.Output) })
	case len(pos) == 1:
		return out.run(ctx, l, pos[0])
	case term.IsTerminal(int(os.Stdin.Fd())):
		return prompt(ctx, l, out.Output, filepath.Join(dataDir(c), "sql_history"))
	}
	sql, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(sql)) == "" {
		return errors.New("no query: give one as an argument, or on stdin")
	}
	return out.run(ctx, l, string(sql))
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
func (o *outputFlags) run(ctx context.Context, l *sqlLake, sql string) error {
	return o.write(l, func(w io.Writer) error { return l.Write(ctx, w, sql, o.Output) })
}

// write writes a result to --out or stdout, but only once all of it was
// produced: a failed query writes nothing.
func (o *outputFlags) write(l *sqlLake, produce func(io.Writer) error) error {
	dir := filepath.Dir(o.out)
	if o.out == "" {
		var err error
		if dir, err = l.tempDir(); err != nil {
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
