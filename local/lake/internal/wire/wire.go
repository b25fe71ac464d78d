// Package wire is the protocol between the lake client (pure Go) and the
// SQL engine process (DuckDB, cgo): one JSON object per line each way.
//
// The client writes a Request; the engine answers it with a Columns
// message, Rows messages of up to RowsPerMessage rows, and a Done message
// (or an Error message at any point). A Cancel line interrupts the request
// being answered.
package wire

// Request asks the engine to run SQL, which may hold several statements
// separated by ';' (the rows of the last one come back).
type Request struct {
	ID  int64  `json:"id"`
	SQL string `json:"sql,omitempty"`
	// Views are lake tables to define (or, with an empty Query, drop)
	// before SQL runs, in order: views that read other views come after
	// them. The engine keeps the views it has; one sent again unchanged
	// costs nothing.
	Views []View `json:"views,omitempty"`
	// Variables are set (SET VARIABLE name = value) before SQL runs, as SQL
	// literals, e.g. "DATE '2026-11-27'".
	Variables map[string]string `json:"variables,omitempty"`
	// MaxRows stops sending rows after this many (the total is still
	// counted); 0 sends every row.
	MaxRows int `json:"max_rows,omitempty"`
	// CopyTo, if set, writes the last statement's rows to this file with
	// DuckDB's COPY (the engine must have been started allowing the path)
	// in CopyFormat ("parquet") instead of sending them.
	CopyTo     string `json:"copy_to,omitempty"`
	CopyFormat string `json:"copy_format,omitempty"`
	// Cancel, if nonzero, interrupts the request with this ID.
	Cancel int64 `json:"cancel,omitempty"`
	// ReadOnly refuses, before it runs, a statement that would change the
	// session (CREATE, SET, INSERT, …): the answer is then an Error with
	// ChangesSession. For an engine that others share.
	ReadOnly bool `json:"read_only,omitempty"`
}

// View is a lake table as a view.
type View struct {
	Name  string `json:"name"`
	Query string `json:"query,omitempty"`
}

// Column is a result column and its DuckDB type name.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Message is one line of the engine's answer; exactly one of its parts is
// set besides ID.
type Message struct {
	ID      int64    `json:"id"`
	Columns []Column `json:"columns,omitempty"`
	Rows    [][]any  `json:"rows,omitempty"`
	// Done ends a successful answer: the number of rows the statement
	// produced (also those beyond MaxRows).
	Done  bool  `json:"done,omitempty"`
	Total int64 `json:"total,omitempty"`
	// Error ends a failed answer with DuckDB's message, or the engine's
	// own for a refused statement (Refused is then true).
	Error   string `json:"error,omitempty"`
	Refused bool   `json:"refused,omitempty"`
	// ChangesSession says the Error is a ReadOnly request's statement
	// that would have changed the session; it did not run.
	ChangesSession bool `json:"changes_session,omitempty"`
	// ViewsReset, on the last message, says the request's statements may
	// have dropped or replaced views (CREATE, DROP, ALTER): the engine
	// forgot which lake views it has, and the client should send the
	// views it needs again.
	ViewsReset bool `json:"views_reset,omitempty"`
}

// RowsPerMessage bounds a Rows message.
const RowsPerMessage = 1024
