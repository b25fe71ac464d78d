package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/questlog/questlog/local/template"
)

// Errors a build can wrap; test with errors.Is.
var (
	// ErrNoMakefile means ProjectDir has no Makefile.
	ErrNoMakefile = errors.New("no Makefile")
	// ErrNoTarget means the Makefile has no build-<LogicalID> target.
	ErrNoTarget = errors.New("no make target")
	// ErrNoBootstrap means make succeeded but left no executable bootstrap.
	ErrNoBootstrap = errors.New("no executable bootstrap in the artifacts directory")
	// ErrMakeFailed means make exited with an error.
	ErrMakeFailed = errors.New("make failed")
)

// tailLines is how many lines of make's output an error carries.
const tailLines = 20

// Target is one function to build.
type Target struct {
	LogicalID string // the function's logical ID in template.yaml
	// Architecture is the function's architecture ("x86_64", "arm64"). It
	// only feeds the build hash: like sam build, make is not told; the
	// Makefile decides GOARCH.
	Architecture string
	// BuildMethod is Metadata.BuildMethod: "makefile" or "" (which means
	// makefile). Others are rejected.
	BuildMethod string
}

func (t Target) buildMethod() string {
	if t.BuildMethod == "" {
		return "makefile"
	}
	return t.BuildMethod
}

// Options configures Build.
type Options struct {
	// ProjectDir holds the Makefile and go.mod. Required.
	ProjectDir string
	// BuildDir receives one artifacts directory per function; relative
	// paths are relative to ProjectDir. Default: .aws-sam/build.
	BuildDir string
	// Parallel is how many makes run at once. Default: the number of CPUs.
	Parallel int
	// Logger receives progress. Default: slog.Default().
	Logger *slog.Logger
	// Force rebuilds functions whose inputs did not change.
	Force bool
	// Output, when set, receives make's output as it runs, each line
	// prefixed with "[LogicalID] ". It is always captured for errors too.
	Output io.Writer
}

func (o Options) parallel() int {
	if o.Parallel > 0 {
		return o.Parallel
	}
	return runtime.NumCPU()
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// Result is the outcome for one Target.
type Result struct {
	LogicalID string
	Bootstrap string // absolute path of the bootstrap binary
	Skipped   bool   // inputs unchanged; make did not run
	Duration  time.Duration
	Err       error // nil on success; also joined into Build's error
}

// MakeError reports a failed make run with what is needed to reproduce it.
type MakeError struct {
	LogicalID string
	Command   string   // shell command that reproduces the build
	Tail      []string // last lines of make's output
	Err       error    // wraps ErrNoTarget, ErrMakeFailed or ErrNoBootstrap
}

func (e *MakeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "build %s: %v\n  reproduce: %s", e.LogicalID, e.Err, e.Command)
	if len(e.Tail) > 0 {
		b.WriteString("\n  make output (last lines):")
		for _, l := range e.Tail {
			b.WriteString("\n    " + l)
		}
	}
	return b.String()
}

func (e *MakeError) Unwrap() error { return e.Err }

// Build builds targets with at most Options.Parallel makes at a time and
// returns one Result per target, in order. Failures do not stop the other
// builds; the returned error joins them. A cancelled ctx stops running
// makes (their process groups are killed) and fails the rest.
func Build(ctx context.Context, targets []Target, opts Options) ([]Result, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	b, err := newBuilder(targets, opts)
	if err != nil {
		return nil, err
	}
	return b.build(ctx, targets)
}

