package build_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/local/build"
)

// fakeMakefile builds a shell-script bootstrap for Alpha, Beta and Gamma,
// counting runs in .aws-sam/build/runs-<ID>.log (outside the hashed inputs
// and outside the artifacts directory, which each build empties).
const fakeMakefile = `# test project
build-Alpha build-Beta build-Gamma:
	@echo "building $@"
	@echo run >> $(ARTIFACTS_DIR)/../runs-$(@:build-%=%).log
	@printf '#!/bin/sh\necho %s\n' "$(@:build-%=%)" > $(ARTIFACTS_DIR)/bootstrap
	@chmod +x $(ARTIFACTS_DIR)/bootstrap

build-Broken:
	@echo "compiling broken"
	@echo "main.go:3:1: syntax error: unexpected }" >&2
	@exit 3

build-Lazy:
	@echo "forgot the binary"

build-Slow:
	@touch $(ARTIFACTS_DIR)/../slow-started
	@sleep 60
	@touch $(ARTIFACTS_DIR)/bootstrap
`

// newProject writes a tiny Go module with the fake Makefile and returns
// its directory.
func newProject(t *testing.T, makefile string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "go.mod", "module example.com/fn\n\ngo 1.26\n")
	write(t, dir, "go.sum", "")
	write(t, dir, "functions/fn/main.go", "package main\n\nfunc main() {}\n")
	write(t, dir, "Makefile", makefile)
	return dir
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runs returns how many times make built id.
func runs(t *testing.T, dir, id string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ".aws-sam", "build", "runs-"+id+".log"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "run\n")
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// mustBuild builds targets and fails the test on error.
func mustBuild(t *testing.T, dir string, targets []build.Target, opts build.Options) []build.Result {
	t.Helper()
	opts.ProjectDir = dir
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	res, err := build.Build(context.Background(), targets, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(res) != len(targets) {
		t.Fatalf("Build returned %d results for %d targets", len(res), len(targets))
	}
	return res
}

func skipped(res []build.Result) []bool {
	out := make([]bool, len(res))
	for i, r := range res {
		out[i] = r.Skipped
	}
	return out
}

func TestBuildThenSkipThenRebuild(t *testing.T) {
	dir := newProject(t, fakeMakefile)
	targets := []build.Target{{LogicalID: "Alpha", Architecture: "x86_64"}, {LogicalID: "Beta", Architecture: "arm64", BuildMethod: "makefile"}}

	res := mustBuild(t, dir, targets, build.Options{})
	for i, r := range res {
		want := filepath.Join(dir, ".aws-sam", "build", targets[i].LogicalID, "bootstrap")
		if r.LogicalID != targets[i].LogicalID || r.Bootstrap != want || r.Skipped || r.Err != nil {
			t.Errorf("first build result %d = %+v, want built %s", i, r, want)
		}
		out, err := exec.Command(r.Bootstrap).Output()
		if err != nil || string(out) != targets[i].LogicalID+"\n" {
			t.Errorf("running %s = %q, %v; want %q", r.Bootstrap, out, err, targets[i].LogicalID+"\n")
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(r.Bootstrap), ".questlog-build-hash")); err != nil {
			t.Errorf("hash file: %v", err)
		}
	}

	steps := []struct {
		name        string
		change      func()
		opts        build.Options
		targets     []build.Target
		wantSkipped []bool
		wantRuns    [2]int // Alpha, Beta after the step
	}{
		{"unchanged", func() {}, build.Options{}, targets, []bool{true, true}, [2]int{1, 1}},
		{"test file added", func() { write(t, dir, "main_test.go", "package main\n") }, build.Options{}, targets, []bool{true, true}, [2]int{1, 1}},
		{"testdata changed", func() { write(t, dir, "testdata/x.json", "{}") }, build.Options{}, targets, []bool{true, true}, [2]int{1, 1}},
		{"emulator code changed", func() { write(t, dir, "local/emu/emu.go", "package emu\n") }, build.Options{}, targets, []bool{true, true}, [2]int{1, 1}},
		{"editor state changed", func() { write(t, dir, ".idea/workspace.xml", "<x/>") }, build.Options{}, targets, []bool{true, true}, [2]int{1, 1}},
		{"go file changed", func() { write(t, dir, "functions/fn/main.go", "package main\n\nfunc main() { println() }\n") }, build.Options{}, targets, []bool{false, false}, [2]int{2, 2}},
		{"unchanged again", func() {}, build.Options{}, targets, []bool{true, true}, [2]int{2, 2}},
		{"embedded data changed", func() { write(t, dir, "internal/schema/schema.json", `{"v":1}`) }, build.Options{}, targets, []bool{false, false}, [2]int{3, 3}},
		{"Makefile changed", func() { write(t, dir, "Makefile", fakeMakefile+"# comment\n") }, build.Options{}, targets, []bool{false, false}, [2]int{4, 4}},
		{"go.sum changed", func() { write(t, dir, "go.sum", "example.com/x v1.0.0 h1:abc=\n") }, build.Options{}, targets, []bool{false, false}, [2]int{5, 5}},
		{"forced", func() {}, build.Options{Force: true}, targets[:1], []bool{false}, [2]int{6, 5}},
		{"bootstrap deleted", func() {
			if err := os.Remove(filepath.Join(dir, ".aws-sam", "build", "Beta", "bootstrap")); err != nil {
				t.Fatal(err)
			}
		}, build.Options{}, targets, []bool{true, false}, [2]int{6, 6}},
		{"architecture changed", func() {}, build.Options{}, []build.Target{{LogicalID: "Alpha", Architecture: "arm64"}}, []bool{false}, [2]int{7, 6}},
	}
	for _, s := range steps {
		s.change()
		res := mustBuild(t, dir, s.targets, s.opts)
		if got := skipped(res); !slicesEqual(got, s.wantSkipped) {
			t.Errorf("%s: skipped = %v, want %v", s.name, got, s.wantSkipped)
		}
		if got := [2]int{runs(t, dir, "Alpha"), runs(t, dir, "Beta")}; got != s.wantRuns {
			t.Errorf("%s: make runs (Alpha, Beta) = %v, want %v", s.name, got, s.wantRuns)
		}
	}
}

