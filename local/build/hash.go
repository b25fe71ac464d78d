package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// hashFile is written into a function's artifacts directory after a
// successful build; it holds the hex SHA-256 of the build inputs.
const hashFile = ".questlog-build-hash"

// hashVersion is mixed into every hash so that changing the rule below
// invalidates old hash files.
const hashVersion = "questlog-build-hash/v1"

// Function code lives in these top-level directories and files (and in
// top-level .go files, for a project that is a single function); nothing
// else in the project (the emulator in local/, docs, template.yaml, sample
// events) goes into a function binary, so editing it rebuilds nothing.
var (
	sourceTopDirs  = map[string]bool{"functions": true, "internal": true}
	sourceTopFiles = map[string]bool{"go.mod": true, "go.sum": true, "Makefile": true}
)

// inputsHash hashes the project's build inputs (see the package
// documentation for the rule). skipDirs are absolute directories to leave
// out as well (the build directory).
func inputsHash(projectDir string, skipDirs ...string) (string, error) {
	h := sha256.New()
	io.WriteString(h, hashVersion+"\n")
	err := filepath.WalkDir(projectDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(projectDir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			topLevel := !strings.Contains(rel, "/")
			if name == "testdata" || (topLevel && !sourceTopDirs[rel]) || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			for _, s := range skipDirs {
				if path == s {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "_test.go") || (!strings.Contains(rel, "/") && !sourceTopFiles[rel] && !strings.HasSuffix(rel, ".go")) {
			return nil
		}
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "L %s\x00%s\x00", rel, target)
		case t.IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			fmt.Fprintf(h, "F %s\x00", rel)
			n, err := io.Copy(h, f)
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			fmt.Fprintf(h, "\x00%d\x00", n)
		}
		// Sockets, pipes and devices are not build inputs.
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash build inputs: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// targetHash combines the project hash with what distinguishes one
// function's build from another's, including the commands its make target
// runs (so changing a flag, or a variable make takes from the environment,
// rebuilds).
func targetHash(inputs string, t Target, recipe string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		inputs, "id=" + t.LogicalID, "method=" + t.buildMethod(), "arch=" + t.Architecture, "recipe=" + recipe,
	}, "\n")))
	return hex.EncodeToString(sum[:])
}
