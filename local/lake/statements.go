package lake

import "github.com/questlog/questlog/local/lake/internal/sqltext"

// Statements splits SQL text into its statements, as DuckDB's lexer sees
// them: semicolons inside strings, quoted names and comments do not end
// one.
func Statements(sql string) []string { return sqltext.Split(sql) }

// Complete reports whether SQL text ends a statement (with ';', outside
// strings and comments): an interactive prompt reads lines until it does.
func Complete(sql string) bool { return sqltext.Complete(sql) }