func slicesEqual(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBuildFailures(t *testing.T) {
	dir := newProject(t, fakeMakefile)
	tests := []struct {
		id       string
		sentinel error
		msgs     []string
	}{
		{"Broken", build.ErrMakeFailed, []string{
			"build Broken: make failed: exit status 2", // make exits 2 when a recipe fails
			"reproduce: cd " + dir + " && ARTIFACTS_DIR=" + filepath.Join(dir, ".aws-sam", "build", "Broken") +
				" make --makefile " + filepath.Join(dir, "Makefile") + " build-Broken",
			"compiling broken",
			"main.go:3:1: syntax error: unexpected }",
			"build-Broken] Error 3",
		}},
		{"Missing", build.ErrNoTarget, []string{"build Missing: no make target build-Missing in " + filepath.Join(dir, "Makefile"), "No rule to make target"}},
		{"Lazy", build.ErrNoBootstrap, []string{"make build-Lazy must create $(ARTIFACTS_DIR)/bootstrap", "forgot the binary"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			// A good target in the same call still builds.
			res, err := build.Build(context.Background(), []build.Target{{LogicalID: "Gamma"}, {LogicalID: tt.id}},
				build.Options{ProjectDir: dir, Logger: quietLogger(), Force: true})
			if err == nil {
				t.Fatal("Build succeeded, want an error")
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.sentinel)
			}
			var me *build.MakeError
			if !errors.As(err, &me) || me.LogicalID != tt.id {
				t.Errorf("err = %#v, want a *build.MakeError for %s", err, tt.id)
			}
			for _, m := range tt.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error does not contain %q:\n%v", m, err)
				}
			}
			if len(res) != 2 || res[0].Err != nil || res[0].Skipped || res[1].Err == nil {
				t.Errorf("results = %+v, want Gamma built and %s failed", res, tt.id)
			}
			if _, err := os.Stat(filepath.Join(dir, ".aws-sam", "build", tt.id, ".questlog-build-hash")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed build left a hash file (stat err %v)", err)
			}
		})
	}
}

func TestBuildFailedBuildIsRetried(t *testing.T) {
	// After a failure, the next Build must run make again even though the
	// inputs did not change.
	dir := newProject(t, strings.Replace(fakeMakefile, "build-Alpha build-Beta build-Gamma:", "build-Beta build-Gamma:", 1)+
		"build-Alpha:\n\t@echo run >> $(ARTIFACTS_DIR)/../runs-Alpha.log\n\t@test -f fixed\n\t@printf '#!/bin/sh\\n' > $(ARTIFACTS_DIR)/bootstrap\n\t@chmod +x $(ARTIFACTS_DIR)/bootstrap\n")
	opts := build.Options{ProjectDir: dir, Logger: quietLogger(), BuildDir: "out"}
	if _, err := build.Build(context.Background(), []build.Target{{LogicalID: "Alpha"}}, opts); !errors.Is(err, build.ErrMakeFailed) {
		t.Fatalf("first Build err = %v, want ErrMakeFailed", err)
	}
	if _, err := build.Build(context.Background(), []build.Target{{LogicalID: "Alpha"}}, opts); !errors.Is(err, build.ErrMakeFailed) {
		t.Fatalf("second Build err = %v, want ErrMakeFailed again (not skipped)", err)
	}
	// "fixed" is a dot-less file at the top: a hashed input, so this rebuilds.
	write(t, dir, "fixed", "")
	res, err := build.Build(context.Background(), []build.Target{{LogicalID: "Alpha"}}, opts)
	if err != nil || res[0].Skipped || res[0].Bootstrap != filepath.Join(dir, "out", "Alpha", "bootstrap") {
		t.Fatalf("third Build = %+v, %v; want built into out/Alpha", res, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "out", "runs-Alpha.log"))
	if n := strings.Count(string(data), "run\n"); n != 3 {
		t.Errorf("make ran %d times, want 3", n)
	}
}

