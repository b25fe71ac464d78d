package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/questlog/questlog/local/lake"
)

func init() {
	register(Command{
		Name: "report", Args: "[NAME [--since YYYY-MM-DD] [--format F] [--out FILE] | NAME --sql]",
		Summary: "the studio's standard reports; no name lists them",
		Examples: []string{
			"questlog report",
			"questlog report daily_active_players",
			"questlog report purchases_by_item --since 2026-12-01 --format csv --out purchases.csv",
			"questlog report guild_to_purchase --sql",
		},
		Setup: setupReport,
	})
}

func setupReport(fs *flag.FlagSet) Run {
	var c common
	c.register(fs, "warn")
	var out outputFlags
	out.register(fs)
	since := fs.String("since", "", "count only days from this date on (YYYY-MM-DD)")
	printSQL := fs.Bool("sql", false, "print the report's SQL instead of running it")
	return func(ctx context.Context, pos []string) error {
		if err := c.finish(); err != nil {
			return err
		}
		return runReport(ctx, &c, &out, *since, *printSQL, pos)
	}
}

func runReport(ctx context.Context, c *common, out *outputFlags, since string, printSQL bool, pos []string) error {
	if len(pos) == 0 {
		if out.Format != "table" {
			return lake.WriteResult(os.Stdout, reportsResult(), out.Output)
		}
		listReports(os.Stdout)
		return nil
	}
	if len(pos) > 1 {
		return usagef("run one report at a time: questlog report NAME")
	}
	report, err := lake.LookupReport(pos[0])
	if err != nil {
		return err
	}
	if printSQL {
		_, err := fmt.Print(report.SQL)
		return err
	}
	var from time.Time
	if since != "" {
		if from, err = time.Parse(time.DateOnly, since); err != nil {
			return usagef("--since %q: want a date, YYYY-MM-DD", since)
		}
	}
	if err := lake.CheckFormat(out.Format); err != nil {
		return usagef("%v", err)
	}
	l := openLake(c)
	defer l.Close()
	out.Variables = lake.ReportVariables(from)
	return out.run(ctx, l, report.SQL)
}

// listReports lists the reports for people.
func listReports(w io.Writer) {
	fmt.Fprintln(w, "The standard reports (questlog report NAME [--since YYYY-MM-DD] [--format F]; each is a SQL file in local/lake/reports, or: questlog report NAME --sql):")
	for _, r := range lake.Reports() {
		fmt.Fprintf(w, "  %-26s %s\n", r.Name, r.Description)
	}
}

// reportsResult lists the reports as rows.
func reportsResult() *lake.Result {
	res := &lake.Result{Columns: []lake.Column{{Name: "report", Type: "VARCHAR"}, {Name: "title", Type: "VARCHAR"}, {Name: "description", Type: "VARCHAR"}}}
	for _, r := range lake.Reports() {
		res.Rows = append(res.Rows, []any{r.Name, r.Title, r.Description})
	}
	return res
}