func (b *builder) build(ctx context.Context, targets []Target) ([]Result, error) {
	inputs, err := inputsHash(b.projectDir, b.buildDir)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(targets))
	hashes := make([]string, len(targets))
	recipes := make([]*goRecipe, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			artifacts := filepath.Join(b.buildDir, t.LogicalID)
			recipe, err := b.recipe(ctx, t, artifacts)
			if err != nil {
				recipe = "" // make reports the problem when it runs
			}
			hashes[i] = targetHash(inputs, t, recipe)
			recipes[i] = parseGoRecipe(recipe, artifacts)
		})
	}
	wg.Wait()

	// Unchanged functions are skipped; plain go builds share go commands;
	// the rest run their make target.
	var viaMake []int
	groups := map[string][]sharedTarget{}
	var keys []string
	for i, t := range targets {
		artifacts := filepath.Join(b.buildDir, t.LogicalID)
		switch {
		case !b.opts.Force && upToDate(artifacts, hashes[i]):
			results[i] = Result{LogicalID: t.LogicalID, Bootstrap: filepath.Join(artifacts, "bootstrap"), Skipped: true}
			b.log.Info("skipped (unchanged)", "function", t.LogicalID)
		case recipes[i] != nil:
			key := recipes[i].key()
			if groups[key] == nil {
				keys = append(keys, key)
			}
			groups[key] = append(groups[key], sharedTarget{index: i, target: t, hash: hashes[i], artifacts: artifacts, recipe: recipes[i]})
		default:
			viaMake = append(viaMake, i)
		}
	}
	var (
		mu        sync.Mutex
		fallbacks []int // targets whose shared build failed
	)
	for _, key := range keys {
		group := groups[key]
		if len(group) == 1 {
			viaMake = append(viaMake, group[0].index) // nothing to share
			continue
		}
		wg.Go(func() {
			if !b.buildShared(ctx, group, results) {
				mu.Lock()
				for _, st := range group {
					fallbacks = append(fallbacks, st.index)
				}
				mu.Unlock()
			}
		})
	}
	b.makeAll(ctx, targets, hashes, viaMake, results)
	wg.Wait()
	slices.Sort(fallbacks)
	b.makeAll(ctx, targets, hashes, fallbacks, results)

	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return results, errors.Join(errs...)
}

// makeAll runs the make targets of the given targets with at most
// Options.Parallel makes at a time; workers take targets in order, so builds
// start in the order given.
func (b *builder) makeAll(ctx context.Context, targets []Target, hashes []string, indexes []int, results []Result) {
	next := make(chan int, len(indexes))
	for _, i := range indexes {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(b.opts.parallel(), len(indexes)) {
		wg.Go(func() {
			for i := range next {
				t := targets[i]
				if err := ctx.Err(); err != nil {
					results[i] = Result{LogicalID: t.LogicalID, Err: fmt.Errorf("build %s: %w", t.LogicalID, err)}
					continue
				}
				results[i] = b.one(ctx, t, hashes[i])
			}
		})
	}
	wg.Wait()
}

type builder struct {
	projectDir string
	makefile   string
	buildDir   string
	opts       Options
	log        *slog.Logger
	outMu      sync.Mutex // serializes writes to opts.Output
	// run executes make; tests replace it.
	run func(ctx context.Context, cmd *exec.Cmd) error
}

func newBuilder(targets []Target, opts Options) (*builder, error) {
	if opts.ProjectDir == "" {
		return nil, errors.New("build: ProjectDir is required")
	}
	projectDir, err := filepath.Abs(opts.ProjectDir)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	makefile := filepath.Join(projectDir, "Makefile")
	if st, err := os.Stat(makefile); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("build: %s: %w", makefile, ErrNoMakefile)
	}
	buildDir := resolveBuildDir(projectDir, opts.BuildDir)
	seen := map[string]bool{}
	for _, t := range targets {
		if !template.IsLogicalID(t.LogicalID) {
			return nil, fmt.Errorf("build: target %q: logical IDs are alphanumeric", t.LogicalID)
		}
		if seen[t.LogicalID] {
			return nil, fmt.Errorf("build: target %s listed twice", t.LogicalID)
		}
		seen[t.LogicalID] = true
		if t.buildMethod() != "makefile" {
			return nil, fmt.Errorf("build: target %s: BuildMethod %q is not supported (only makefile)", t.LogicalID, t.BuildMethod)
		}
	}
	return &builder{
		projectDir: projectDir, makefile: makefile, buildDir: buildDir,
		opts: opts, log: opts.logger(), run: runCmd,
	}, nil
}

