// Package build builds Lambda functions the way `sam build` does for
// functions with Metadata BuildMethod makefile (the default for provided.*
// runtimes).
//
// # What runs
//
// For each function it runs, with the project directory as working
// directory,
//
//	make --makefile <ProjectDir>/Makefile build-<LogicalID>
//
// with ARTIFACTS_DIR set to the absolute <BuildDir>/<LogicalID>; the target
// must leave an executable bootstrap there. The artifacts directory is
// emptied first, as sam build does. Unlike sam build, which copies the
// source to a scratch directory before running make, this builds in place:
// it is faster, and Go's build cache makes the copy pointless. A Makefile
// that writes into the source tree therefore does so for real. The
// Makefile is the project's (SAM looks in CodeUri; keep CodeUri: . or put
// the Makefile in both places). MAKEFLAGS, MFLAGS and MAKELEVEL are removed
// from make's environment, so an emulator started by make does not hand
// make a jobserver it cannot reach.
//
// # One go build for many functions
//
// make --dry-run tells what each target would run. Targets whose recipe is
// one plain `go build [flags] -o $(ARTIFACTS_DIR)/bootstrap <package>` with
// the same environment and flags (the project's own) are built by a single
// go command: each package is compiled once, with all CPUs, each main
// package linked once, and the binaries are hard-linked into the artifacts
// directories (the filter jobs share one). On an empty Go cache that halves
// the build; on a warm one it saves sixteen go commands. Other recipes run
// through make as above, and so does every target of a shared build that
// fails, so build errors read as make reports them.
//
// # Skipping unchanged functions
//
// After a successful build the hash of the build inputs is stored in
// <ARTIFACTS_DIR>/.questlog-build-hash. Next time, a function whose hash
// matches and whose bootstrap exists is not rebuilt (Options.Force
// overrides). The inputs, hashed once per Build call, are go.mod, go.sum,
// the Makefile, top-level .go files, and every file under functions/ and internal/ (paths and
// contents; symlinks by target) except *_test.go files, testdata
// directories, and names starting with "." or "_" (the go tool ignores
// them). Nothing else in the project goes into a function binary: editing
// the emulator (local/), template.yaml (a new filter job) or the docs
// rebuilds nothing. Then the function's logical ID, build method,
// architecture and make recipe (as make --dry-run prints it, so a changed
// flag or a variable taken from the environment rebuilds) are mixed in. Any change to function code rebuilds every
// function; Go's build cache makes the rebuilds of untouched ones cheap.
// Things outside the project (the Go toolchain version, GOFLAGS, a replace
// directive pointing outside) are not
// hashed: use Force after changing them.
package build
