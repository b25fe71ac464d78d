package lake

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// The studio's standard reports: one SQL file each, in the repository for
// people to read and copy. A file starts with comment lines: the title,
// then the description up to an empty comment line.
//
//go:embed reports/*.sql
var reportFiles embed.FS

// Report is one of the standard reports.
type Report struct {
	Name        string `json:"name"` // the file's name without .sql
	Title       string `json:"title"`
	Description string `json:"description"`
	SQL         string `json:"sql"`
}

// SinceVariable is the variable a report's date range starts at
// (getvariable('since')): a DATE, or NULL for every day.
const SinceVariable = "since"

// Reports returns the standard reports, by name.
func Reports() []Report {
	names, err := fs.Glob(reportFiles, "reports/*.sql")
	if err != nil {
		panic(err)
	}
	var out []Report
	for _, name := range names {
		data, err := reportFiles.ReadFile(name)
		if err != nil {
			panic(err)
		}
		out = append(out, parseReport(strings.TrimSuffix(path.Base(name), ".sql"), string(data)))
	}
	slices.SortFunc(out, func(a, b Report) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func parseReport(name, sql string) Report {
	r := Report{Name: name, SQL: sql}
	var desc []string
	for i, line := range strings.Split(sql, "\n") {
		text, ok := strings.CutPrefix(strings.TrimSpace(line), "--")
		text = strings.TrimSpace(text)
		if !ok || text == "" && i > 0 {
			break
		}
		if i == 0 {
			r.Title = text
		} else {
			desc = append(desc, text)
		}
	}
	r.Description = strings.Join(desc, " ")
	return r
}

// LookupReport returns the report called name.
func LookupReport(name string) (Report, error) {
	reports := Reports()
	for _, r := range reports {
		if r.Name == name {
			return r, nil
		}
	}
	names := make([]string, len(reports))
	for i, r := range reports {
		names[i] = r.Name
	}
	return Report{}, fmt.Errorf("no report %q; the reports are: %s", name, strings.Join(names, ", "))
}

// ReportVariables are the variables a report runs with: since is the
// first day counted (its UTC date); the zero time counts every day.
func ReportVariables(since time.Time) map[string]string {
	if since.IsZero() {
		return map[string]string{SinceVariable: "NULL::DATE"}
	}
	return map[string]string{SinceVariable: "DATE '" + since.UTC().Format(time.DateOnly) + "'"}
}

// Report runs the report called name over the days from since (the zero
// time: every day).
func (c *Client) Report(ctx context.Context, name string, since time.Time) (*Result, error) {
	r, err := LookupReport(name)
	if err != nil {
		return nil, err
	}
	return c.query(ctx, r.SQL, QueryOptions{Variables: ReportVariables(since)})
}