// one builds a single target with make.
func (b *builder) one(ctx context.Context, t Target, hash string) Result {
	start := time.Now()
	artifacts := filepath.Join(b.buildDir, t.LogicalID)
	res := Result{LogicalID: t.LogicalID, Bootstrap: filepath.Join(artifacts, "bootstrap")}
	log := b.log.With("function", t.LogicalID)
	log.Info("building")
	res.Err = b.make(ctx, t, artifacts)
	if res.Err == nil {
		if err := os.WriteFile(filepath.Join(artifacts, hashFile), []byte(hash+"\n"), 0o644); err != nil {
			res.Err = fmt.Errorf("build %s: record build hash: %w", t.LogicalID, err)
		}
	}
	res.Duration = time.Since(start)
	if res.Err != nil {
		log.Error("build failed", "duration", res.Duration.Round(time.Millisecond), "err", res.Err)
		return res
	}
	log.Info("built", "duration", res.Duration.Round(time.Millisecond))
	return res
}

// upToDate reports whether artifacts holds an executable bootstrap built
// from inputs with this hash.
func upToDate(artifacts, hash string) bool {
	stored, err := os.ReadFile(filepath.Join(artifacts, hashFile))
	if err != nil || strings.TrimSpace(string(stored)) != hash {
		return false
	}
	return isExecutable(filepath.Join(artifacts, "bootstrap"))
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// make empties the artifacts directory and runs the make target.
func (b *builder) make(ctx context.Context, t Target, artifacts string) error {
	if err := os.RemoveAll(artifacts); err != nil {
		return fmt.Errorf("build %s: clean artifacts: %w", t.LogicalID, err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		return fmt.Errorf("build %s: %w", t.LogicalID, err)
	}
	target := "build-" + t.LogicalID
	cmd := exec.Command("make", "--makefile", b.makefile, target)
	cmd.Dir = b.projectDir
	cmd.Env = append(makeEnv(os.Environ()), "ARTIFACTS_DIR="+artifacts)
	var out bytes.Buffer
	var w io.Writer = &out
	if b.opts.Output != nil {
		pw := &prefixWriter{mu: &b.outMu, w: b.opts.Output, prefix: "[" + t.LogicalID + "] "}
		defer pw.flush()
		w = io.MultiWriter(&out, pw)
	}
	cmd.Stdout, cmd.Stderr = w, w

	fail := func(err error) error {
		return &MakeError{
			LogicalID: t.LogicalID,
			Command: fmt.Sprintf("cd %s && ARTIFACTS_DIR=%s make --makefile %s %s",
				shellQuote(b.projectDir), shellQuote(artifacts), shellQuote(b.makefile), target),
			Tail: tail(out.String(), tailLines),
			Err:  err,
		}
	}
	if err := b.run(ctx, cmd); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build %s: %w", t.LogicalID, ctx.Err())
		}
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("build %s: run make: %w", t.LogicalID, err)
		}
		if strings.Contains(out.String(), "No rule to make target") && strings.Contains(out.String(), target) {
			return fail(fmt.Errorf("%w %s in %s: %w", ErrNoTarget, target, b.makefile, err))
		}
		return fail(fmt.Errorf("%w: %w", ErrMakeFailed, err))
	}
	if !isExecutable(filepath.Join(artifacts, "bootstrap")) {
		return fail(fmt.Errorf("%w: make %s must create $(ARTIFACTS_DIR)/bootstrap (%s) and make it executable",
			ErrNoBootstrap, target, filepath.Join(artifacts, "bootstrap")))
	}
	return nil
}

// makeEnv drops the variables through which a parent make would pass its
// flags and jobserver.
func makeEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARTIFACTS_DIR":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func tail(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`&|;<>()*?[]#~!{}") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// prefixWriter writes complete lines to w, each prefixed, under a mutex
// shared by concurrent builds so that lines do not interleave.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.emit(p.buf[:i+1])
		p.buf = p.buf[i+1:]
	}
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.emit(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *prefixWriter) emit(line []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Output is best effort; make's output is also captured for errors.
	_, _ = io.WriteString(p.w, p.prefix+string(line))
}

func resolveBuildDir(projectDir, buildDir string) string {
	if buildDir == "" {
		buildDir = filepath.Join(".aws-sam", "build")
	}
	if !filepath.IsAbs(buildDir) {
		buildDir = filepath.Join(projectDir, buildDir)
	}
	return buildDir
}

// BootstrapPath is where Build puts a function's bootstrap; buildDir as in
// Options.BuildDir.
func BootstrapPath(projectDir, buildDir, logicalID string) string {
	return filepath.Join(resolveBuildDir(projectDir, buildDir), logicalID, "bootstrap")
}
