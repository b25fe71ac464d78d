//go:build cgo

package main

import (
	"bufio"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/questlog/questlog/local/lake/internal/sqltext"
	"github.com/questlog/questlog/local/lake/internal/wire"
)

// serve answers requests from r on w, one at a time, until r ends. A
// cancel request interrupts the request being answered.
func serve(e *engine, r io.Reader, w io.Writer) error {
	out := &writer{buf: bufio.NewWriterSize(w, 64<<10)}
	out.enc = json.NewEncoder(out.buf)
	requests := make(chan wire.Request)
	var (
		mu      sync.Mutex
		running int64
		cancel  context.CancelFunc
		gone    bool // the client: nobody waits for answers
	)
	readErr := make(chan error, 1)
	go func() {
		defer close(requests)
		dec := json.NewDecoder(bufio.NewReader(r))
		for {
			var req wire.Request
			if err := dec.Decode(&req); err != nil {
				if !errors.Is(err, io.EOF) {
					readErr <- fmt.Errorf("read request: %w", err)
				}
				// The client is gone (it may have been killed while a
				// query ran): stop the running request.
				mu.Lock()
				gone = true
				if cancel != nil {
					cancel()
				}
				mu.Unlock()
				return
			}
			if req.Cancel != 0 {
				mu.Lock()
				if running == req.Cancel && cancel != nil {
					cancel()
				}
				mu.Unlock()
				continue
			}
			requests <- req
		}
	}()
	for req := range requests {
		ctx, stop := context.WithCancel(context.Background())
		mu.Lock()
		running, cancel = req.ID, stop
		if gone {
			stop()
		}
		mu.Unlock()
		e.viewsReset = false
		if err := e.answer(ctx, req, out); err != nil {
			var refused refusedError
			var changes sessionChange
			msg := wire.Message{ID: req.ID, Error: err.Error(), Refused: errors.As(err, &refused), ChangesSession: errors.As(err, &changes), ViewsReset: e.viewsReset}
			if ctx.Err() != nil {
				msg.Error = "query cancelled"
			}
			out.send(msg)
		}
		stop()
		if err := out.flush(); err != nil {
			return err // the client is gone
		}
	}
	select {
	case err := <-readErr:
		return err
	default:
		return nil
	}
}

type writer struct {
	buf *bufio.Writer
	enc *json.Encoder
	err error
}

func (w *writer) send(m wire.Message) {
	if w.err == nil {
		w.err = w.enc.Encode(m)
	}
}

func (w *writer) flush() error {
	if w.err == nil {
		w.err = w.buf.Flush()
	}
	return w.err
}

