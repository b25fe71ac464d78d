package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// One go build for many functions
//
// Every function's make target usually runs the same go build with its own
// package and output. Run one by one, sixteen functions are sixteen go
// commands that each load, check and link, and two of them running at once
// on an empty cache compile the same dependencies twice. So the recipe of
// each target is read first (make --dry-run), and targets whose recipe is a
// single plain `go build … -o $(ARTIFACTS_DIR)/bootstrap <package>` with the
// same environment and flags are built by one go command, which compiles
// every package once, in parallel, and links each main package once; its
// binaries are then linked (or copied) into the artifacts directories. Any
// other recipe, or a shared build that fails, goes through make as sam
// build would run it, so errors read the same.

// goRecipe is a make target's recipe when it is one plain go build.
type goRecipe struct {
	env   []string // NAME=value assignments before the command
	goCmd string
	flags []string // between "build" and "-o"
	pkg   string
}

// key groups recipes that one go command can build together.
func (r *goRecipe) key() string {
	return strings.Join(r.env, "\x00") + "\x01" + r.goCmd + "\x01" + strings.Join(r.flags, "\x00")
}

// recipe returns the commands make would run for t, one per line.
func (b *builder) recipe(ctx context.Context, t Target, artifacts string) (string, error) {
	cmd := exec.CommandContext(ctx, "make", "--dry-run", "--always-make", "--makefile", b.makefile, "build-"+t.LogicalID)
	cmd.Dir = b.projectDir
	cmd.Env = append(makeEnv(os.Environ()), "ARTIFACTS_DIR="+artifacts)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// parseGoRecipe recognizes `[NAME=value…] go build [flags] -o <artifacts>/bootstrap <package>`
// and returns nil for anything else.
func parseGoRecipe(recipe, artifacts string) *goRecipe {
	if recipe == "" || strings.Contains(recipe, "\n") {
		return nil
	}
	words, ok := shellWords(recipe)
	if !ok {
		return nil
	}
	r := &goRecipe{}
	i := 0
	for ; i < len(words) && isAssignment(words[i]); i++ {
		r.env = append(r.env, words[i])
	}
	if i+4 >= len(words) || (words[i] != "go" && !strings.HasSuffix(words[i], "/go")) || words[i+1] != "build" {
		return nil
	}
	r.goCmd = words[i]
	rest := words[i+2:]
	n := len(rest)
	if n < 3 || rest[n-3] != "-o" || rest[n-2] != filepath.Join(artifacts, "bootstrap") || strings.HasPrefix(rest[n-1], "-") {
		return nil
	}
	r.flags, r.pkg = rest[:n-3], rest[n-1]
	if slices.Contains(r.flags, "-o") || len(r.flags) > 0 && !strings.HasPrefix(r.flags[0], "-") || strings.HasSuffix(r.pkg, ".go") {
		return nil // a second output, or files rather than a package
	}
	return r
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// shellWords splits a command line the way sh would for the simple
// commands make prints: blanks separate words, single and double quotes
// and backslashes quote. Anything that needs a shell (expansions,
// operators, redirections, globs) makes it fail.
func shellWords(s string) ([]string, bool) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
			continue
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' || s[j] == '$' || s[j] == '`' {
					return nil, false
				}
			}
			if j == len(s) {
				return nil, false
			}
			w.WriteString(s[i+1 : j])
			i = j
		case c == '\\':
			if i+1 == len(s) {
				return nil, false
			}
			i++
			w.WriteByte(s[i])
		case strings.IndexByte("$`;&|<>()*?[]{}~#!\n", c) >= 0:
			return nil, false
		default:
			w.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, true
}

// sharedTarget is a target built by a shared go build.
type sharedTarget struct {
	index     int // in the targets given to build
	target    Target
	hash      string
	artifacts string
	recipe    *goRecipe
}

// buildShared builds the targets of one group with one go command and
// fills their results; it reports false when the go command failed, and
// the caller builds them with make instead.
func (b *builder) buildShared(ctx context.Context, group []sharedTarget, results []Result) bool {
	start := time.Now()
	r := group[0].recipe
	var pkgs []string
	for _, st := range group {
		if !slices.Contains(pkgs, st.recipe.pkg) {
			pkgs = append(pkgs, st.recipe.pkg)
		}
		b.log.Info("building", "function", st.target.LogicalID)
	}
	// Binaries are named after the package's last element; two packages
	// of the same name cannot share an output directory.
	names := map[string]bool{}
	for _, p := range pkgs {
		if names[path.Base(p)] {
			b.log.Info("two packages named "+path.Base(p)+"; building each function with make", "package", p)
			return false
		}
		names[path.Base(p)] = true
	}
	out, err := os.MkdirTemp(b.buildDir, ".go-build-")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(b.buildDir, 0o755); err == nil {
			out, err = os.MkdirTemp(b.buildDir, ".go-build-")
		}
	}
	if err != nil {
		b.log.Warn("no room for a shared go build; building each function with make", "err", err)
		return false
	}
	defer os.RemoveAll(out)
	args := append(slices.Clone(r.flags), "-o", out+string(filepath.Separator))
	cmd := exec.Command(r.goCmd, append(append([]string{"build"}, args...), pkgs...)...)
	cmd.Dir = b.projectDir
	cmd.Env = append(makeEnv(os.Environ()), r.env...)
	var output bytes.Buffer
	var w io.Writer = &output
	if b.opts.Output != nil {
		pw := &prefixWriter{mu: &b.outMu, w: b.opts.Output, prefix: "[go build] "}
		defer pw.flush()
		w = io.MultiWriter(&output, pw)
	}
	cmd.Stdout, cmd.Stderr = w, w
	b.log.Info("one go build for several functions", "functions", len(group), "packages", len(pkgs))
	if err := b.run(ctx, cmd); err != nil {
		if ctx.Err() == nil {
			b.log.Warn("the shared go build failed; building each function with make", "err", err,
				"output", strings.Join(tail(output.String(), tailLines), "\n"))
		}
		return false
	}
	for _, st := range group {
		res := Result{LogicalID: st.target.LogicalID, Bootstrap: filepath.Join(st.artifacts, "bootstrap")}
		res.Err = install(filepath.Join(out, path.Base(st.recipe.pkg)), st.artifacts, st.hash)
		if res.Err != nil {
			res.Err = fmt.Errorf("build %s: %w", st.target.LogicalID, res.Err)
		}
		res.Duration = time.Since(start)
		results[st.index] = res
		if res.Err != nil {
			b.log.Error("build failed", "function", st.target.LogicalID, "err", res.Err)
			continue
		}
		b.log.Info("built", "function", st.target.LogicalID, "duration", res.Duration.Round(time.Millisecond))
	}
	return true
}

// install puts binary into an emptied artifacts directory as bootstrap
// (a hard link when possible: several functions may share one binary) and
// records the build hash.
func install(binary, artifacts, hash string) error {
	if err := os.RemoveAll(artifacts); err != nil {
		return fmt.Errorf("clean artifacts: %w", err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		return err
	}
	bootstrap := filepath.Join(artifacts, "bootstrap")
	if err := os.Link(binary, bootstrap); err != nil {
		if err := copyFile(binary, bootstrap); err != nil {
			return err
		}
	}
	if !isExecutable(bootstrap) {
		return fmt.Errorf("%w: go build made no executable %s", ErrNoBootstrap, bootstrap)
	}
	return os.WriteFile(filepath.Join(artifacts, hashFile), []byte(hash+"\n"), 0o644)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return errors.Join(out.Close())
}
