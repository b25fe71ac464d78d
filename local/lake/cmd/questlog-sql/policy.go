//go:build cgo

package main

import (
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/questlog/questlog/local/lake/internal/sqltext"
)

// What a query may run: reading, and objects of the in-memory database.
// Anything reaching outside it (COPY, EXPORT, ATTACH, INSTALL/LOAD, …) is
// refused here, before DuckDB's own sandbox (allowed_directories) is even
// asked: that sandbox lets the engine read the lake, and would let a COPY
// write into it.
//
// Statements are checked twice: by their first words before DuckDB
// prepares them (preparing binds, and binding some statements, EXPORT
// DATABASE, already touches files; parsing IMPORT DATABASE reads one), and
// by their type once prepared.

// allowedFirst are the words an allowed statement starts with.
var allowedFirst = map[string]bool{
	"SELECT": true, "WITH": true, "FROM": true, "VALUES": true, "TABLE": true, "PIVOT": true, "UNPIVOT": true,
	"DESCRIBE": true, "DESC": true, "SHOW": true, "SUMMARIZE": true, "EXPLAIN": true, "PRAGMA": true, "CALL": true,
	"SET": true, "RESET": true, "CREATE": true, "DROP": true, "ALTER": true, "INSERT": true, "UPDATE": true,
	"DELETE": true, "BEGIN": true, "START": true, "COMMIT": true, "ROLLBACK": true, "ABORT": true, "END": true,
	"ANALYZE": true,
}

// allowedTypes are the statement types an allowed statement prepares to.
var allowedTypes = map[duckdb.StmtType]bool{
	duckdb.STATEMENT_TYPE_SELECT: true, duckdb.STATEMENT_TYPE_EXPLAIN: true, duckdb.STATEMENT_TYPE_PRAGMA: true,
	duckdb.STATEMENT_TYPE_CALL: true, duckdb.STATEMENT_TYPE_SET: true, duckdb.STATEMENT_TYPE_VARIABLE_SET: true,
	duckdb.STATEMENT_TYPE_CREATE: true, duckdb.STATEMENT_TYPE_CREATE_FUNC: true, duckdb.STATEMENT_TYPE_DROP: true,
	duckdb.STATEMENT_TYPE_ALTER: true, duckdb.STATEMENT_TYPE_INSERT: true, duckdb.STATEMENT_TYPE_UPDATE: true,
	duckdb.STATEMENT_TYPE_DELETE: true, duckdb.STATEMENT_TYPE_TRANSACTION: true, duckdb.STATEMENT_TYPE_ANALYZE: true,
}

// changesViews are the statement types that may drop or shadow a lake
// view; the views are recreated before the next request.
var changesViews = map[duckdb.StmtType]bool{
	duckdb.STATEMENT_TYPE_CREATE: true, duckdb.STATEMENT_TYPE_DROP: true, duckdb.STATEMENT_TYPE_ALTER: true,
}

const (
	noFiles      = "the engine writes no files (save results with --format and --out)"
	noExtensions = "INSTALL and LOAD are refused: the engine runs with DuckDB's built-in extensions only"
)

// refusedWords explain the refusal of statements by their first word.
var refusedWords = map[string]string{
	"COPY":       "COPY is refused: " + noFiles,
	"EXPORT":     "EXPORT DATABASE is refused: " + noFiles,
	"IMPORT":     "IMPORT DATABASE is refused: the engine reads the lake's Parquet files and nothing else",
	"ATTACH":     "ATTACH is refused: the engine reads the lake and nothing else",
	"DETACH":     "DETACH is refused: the engine reads the lake and nothing else",
	"USE":        "USE is refused: the lake's tables are in the default schema",
	"INSTALL":    noExtensions,
	"LOAD":       noExtensions,
	"FORCE":      noExtensions,
	"PREPARE":    "PREPARE is refused: write the statement itself",
	"EXECUTE":    "EXECUTE is refused: write the statement itself",
	"DEALLOCATE": "DEALLOCATE is refused",
	"VACUUM":     "VACUUM is refused",
	"CHECKPOINT": "CHECKPOINT is refused",
}

// typeWords name the refused statement types by their first word.
var typeWords = map[duckdb.StmtType]string{
	duckdb.STATEMENT_TYPE_COPY: "COPY", duckdb.STATEMENT_TYPE_EXPORT: "EXPORT", duckdb.STATEMENT_TYPE_ATTACH: "ATTACH",
	duckdb.STATEMENT_TYPE_DETACH: "DETACH", duckdb.STATEMENT_TYPE_LOAD: "LOAD", duckdb.STATEMENT_TYPE_EXTENSION: "INSTALL",
	duckdb.STATEMENT_TYPE_PREPARE: "PREPARE", duckdb.STATEMENT_TYPE_EXECUTE: "EXECUTE", duckdb.STATEMENT_TYPE_VACUUM: "VACUUM",
}

// checkWords refuses a statement by its first words.
func checkWords(text string) error {
	words := sqltext.Keywords(text, 3)
	if len(words) > 0 && words[0] == "EXPLAIN" { // EXPLAIN ANALYZE runs its statement
		words = words[1:]
		if len(words) > 0 && words[0] == "ANALYZE" {
			words = words[1:]
		}
	}
	switch {
	case len(words) == 0:
		return nil // DuckDB will say what is wrong
	case words[0] == "UPDATE" && len(words) > 1 && words[1] == "EXTENSIONS":
		return refuse(noExtensions)
	case !allowedFirst[words[0]]:
		if msg, ok := refusedWords[words[0]]; ok {
			return refuse(msg)
		}
		return refuse(words[0] + " statements are refused: the engine reads the lake and writes nothing")
	}
	return nil
}

// checkType refuses a prepared statement by its type.
func checkType(t duckdb.StmtType) error {
	if allowedTypes[t] {
		return nil
	}
	if msg, ok := refusedWords[typeWords[t]]; ok {
		return refuse(msg)
	}
	return refuse(fmt.Sprintf("statements of this kind (DuckDB statement type %d) are refused: the engine reads the lake and writes nothing", t))
}

// readsOnly reports whether a prepared statement of type t only reads: a
// query (DESCRIBE, SHOW and SUMMARIZE are queries), or an EXPLAIN that
// does not run its statement.
func readsOnly(t duckdb.StmtType, text string) bool {
	switch t {
	case duckdb.STATEMENT_TYPE_SELECT:
		return true
	case duckdb.STATEMENT_TYPE_EXPLAIN:
		words := sqltext.Keywords(text, 2)
		return len(words) < 2 || words[1] != "ANALYZE"
	}
	return false
}

// sessionChange is a statement a read-only request may not run.
type sessionChange string

func (s sessionChange) Error() string { return string(s) }

// refusedError is a statement the engine will not run.
type refusedError string

func (r refusedError) Error() string { return string(r) }

func refuse(msg string) error { return refusedError(msg) }