// answer runs one request, sending its columns, rows and done message.
func (e *engine) answer(ctx context.Context, req wire.Request, out *writer) error {
	if err := e.defineViews(ctx, req.Views); err != nil {
		return err
	}
	// The variables last as long as the request: the next one, perhaps
	// another client's, starts without them.
	defer e.resetVariables(req.Variables)
	for _, name := range slices.Sorted(maps.Keys(req.Variables)) {
		if err := e.exec(ctx, "SET VARIABLE "+ident(name)+" = "+req.Variables[name]); err != nil {
			return err
		}
	}
	stmts := sqltext.Split(req.SQL)
	if len(stmts) == 0 {
		return errors.New("no SQL statement given")
	}
	for i, text := range stmts {
		last := i == len(stmts)-1
		stmt, err := e.prepare(ctx, text, req.ReadOnly)
		if err != nil {
			return err
		}
		switch {
		case !last:
			_, err = stmt.ExecContext(ctx, nil)
		case req.CopyTo != "":
			err = e.copyTo(ctx, req, stmt, text, out)
		default:
			err = e.rows(ctx, req, stmt, out)
		}
		stmt.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// prepare prepares one statement after checking it is one, and one the
// engine allows (one that only reads, if readOnly).
func (e *engine) prepare(ctx context.Context, text string, readOnly bool) (*duckdb.Stmt, error) {
	if err := checkWords(text); err != nil {
		return nil, err
	}
	n, err := e.statements(text)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, refuse(fmt.Sprintf("could not split the SQL into single statements near %q", abbreviate(text)))
	}
	s, err := e.conn.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	stmt := s.(*duckdb.Stmt)
	t, err := stmt.StatementType()
	if err == nil {
		err = checkType(t)
	}
	if err == nil && readOnly && !readsOnly(t, text) {
		err = sessionChange(fmt.Sprintf("%q would change the session; this request may only read", abbreviate(text)))
	}
	if err != nil {
		stmt.Close()
		return nil, err
	}
	if changesViews[t] {
		clear(e.views)
		e.viewsReset = true
	}
	return stmt, nil
}

func abbreviate(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// resetVariables unsets the variables a request set.
func (e *engine) resetVariables(vars map[string]string) {
	for name := range vars {
		e.exec(context.Background(), "RESET VARIABLE "+ident(name))
	}
}

func (e *engine) exec(ctx context.Context, text string) error {
	_, err := e.conn.ExecContext(ctx, text, nil)
	return err
}

// defineViews creates, replaces or drops the views that differ from the
// ones the engine has.
func (e *engine) defineViews(ctx context.Context, views []wire.View) error {
	for _, v := range views {
		if have, ok := e.views[v.Name]; ok && have == v.Query || !ok && v.Query == "" {
			continue
		}
		stmt := "CREATE OR REPLACE VIEW " + ident(v.Name) + " AS " + v.Query
		if v.Query == "" {
			stmt = "DROP VIEW IF EXISTS " + ident(v.Name)
		}
		if err := e.exec(ctx, stmt); err != nil {
			return fmt.Errorf("define table %s: %w", v.Name, err)
		}
		if v.Query == "" {
			delete(e.views, v.Name)
		} else {
			e.views[v.Name] = v.Query
		}
	}
	return nil
}

// rows sends the statement's columns and rows.
func (e *engine) rows(ctx context.Context, req wire.Request, stmt *duckdb.Stmt, out *writer) error {
	r, err := stmt.QueryContext(ctx, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	typed := r.(driver.RowsColumnTypeDatabaseTypeName)
	names := r.Columns()
	cols := make([]wire.Column, len(names))
	for i, name := range names {
		cols[i] = wire.Column{Name: name, Type: typeName(typed.ColumnTypeDatabaseTypeName(i))}
	}
	out.send(wire.Message{ID: req.ID, Columns: cols})
	var (
		total int64
		batch [][]any
		dest  = make([]driver.Value, len(names))
	)
	for {
		if err := r.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		total++
		if req.MaxRows > 0 && total > int64(req.MaxRows) {
			continue // counted, not sent
		}
		row := make([]any, len(dest))
		for i, v := range dest {
			row[i] = jsonValue(v, cols[i].Type)
		}
		batch = append(batch, row)
		if len(batch) == wire.RowsPerMessage {
			out.send(wire.Message{ID: req.ID, Rows: batch})
			if err := out.flush(); err != nil {
				return err
			}
			batch = nil
		}
	}
	if len(batch) > 0 {
		out.send(wire.Message{ID: req.ID, Rows: batch})
	}
	out.send(wire.Message{ID: req.ID, Done: true, Total: total, ViewsReset: e.viewsReset})
	return nil
}

// copyTo writes the statement's rows to req.CopyTo with DuckDB's COPY.
func (e *engine) copyTo(ctx context.Context, req wire.Request, stmt *duckdb.Stmt, text string, out *writer) error {
	if t, _ := stmt.StatementType(); t != duckdb.STATEMENT_TYPE_SELECT {
		return fmt.Errorf("--format %s needs a query that returns rows (a SELECT) as its last statement", req.CopyFormat)
	}
	format := strings.ToLower(req.CopyFormat)
	if format != "parquet" {
		return fmt.Errorf("unsupported copy format %q", req.CopyFormat)
	}
	// The newline ends a trailing -- comment before the parenthesis.
	copyStmt := "COPY (" + text + "\n) TO " + literal(req.CopyTo) + " (FORMAT parquet, COMPRESSION zstd)"
	s, err := e.conn.PrepareContext(ctx, copyStmt)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := s.(*duckdb.Stmt).QueryContext(ctx, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	var total int64
	dest := make([]driver.Value, len(r.Columns()))
	if err := r.Next(dest); err == nil && len(dest) > 0 {
		total, _ = dest[0].(int64)
	}
	out.send(wire.Message{ID: req.ID, Columns: []wire.Column{}})
	out.send(wire.Message{ID: req.ID, Done: true, Total: total, ViewsReset: e.viewsReset})
	return nil
}
