// Package sqltext splits SQL text into statements the way DuckDB's lexer
// (PostgreSQL's) sees it: semicolons inside quoted strings, quoted
// identifiers, dollar-quoted strings and comments do not end a statement.
package sqltext

import "strings"

// Split returns the statements of text, trimmed, without their ';' and
// without the empty or comment-only ones.
func Split(text string) []string {
	var out []string
	scan(text, func(stmt string, _ bool) {
		if s := strings.TrimSpace(stmt); s != "" && !commentOnly(s) {
			out = append(out, s)
		}
	})
	return out
}

// Complete reports whether text ends a statement: its last token, outside
// strings and comments, is ';'. An interactive prompt reads lines until
// the input is complete.
func Complete(text string) bool {
	complete := false
	scan(text, func(stmt string, terminated bool) {
		complete = terminated || (strings.TrimSpace(stmt) == "" || commentOnly(stmt)) && complete
	})
	return complete
}

// scan calls fn with each piece of text between top-level semicolons;
// terminated says whether the piece ended with one (the last piece may
// not, and may end inside an open string or comment).
func scan(text string, fn func(stmt string, terminated bool)) {
	start := 0
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case c == ';':
			fn(text[start:i], true)
			i++
			start = i
		case c == '\'':
			i = skipQuoted(text, i, '\'', escapeString(text, i))
		case c == '"':
			i = skipQuoted(text, i, '"', false)
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			if end := strings.IndexByte(text[i:], '\n'); end >= 0 {
				i += end + 1
			} else {
				i = len(text)
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			i = skipBlockComment(text, i)
		case c == '$':
			i = skipDollar(text, i)
		default:
			i++
		}
	}
	fn(text[start:], false)
}

// escapeString reports whether the quote at i opens an E'...' string, in
// which a backslash escapes the next character.
func escapeString(text string, i int) bool {
	if i == 0 || (text[i-1] != 'E' && text[i-1] != 'e') {
		return false
	}
	return i == 1 || !isIdent(text[i-2])
}

// skipQuoted returns the index after the quoted run starting at i; a
// doubled quote is an escaped quote.
func skipQuoted(text string, i int, q byte, backslash bool) int {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(text) && text[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(text)
}

// skipBlockComment skips a /* */ comment, which may nest.
func skipBlockComment(text string, i int) int {
	depth := 0
	for j := i; j < len(text); {
		switch {
		case strings.HasPrefix(text[j:], "/*"):
			depth++
			j += 2
		case strings.HasPrefix(text[j:], "*/"):
			depth--
			j += 2
			if depth == 0 {
				return j
			}
		default:
			j++
		}
	}
	return len(text)
}

// skipDollar skips a $tag$ … $tag$ string starting at i; a '$' that does
// not open one ($1, a parameter) is one character.
func skipDollar(text string, i int) int {
	if i > 0 && isIdent(text[i-1]) {
		return i + 1
	}
	j := i + 1
	for j < len(text) && isIdent(text[j]) {
		j++
	}
	if j >= len(text) || text[j] != '$' || (j > i+1 && text[i+1] >= '0' && text[i+1] <= '9') {
		return i + 1
	}
	tag := text[i : j+1]
	if end := strings.Index(text[j+1:], tag); end >= 0 {
		return j + 1 + end + len(tag)
	}
	return len(text)
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// commentOnly reports whether s holds nothing but comments and space.
func commentOnly(s string) bool {
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case strings.HasPrefix(s[i:], "--"):
			if end := strings.IndexByte(s[i:], '\n'); end >= 0 {
				i += end + 1
			} else {
				return true
			}
		case strings.HasPrefix(s[i:], "/*"):
			i = skipBlockComment(s, i)
		default:
			return false
		}
	}
	return true
}

// Keywords returns the first n words of stmt, upper-cased, skipping space,
// comments and opening parentheses: enough to tell what kind of statement
// it is before DuckDB binds it.
func Keywords(stmt string, n int) []string {
	var words []string
	for i := 0; i < len(stmt) && len(words) < n; {
		switch c := stmt[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(':
			i++
		case strings.HasPrefix(stmt[i:], "--"):
			end := strings.IndexByte(stmt[i:], '\n')
			if end < 0 {
				return words
			}
			i += end + 1
		case strings.HasPrefix(stmt[i:], "/*"):
			i = skipBlockComment(stmt, i)
		case isIdent(c):
			j := i
			for j < len(stmt) && isIdent(stmt[j]) {
				j++
			}
			words = append(words, strings.ToUpper(stmt[i:j]))
			i = j
		default:
			return words
		}
	}
	return words
}
