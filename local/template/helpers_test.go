package template_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/questlog/questlog/local/template"
)

// noEnv is a LookupEnv that sees an empty process environment, so tests do
// not depend on the developer's shell.
func noEnv(string) (string, bool) { return "", false }

// mapEnv returns a LookupEnv backed by m.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeTemplate writes body as template.yaml in a temporary directory and
// returns its path.
func writeTemplate(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// load loads a template body with no process environment.
func load(t *testing.T, body string, opts template.Options) (*template.Template, error) {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = noEnv
	}
	return template.Load(writeTemplate(t, body), opts)
}

// mustLoad is load that fails the test on error.
func mustLoad(t *testing.T, body string, opts template.Options) *template.Template {
	t.Helper()
	tpl, err := load(t, body, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tpl
}

// mustFunction returns the named function or fails the test.
func mustFunction(t *testing.T, tpl *template.Template, name string) *template.Function {
	t.Helper()
	fn := tpl.Function(name)
	if fn == nil {
		t.Fatalf("function %s not loaded", name)
	}
	return fn
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// wantErr checks that err wraps sentinel (when not nil) and contains msg.
func wantErr(t *testing.T, err, sentinel error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want an error containing %q", msg)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("err = %v, want errors.Is %v", err, sentinel)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("err = %q\nwant it to contain %q", err, msg)
	}
}
