package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/questlog/questlog/local/lake"
)

// Bounds of a query from the page: its text, and the rows shown (the CSV
// download has them all).
const (
	maxSQLBytes  = 64 << 10
	shownRows    = 2000
	queryTimeout = 2 * time.Minute
)

// queryResult is a result as the Query and Game pages get it.
type queryResult struct {
	Columns []lake.Column `json:"columns"`
	Rows    [][]any       `json:"rows"`
	Total   int64         `json:"total"`
	Millis  int64         `json:"ms"`
}

// run runs sql over the lake with up to shownRows rows.
func (s *Server) run(ctx context.Context, sql string, vars map[string]string) (*queryResult, error) {
	if s.lake == nil {
		return nil, errors.New("the console has no datasets to query")
	}
	began := time.Now()
	res := &queryResult{Columns: []lake.Column{}, Rows: [][]any{}}
	err := s.lake.Stream(ctx, sql, lake.QueryOptions{MaxRows: shownRows, Variables: vars, ReadOnly: true},
		func(cols []lake.Column) error { res.Columns = cols; return nil },
		func(rows [][]any) error { res.Rows = append(res.Rows, rows...); return nil },
		&res.Total)
	res.Millis = time.Since(began).Milliseconds()
	return res, err
}

// writeQueryError answers a failed query: DuckDB's message and the
// tables, for a person to fix the query.
func writeQueryError(w http.ResponseWriter, err error) {
	if errors.Is(err, lake.ErrChangesSession) {
		writeError(w, http.StatusBadRequest, err.Error()+": the console shares its SQL session with every page and `questlog sql`; run it in `questlog sql` instead")
		return
	}
	var qe *lake.QueryError
	if errors.As(err, &qe) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(qe)
		return
	}
	writeError(w, http.StatusBadGateway, err.Error())
}

// handleQuery runs the SQL of a POST body {"sql": …}. The engine is
// sandboxed on the lake and refuses statements that write, and the
// console refuses those that would change the session it shares, so the
// console stays read-only.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SQL string `json:"sql"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxSQLBytes)).Decode(&req); err != nil || req.SQL == "" {
		writeError(w, http.StatusBadRequest, `send {"sql": "SELECT …"}`)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	res, err := s.run(ctx, req.SQL, nil)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	writeJSON(w, res)
}

// handleCSV streams every row of ?sql= as CSV.
func (s *Server) handleCSV(w http.ResponseWriter, r *http.Request) {
	sql := r.URL.Query().Get("sql")
	if sql == "" || len(sql) > maxSQLBytes || s.lake == nil {
		writeError(w, http.StatusBadRequest, "give the query as ?sql=")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	cw := csv.NewWriter(w)
	started := false
	err := s.lake.Stream(ctx, sql, lake.QueryOptions{ReadOnly: true},
		func(cols []lake.Column) error {
			started = true
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="questlog-query.csv"`)
			names := make([]string, len(cols))
			for i, c := range cols {
				names[i] = c.Name
			}
			return cw.Write(names)
		},
		func(rows [][]any) error {
			for _, row := range rows {
				rec := make([]string, len(row))
				for i, v := range row {
					rec[i] = csvValue(v)
				}
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
			return nil
		}, nil)
	if err != nil && !started {
		writeQueryError(w, err)
		return
	}
	cw.Flush()
}

func csvValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return string(b)
	default:
		return fmt.Sprint(v)
	}
}

// handleReports lists the studio's reports.
func (s *Server) handleReports(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, lake.Reports())
}

// handleReport runs a report; ?since=YYYY-MM-DD starts its range.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	rep, err := lake.LookupReport(r.PathValue("name"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = time.Parse(time.DateOnly, v); err != nil {
			writeError(w, http.StatusBadRequest, "since must be a date, YYYY-MM-DD")
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	res, err := s.run(ctx, rep.SQL, lake.ReportVariables(since))
	if err != nil {
		writeQueryError(w, err)
		return
	}
	writeJSON(w, map[string]any{"report": rep, "result": res})
}

// SQLSocket is the socket on which the console answers questlog sql and
// report (Config.SQLSocket), or "".
func (s *Server) SQLSocket() string {
	if s.socket == nil {
		return ""
	}
	return s.socket.Path()
}

// handleTables lists the lake's tables with their columns.
func (s *Server) handleTables(w http.ResponseWriter, r *http.Request) {
	if s.lake == nil {
		writeError(w, http.StatusNotFound, "the console has no datasets to query")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	tables, err := s.lake.Tables(ctx)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	writeJSON(w, tables)
}
