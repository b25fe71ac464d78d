package cli

import (
	"context"
	"flag"
	"os"
	"strings"

	"github.com/questlog/questlog/local/lake"
)

func init() {
	register(Command{
		Name: "ddl", Args: "[--dialect hive|trino|spark] [--root hdfs://nn:8020/dir]",
		Summary: "CREATE TABLE statements for the datasets, for Hive, Trino or Spark on a cluster",
		Examples: []string{
			"questlog ddl --dialect hive",
			"questlog ddl --dialect trino --catalog hive --database questlog --root hdfs://namenode:8020/tmp",
			"questlog ddl --dialect spark | spark-sql -f /dev/stdin",
		},
		Setup: setupDDL,
	})
}

func setupDDL(fs *flag.FlagSet) Run {
	var c common
	c.register(fs, "warn")
	var opts lake.DDLOptions
	dialect := fs.String("dialect", "hive", "the engine: "+strings.Join(lake.Dialects, ", "))
	fs.StringVar(&opts.Database, "database", "default", "the database (Trino: schema) the tables go in")
	fs.StringVar(&opts.Catalog, "catalog", "hive", "Trino's catalog of the Hive connector")
	fs.StringVar(&opts.Root, "root", "", "the dataset root the tables point at (default: the running emulator's, else the template's DatasetRoot)")
	return func(ctx context.Context, pos []string) error {
		if len(pos) > 0 {
			return usagef("unexpected argument %q", pos[0])
		}
		if err := c.finish(); err != nil {
			return err
		}
		return writeDDL(&c, *dialect, opts)
	}
}

func writeDDL(c *common, dialect string, opts lake.DDLOptions) error {
	if opts.Root == "" {
		root, err := rootOf(c)
		if err != nil {
			return err
		}
		opts.Root = root
	}
	template := c.cfg.Template
	if template == "" {
		template = "template.yaml"
	}
	datasets, err := lake.TemplateDatasets(template)
	if err != nil {
		return err
	}
	return lake.DDL(os.Stdout, dialect, datasets, opts)
}
