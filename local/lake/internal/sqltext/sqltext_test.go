package sqltext

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"select 1", []string{"select 1"}},
		{"select 1; select 2;", []string{"select 1", "select 2"}},
		{"select 'a;b'; select \"x;y\" from t", []string{"select 'a;b'", "select \"x;y\" from t"}},
		{"select 'it''s;'; select 2", []string{"select 'it''s;'", "select 2"}},
		{`select E'a\';b'; select 2`, []string{`select E'a\';b'`, "select 2"}},
		{"select $$a;b$$; select $tag$ ; $tag$", []string{"select $$a;b$$", "select $tag$ ; $tag$"}},
		{"select $1; select 2", []string{"select $1", "select 2"}},
		{"select 1 -- a; comment\n; select 2", []string{"select 1 -- a; comment", "select 2"}},
		{"select /* a; /* nested; */ b; */ 1; select 2", []string{"select /* a; /* nested; */ b; */ 1", "select 2"}},
		{"-- only a comment;\n; ;  /* and another */", nil},
		{"select 'unterminated; select 2", []string{"select 'unterminated; select 2"}},
	} {
		if got := Split(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestComplete(t *testing.T) {
	for in, want := range map[string]bool{
		"select 1;":               true,
		"select 1;\n":             true,
		"select 1; -- done\n":     true,
		"select 1":                false,
		"select 1;\nselect 2":     false,
		"select ';":               false,
		"select 1 /* ; */":        false,
		"select $$;$$;":           true,
		"":                        false,
		"-- just a comment;\n":    false,
		"select 'a'';' ;":         true,
		"create table t (a int);": true,
	} {
		if got := Complete(in); got != want {
			t.Errorf("Complete(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestKeywords(t *testing.T) {
	for in, want := range map[string][]string{
		"select 1":                             {"SELECT", "1"},
		"  /* c */ -- d\n (Copy (select 1) to": {"COPY", "SELECT", "1"},
		"explain analyze copy":                 {"EXPLAIN", "ANALYZE", "COPY"},
		"'x'":                                  nil,
	} {
		if got := Keywords(in, 3); !slices.Equal(got, want) {
			t.Errorf("Keywords(%q) = %q, want %q", in, got, want)
		}
	}
}
