package cli

import (
	"context"
	"flag"
	"os"
	"strings"

	"github.com/questlog/questlog/local/lake"
)

func cmdDDL(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ddl", flag.ContinueOnError)
	var c common
	c.register(fs, "warn")
	var opts lake.DDLOptions
	dialect := fs.String("dialect", "hive", "the engine: "+strings.Join(lake.Dialects, ", "))
	fs.StringVar(&opts.Database, "database", "default", "the database (Trino: schema) the tables go in")
	fs.StringVar(&opts.Catalog, "catalog", "hive", "Trino's catalog of the Hive connector")
	fs.StringVar(&opts.Root, "root", "", "the dataset root the tables point at (default: the running emulator's, else the template's DatasetRoot)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := c.finish(); err != nil {
		return err
	}
	if opts.Root == "" {
		root, err := rootOf(&c)
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
	return lake.DDL(os.Stdout, *dialect, datasets, opts)
}
