package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/show"
)

func init() {
	register(Command{
		Name: "show", Args: "<dataset> [--where expr] [--limit n] [flags] | --list",
		Summary: "print a dataset like Spark's show()",
		Examples: []string{
			"questlog show --list",
			"questlog show extracted_events",
			`questlog show extracted_events --where 'user_name == "divya"' --limit 5`,
			"questlog show joined_guilds_user --json",
		},
		Setup: setupShow,
	})
}

func setupShow(fs *flag.FlagSet) Run {
	var c common
	c.register(fs, "warn")
	var opts show.Options
	fs.StringVar(&opts.Where, "where", "", `keep rows matching a CEL expression, e.g. 'user_name == "divya"'`)
	fs.IntVar(&opts.Limit, "limit", 20, "rows to print")
	fs.IntVar(&opts.Truncate, "truncate", 20, "cut values longer than this (-1: never)")
	fs.BoolVar(&opts.JSON, "json", false, "print JSON lines instead of a table")
	list := fs.Bool("list", false, "list the datasets")
	return func(ctx context.Context, args []string) error {
		if err := c.finish(); err != nil {
			return err
		}
		if len(args) != 1 && !*list {
			return usagef("name a dataset, e.g. questlog show extracted_events (--list lists them)")
		}
		root, closeStore, err := datasetRoot(ctx, &c)
		if err != nil {
			return err
		}
		defer closeStore()
		st, err := store.Open(ctx, root)
		if err != nil {
			return err
		}
		defer st.Close()
		if *list {
			entries, err := st.ReadDir(ctx, "")
			if err != nil {
				return err
			}
			for _, e := range entries {
				if e.IsDir && !strings.HasPrefix(e.Name, ".") {
					fmt.Println(e.Name)
				}
			}
			return nil
		}
		return show.Show(ctx, st, args[0], opts, os.Stdout)
	}
}

// datasetRoot finds where datasets land: the running emulator's store, or
// the template's DatasetRoot (starting the embedded HDFS for the duration
// of the command when that is where they are).
func datasetRoot(ctx context.Context, c *common) (string, func(), error) {
	if o, ok := c.cfg.ParameterOverrides[emulator.ParamDatasetRoot]; ok {
		return o, func() {}, nil
	}
	e, err := emulator.StartServicesOnly(ctx, c.cfg)
	if err != nil {
		return "", nil, err
	}
	return e.DatasetRoot, func() { e.Close(context.Background()) }, nil
}
