package build_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/questlog/questlog/local/build"
	"github.com/questlog/questlog/local/template"
)

const appTemplate = `# the app
Transform: AWS::Serverless-2016-10-31
Parameters:
  Root: { Type: String, Default: /tmp }
Globals:
  Function:
    CodeUri: .
    Runtime: provided.al2023
Resources:
  Alpha:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: makefile }
    Properties:
      Handler: bootstrap
      Environment:
        Variables: { ROOT: !Ref Root } # kept short
  Beta:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/beta
      Handler: bootstrap
  Gamma:
    Type: AWS::Serverless::Function
  Bucket:
    Type: AWS::S3::Bucket
    Properties: { BucketName: !Sub "${AWS::StackName}-data" }
`

// The built template points each built function at its folder, as sam
// build's does, keeps every other path pointing where it pointed, and
// keeps the rest of the template as written.
func TestWriteTemplatePointsFunctionsAtTheirBuildFolders(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "template.yaml", appTemplate)
	for _, id := range []string{"Alpha", "Gamma"} {
		write(t, dir, ".aws-sam/build/"+id+"/bootstrap", "#!/bin/sh\n")
		if err := os.Chmod(filepath.Join(dir, ".aws-sam/build", id, "bootstrap"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path, err := build.WriteTemplate(filepath.Join(dir, "template.yaml"), build.Options{ProjectDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, ".aws-sam", "build", "template.yaml"); path != want {
		t.Errorf("wrote %s, want %s", path, want)
	}
	built, err := template.Load(path, template.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("load the built template: %v", err)
	}
	out := filepath.Join(dir, ".aws-sam", "build")
	want := map[string]string{
		"Alpha": filepath.Join(out, "Alpha"),    // built
		"Beta":  filepath.Join(dir, "src/beta"), // not built: still the source
		"Gamma": filepath.Join(out, "Gamma"),    // built, had no Properties
	}
	for id, codeURI := range want {
		fn := built.Function(id)
		if fn == nil {
			t.Fatalf("%s missing from the built template", id)
		}
		if fn.CodeURI != codeURI {
			t.Errorf("%s: CodeUri %q, want %q", id, fn.CodeURI, codeURI)
		}
	}
	data, _ := os.ReadFile(path)
	for _, kept := range []string{"CodeUri: ../..", "CodeUri: Alpha", "CodeUri: ../../src/beta", "!Ref Root", `!Sub "${AWS::StackName}-data"`, "# kept short", "BuildMethod: makefile"} {
		if !strings.Contains(string(data), kept) {
			t.Errorf("the built template lost %q:\n%s", kept, data)
		}
	}
}

// The project's own template, built: every function's CodeUri is a
// folder holding its bootstrap.
func TestWriteTemplateOfTheRepository(t *testing.T) {
	project, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	buildDir := t.TempDir()
	src := filepath.Join(project, "template.yaml")
	tpl, err := template.Load(src, template.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range tpl.Functions {
		write(t, buildDir, fn.LogicalID+"/bootstrap", "")
		if err := os.Chmod(filepath.Join(buildDir, fn.LogicalID, "bootstrap"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path, err := build.WriteTemplate(src, build.Options{ProjectDir: project, BuildDir: buildDir})
	if err != nil {
		t.Fatal(err)
	}
	built, err := template.Load(path, template.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if len(built.Functions) != len(tpl.Functions) {
		t.Fatalf("%d functions built, %d in the template", len(built.Functions), len(tpl.Functions))
	}
	for _, fn := range built.Functions {
		if fn.CodeURI != filepath.Join(buildDir, fn.LogicalID) {
			t.Errorf("%s: CodeUri %s, want its build folder", fn.LogicalID, fn.CodeURI)
		}
		if _, err := os.Stat(filepath.Join(fn.CodeURI, "bootstrap")); err != nil {
			t.Errorf("%s: CodeUri %q holds no bootstrap: %v", fn.LogicalID, fn.CodeURI, err)
		}
	}
}
