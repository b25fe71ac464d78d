package build

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBuildParallelismBound runs five builds with Parallel 2 against a fake
// make that blocks until released, and checks that exactly two run at once.
func TestBuildParallelismBound(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Makefile", "# not run\n")
	var targets []Target
	for i := range 5 {
		targets = append(targets, Target{LogicalID: fmt.Sprintf("F%d", i)})
	}
	b, err := newBuilder(targets, Options{ProjectDir: dir, Parallel: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	active, maxActive := 0, 0
	started := make(chan string, len(targets))
	release := make(chan struct{})
	b.run = func(ctx context.Context, cmd *exec.Cmd) error {
		mu.Lock()
		active++
		maxActive = max(maxActive, active)
		mu.Unlock()
		started <- cmd.Args[len(cmd.Args)-1]
		<-release
		var artifacts string
		for _, kv := range cmd.Env {
			if v, ok := strings.CutPrefix(kv, "ARTIFACTS_DIR="); ok {
				artifacts = v
			}
		}
		err := os.WriteFile(filepath.Join(artifacts, "bootstrap"), []byte("#!/bin/sh\n"), 0o755)
		mu.Lock()
		active--
		mu.Unlock()
		return err
	}

	done := make(chan error, 1)
	var results []Result
	go func() {
		var err error
		results, err = b.build(context.Background(), targets)
		done <- err
	}()
	var order []string
	order = append(order, <-started, <-started) // two start without any release
	for range len(targets) - 2 {
		release <- struct{}{}            // one finishes…
		order = append(order, <-started) // …and the next one starts
	}
	release <- struct{}{}
	release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatalf("build: %v", err)
	}
	if maxActive != 2 {
		t.Errorf("max concurrent makes = %d, want 2", maxActive)
	}
	slices.Sort(order[:2]) // the first two race each other
	want := []string{"build-F0", "build-F1", "build-F2", "build-F3", "build-F4"}
	if !slices.Equal(order, want) {
		t.Errorf("start order = %v, want %v", order, want)
	}
	for i, r := range results {
		if r.Err != nil || r.Skipped || r.LogicalID != targets[i].LogicalID {
			t.Errorf("result %d = %+v", i, r)
		}
	}
}

func TestInputsHashRule(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Makefile", "build-A:\n")
	writeFile(t, dir, "go.mod", "module m\n")
	writeFile(t, dir, "go.sum", "")
	writeFile(t, dir, "functions/a/main.go", "package main\n")
	buildDir := filepath.Join(dir, "out")
	base, err := inputsHash(dir, buildDir)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := inputsHash(dir, buildDir)
	if again != base {
		t.Fatal("hash is not stable")
	}

	ignored := []string{
		"functions/a/main_test.go", "functions/a/testdata/in.json", "testdata/x", ".git/HEAD", ".aws-sam/build/A/bootstrap",
		".local/state.db", "bin/tool", "local/emu/emu.go", "local/README.md", "out/A/bootstrap", ".idea/ws.xml",
		".env", "functions/a/.DS_Store", "_scratch/notes.go", "template.yaml", "README.md", "events/kafka.json", "cmd/x/main.go",
	}
	for _, rel := range ignored {
		writeFile(t, dir, rel, "x")
		if h, _ := inputsHash(dir, buildDir); h != base {
			t.Errorf("adding %s changed the hash; it is not a build input", rel)
		}
	}

	counted := []string{
		"functions/a/main.go", "Makefile", "go.mod", "go.sum", "internal/event/event.go",
		"internal/event/schema.json", "functions/local/main.go", "internal/bin/bin.go",
	}
	prev := base
	for _, rel := range counted {
		writeFile(t, dir, rel, "changed "+rel)
		h, err := inputsHash(dir, buildDir)
		if err != nil {
			t.Fatal(err)
		}
		if h == prev {
			t.Errorf("changing %s did not change the hash", rel)
		}
		prev = h
	}

	// Renaming a file (same content) changes the hash too.
	if err := os.Rename(filepath.Join(dir, "functions/a/main.go"), filepath.Join(dir, "functions/a/app.go")); err != nil {
		t.Fatal(err)
	}
	if h, _ := inputsHash(dir, buildDir); h == prev {
		t.Error("renaming a Go file did not change the hash")
	}
}

func TestTargetHash(t *testing.T) {
	a := targetHash("inputs", Target{LogicalID: "A", Architecture: "x86_64"}, "")
	for _, other := range []Target{
		{LogicalID: "B", Architecture: "x86_64"},
		{LogicalID: "A", Architecture: "arm64"},
		{LogicalID: "A", Architecture: "x86_64", BuildMethod: "other"},
	} {
		if targetHash("inputs", other, "") == a {
			t.Errorf("targetHash(%+v) equals that of A/x86_64", other)
		}
	}
	if targetHash("inputs", Target{LogicalID: "A", Architecture: "x86_64", BuildMethod: "makefile"}, "") != a {
		t.Error(`BuildMethod "" and "makefile" hash differently`)
	}
	if targetHash("other", Target{LogicalID: "A", Architecture: "x86_64"}, "") == a {
		t.Error("project inputs do not affect the target hash")
	}
	if targetHash("inputs", Target{LogicalID: "A", Architecture: "x86_64"}, "go build -tags pprof") == a {
		t.Error("the make recipe does not affect the target hash")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/proj":    "/tmp/proj",
		"/tmp/my proj": "'/tmp/my proj'",
		"/tmp/it's":    `'/tmp/it'\''s'`,
		"":             "''",
		"/a/$HOME/b":   "'/a/$HOME/b'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseGoRecipe(t *testing.T) {
	const artifacts = "/p/.aws-sam/build/Fn"
	got := parseGoRecipe(`CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o /p/.aws-sam/build/Fn/bootstrap ./functions/extract`, artifacts)
	want := &goRecipe{env: []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}, goCmd: "go",
		flags: []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}, pkg: "./functions/extract"}
	if got == nil || !slices.Equal(got.env, want.env) || got.goCmd != want.goCmd || !slices.Equal(got.flags, want.flags) || got.pkg != want.pkg {
		t.Errorf("parseGoRecipe = %+v, want %+v", got, want)
	}
	if got := parseGoRecipe(`/usr/local/go/bin/go build -o "/p/.aws-sam/build/Fn/bootstrap" example.com/m/cmd\ x`, artifacts); got == nil || got.goCmd != "/usr/local/go/bin/go" || got.pkg != "example.com/m/cmd x" {
		t.Errorf("quoted recipe = %+v", got)
	}
	for _, recipe := range []string{
		"",
		"cd functions/x && go build -o /p/.aws-sam/build/Fn/bootstrap .",
		"go build -o /p/.aws-sam/build/Fn/bootstrap ./x; strip /p/.aws-sam/build/Fn/bootstrap",
		"go build -o /p/.aws-sam/build/Fn/bootstrap ./x\ncp extra /p/.aws-sam/build/Fn/",
		"go build -ldflags \"-X main.v=$(git describe)\" -o /p/.aws-sam/build/Fn/bootstrap ./x",
		"go build -o /p/.aws-sam/build/Other/bootstrap ./x",
		"go build -o /p/.aws-sam/build/Fn/bootstrap main.go",
		"go build -o /p/.aws-sam/build/Fn/bootstrap -o /tmp/y ./x",
		"go vet ./x -o /p/.aws-sam/build/Fn/bootstrap ./x",
		"GOOS=linux go build ./x -o /p/.aws-sam/build/Fn/bootstrap ./y",
		"go build -o /p/.aws-sam/build/Fn/bootstrap ./x > log",
		"go build -o '/p/.aws-sam/build/Fn/bootstrap ./x",
	} {
		if got := parseGoRecipe(recipe, artifacts); got != nil {
			t.Errorf("parseGoRecipe(%q) = %+v, want nil (not a plain go build)", recipe, got)
		}
	}
}