func TestBuildInvalidInput(t *testing.T) {
	dir := newProject(t, fakeMakefile)
	noMake := t.TempDir()
	tests := []struct {
		name    string
		targets []build.Target
		opts    build.Options
		msg     string
	}{
		{"no Makefile", []build.Target{{LogicalID: "Alpha"}}, build.Options{ProjectDir: noMake}, "build: " + filepath.Join(noMake, "Makefile") + ": no Makefile"},
		{"no project dir", []build.Target{{LogicalID: "Alpha"}}, build.Options{}, "build: ProjectDir is required"},
		{"duplicate", []build.Target{{LogicalID: "Alpha"}, {LogicalID: "Alpha"}}, build.Options{ProjectDir: dir}, "build: target Alpha listed twice"},
		{"bad logical ID", []build.Target{{LogicalID: "../etc"}}, build.Options{ProjectDir: dir}, `build: target "../etc": logical IDs are alphanumeric`},
		{"go1.x", []build.Target{{LogicalID: "Alpha", BuildMethod: "go1.x"}}, build.Options{ProjectDir: dir}, `build: target Alpha: BuildMethod "go1.x" is not supported (only makefile)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = quietLogger()
			res, err := build.Build(context.Background(), tt.targets, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to contain %q", err, tt.msg)
			}
			if res != nil {
				t.Errorf("results = %+v, want none", res)
			}
		})
	}
	if res, err := build.Build(context.Background(), nil, build.Options{}); res != nil || err != nil {
		t.Errorf("Build(no targets) = %v, %v; want nil, nil", res, err)
	}
}

func TestBuildLogsAndOutput(t *testing.T) {
	dir := newProject(t, fakeMakefile)
	var logs, out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	opts := build.Options{Logger: logger, Output: &out, Parallel: 1}
	mustBuild(t, dir, []build.Target{{LogicalID: "Alpha"}, {LogicalID: "Beta"}}, opts)
	mustBuild(t, dir, []build.Target{{LogicalID: "Alpha"}}, opts)

	for _, want := range []string{
		"level=INFO msg=building function=Alpha\n",
		"level=INFO msg=built function=Alpha\n",
		"level=INFO msg=building function=Beta\n",
		"level=INFO msg=built function=Beta\n",
		`level=INFO msg="skipped (unchanged)" function=Alpha` + "\n",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	for _, want := range []string{"[Alpha] building build-Alpha\n", "[Beta] building build-Beta\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBuildCancel(t *testing.T) {
	dir := newProject(t, fakeMakefile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		res []build.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := build.Build(ctx, []build.Target{{LogicalID: "Slow"}, {LogicalID: "Alpha"}},
			build.Options{ProjectDir: dir, Parallel: 1, Logger: quietLogger()})
		done <- outcome{res, err}
	}()
	// Wait for make to start the slow target, then cancel.
	started := filepath.Join(dir, ".aws-sam", "build", "slow-started")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("make never started build-Slow")
		}
	}
	cancel()
	o := <-done
	if !errors.Is(o.err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", o.err)
	}
	if len(o.res) != 2 || !errors.Is(o.res[0].Err, context.Canceled) || !errors.Is(o.res[1].Err, context.Canceled) {
		t.Errorf("results = %+v, want both cancelled (Alpha never got a slot)", o.res)
	}
	if runs(t, dir, "Alpha") != 0 {
		t.Error("Alpha was built after cancellation")
	}
}

// TestBuildRealGoBinary builds an actual Go program through make, the way
// the project's Makefile will, and runs the result.
func TestBuildRealGoBinary(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not in PATH: %v", err)
	}
	dir := newProject(t, "build-Hello:\n\tCGO_ENABLED=0 "+goBin+" build -o $(ARTIFACTS_DIR)/bootstrap ./functions/fn\n")
	write(t, dir, "functions/fn/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from bootstrap\") }\n")
	res := mustBuild(t, dir, []build.Target{{LogicalID: "Hello", Architecture: "x86_64"}}, build.Options{})
	out, err := exec.Command(res[0].Bootstrap).CombinedOutput()
	if err != nil || string(out) != "hello from bootstrap\n" {
		t.Fatalf("running bootstrap = %q, %v", out, err)
	}
}

// goMakefile builds two real Go programs the way the project's Makefile
// does: plain go build recipes, Alpha and Beta from the same package (like
// the filter jobs); Custom has a recipe of its own.
const goMakefile = `GO ?= go
TAGS ?= prod
BUILD = CGO_ENABLED=0 $(GO) build -tags $(TAGS) -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
build-Alpha build-Beta:
	$(call BUILD,fn)
build-Other:
	$(call BUILD,other)
build-Custom:
	@echo custom recipe
	$(GO) build -o $(ARTIFACTS_DIR)/bootstrap ./functions/other
`

func goProject(t *testing.T) string {
	t.Helper()
	dir := newProject(t, goMakefile)
	write(t, dir, "functions/fn/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"fn\") }\n")
	write(t, dir, "functions/other/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"other\") }\n")
	return dir
}

// Plain go build recipes are built by one go command, each package once;
// functions of the same package share the binary; other recipes run make.
func TestBuildSharesOneGoBuild(t *testing.T) {
	dir := goProject(t)
	var logs, out bytes.Buffer
	opts := build.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Output: &out}
	targets := []build.Target{{LogicalID: "Alpha"}, {LogicalID: "Beta"}, {LogicalID: "Other"}, {LogicalID: "Custom"}}
	// The shared targets alone first: nothing else has made the build
	// directory yet.
	mustBuild(t, dir, targets[:3], opts)
	res := mustBuild(t, dir, targets, opts)
	for i, want := range []string{"fn", "fn", "other", "other"} {
		got, err := exec.Command(res[i].Bootstrap).Output()
		if err != nil || string(got) != want+"\n" {
			t.Errorf("%s's bootstrap printed %q, %v; want %q", res[i].LogicalID, got, err, want)
		}
	}
	if !strings.Contains(logs.String(), `msg="one go build for several functions" functions=3 packages=2`) {
		t.Errorf("no shared go build of Alpha, Beta and Other in the logs:\n%s", logs.String())
	}
	if !strings.Contains(out.String(), "[Custom] custom recipe") {
		t.Errorf("Custom was not built by its make target; output:\n%s", out.String())
	}
	alpha, _ := os.Stat(res[0].Bootstrap)
	beta, _ := os.Stat(res[1].Bootstrap)
	if !os.SameFile(alpha, beta) {
		t.Error("Alpha and Beta, built from one package, do not share their binary")
	}

	if got := skipped(res); !slicesEqual(got, []bool{true, true, true, false}) {
		t.Errorf("after building the shared ones: skipped = %v, want all but Custom", got)
	}
	if got := skipped(mustBuild(t, dir, targets, opts)); !slicesEqual(got, []bool{true, true, true, true}) {
		t.Errorf("second build: skipped = %v, want all", got)
	}
	// A variable the recipe takes from the environment changes the
	// recipe, so the functions that use it are rebuilt.
	t.Setenv("TAGS", "debug")
	if got := skipped(mustBuild(t, dir, targets, opts)); !slicesEqual(got, []bool{false, false, false, true}) {
		t.Errorf("after TAGS changed: skipped = %v, want Custom only", got)
	}
}

// When the shared go build fails, every function of it is built by its
// own make target, so each failure is reported as make reports it and the
// others still build.
func TestBuildSharedFailureFallsBackToMake(t *testing.T) {
	dir := goProject(t)
	write(t, dir, "functions/other/main.go", "package main\n\nfunc main() { undefined() }\n")
	res, err := build.Build(context.Background(), []build.Target{{LogicalID: "Alpha"}, {LogicalID: "Other"}},
		build.Options{ProjectDir: dir, Logger: quietLogger()})
	var me *build.MakeError
	if !errors.As(err, &me) || me.LogicalID != "Other" || !errors.Is(err, build.ErrMakeFailed) || !strings.Contains(err.Error(), "undefined: undefined") {
		t.Fatalf("err = %v, want make's failure of Other with the compiler's message", err)
	}
	if res[0].Err != nil || res[1].Err == nil {
		t.Fatalf("results = %+v, want Alpha built and Other failed", res)
	}
	if got, err := exec.Command(res[0].Bootstrap).Output(); err != nil || string(got) != "fn\n" {
		t.Errorf("Alpha's bootstrap printed %q, %v", got, err)
	}
}
