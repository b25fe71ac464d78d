//go:build cgo

// Command questlog-sql is questlog's SQL engine: DuckDB, sandboxed so it
// reads the lake directory and nothing else, answering the requests of the
// lake client (local/lake) over stdin and stdout (see local/lake/internal/wire).
//
// It is a separate program because DuckDB needs cgo and adds tens of
// megabytes: the emulator and the functions stay pure Go. `questlog sql`
// builds it on first use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

type dirs []string

func (d *dirs) String() string     { return strings.Join(*d, ",") }
func (d *dirs) Set(s string) error { *d = append(*d, s); return nil }

func main() {
	var readable, writable dirs
	flag.Var(&readable, "lake", "a directory the engine may read (repeatable)")
	flag.Var(&writable, "out-dir", "a directory the engine writes results into with COPY (repeatable)")
	temp := flag.String("temp", "", "DuckDB's temp_directory, for spilling large sorts and joins")
	flag.Parse()
	if len(readable) == 0 {
		fmt.Fprintln(os.Stderr, "questlog-sql: --lake DIR is required")
		os.Exit(2)
	}
	// A terminal's Ctrl-C reaches the whole process group; it is for the
	// client, which cancels the running query. The engine ends when its
	// stdin closes.
	signal.Ignore(os.Interrupt)
	e, err := open(readable, writable, *temp)
	if err != nil {
		fmt.Fprintf(os.Stderr, "questlog-sql: %v\n", err)
		os.Exit(1)
	}
	defer e.close()
	if err := serve(e, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "questlog-sql: %v\n", err)
		os.Exit(1)
	}
}

// engine is one in-memory DuckDB database and its one connection, plus a
// second, empty database used only to parse (to count statements).
type engine struct {
	connector *duckdb.Connector
	conn      *duckdb.Conn
	parserDB  mapping.Database
	parser    mapping.Connection
	views     map[string]string // created views, name → query
	// viewsReset is set when the request being answered ran a statement
	// that may have changed views.
	viewsReset bool
}

func open(readable, writable []string, temp string) (*engine, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, err
	}
	e := &engine{connector: connector, views: map[string]string{}}
	c, err := connector.Connect(context.Background())
	if err != nil {
		e.close()
		return nil, err
	}
	e.conn = c.(*duckdb.Conn)
	var allowed []string
	for _, d := range append(append([]string{}, readable...), writable...) {
		allowed = append(allowed, literal(strings.TrimSuffix(d, "/")+"/"))
	}
	var setup []string
	if temp != "" { // before enable_external_access, which freezes it
		setup = append(setup, "SET temp_directory="+literal(temp))
	}
	setup = append(setup,
		"SET allowed_directories=["+strings.Join(allowed, ", ")+"]",
		"SET enable_external_access=false",
		"SET autoinstall_known_extensions=false",
		"SET autoload_known_extensions=false",
		// Landed files never change: keep their footers between queries.
		"SET parquet_metadata_cache=true",
		"SET lock_configuration=true",
	)
	for _, s := range setup {
		if _, err := e.conn.ExecContext(context.Background(), s, nil); err != nil {
			e.close()
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	if err := e.openParser(); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// openParser opens the parsing database, sandboxed with no directory at
// all: DuckDB's parser itself reads files for some statements (IMPORT
// DATABASE expands into the statements of a schema.sql).
func (e *engine) openParser() error {
	var config mapping.Config
	if mapping.CreateConfig(&config) == mapping.StateError {
		return errors.New("create the parser's configuration")
	}
	defer mapping.DestroyConfig(&config)
	for _, kv := range [][2]string{{"enable_external_access", "false"}, {"autoload_known_extensions", "false"}, {"lock_configuration", "true"}} {
		if mapping.SetConfig(config, kv[0], kv[1]) == mapping.StateError {
			return fmt.Errorf("configure the parser: %s=%s", kv[0], kv[1])
		}
	}
	var msg string
	if mapping.OpenExt("", &e.parserDB, config, &msg) == mapping.StateError {
		return fmt.Errorf("open the parser database: %s", msg)
	}
	if mapping.Connect(e.parserDB, &e.parser) == mapping.StateError {
		return errors.New("connect to the parser database")
	}
	return nil
}

func (e *engine) close() {
	if e.conn != nil {
		e.conn.Close()
	}
	if e.connector != nil {
		e.connector.Close()
	}
	mapping.Disconnect(&e.parser)
	mapping.Close(&e.parserDB)
}

// statements counts the statements DuckDB's parser finds in text (0 with
// its message if it cannot parse it).
func (e *engine) statements(text string) (int, error) {
	var stmts mapping.ExtractedStatements
	n := mapping.ExtractStatements(e.parser, text, &stmts)
	defer mapping.DestroyExtracted(&stmts)
	if n == 0 {
		if msg := mapping.ExtractStatementsError(stmts); msg != "" {
			return 0, errors.New(msg)
		}
	}
	return int(n), nil
}

// literal quotes s as a SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident quotes s as a SQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
