package lake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// EngineName is the SQL engine's executable name.
const EngineName = "questlog-sql"

// engineSource is the engine's package, relative to the project directory.
const engineSource = "local/lake/cmd/questlog-sql"

// engineInputs are what the engine's build depends on, relative to the
// project directory: its packages, and the module's requirements.
var engineInputs = []string{engineSource, "local/lake/internal/wire", "local/lake/internal/sqltext", "go.mod", "go.sum"}

// findEngine returns the engine binary: Config.Engine, else PrepareEngine's.
func (c *Client) findEngine(ctx context.Context) (string, error) {
	if c.cfg.Engine != "" {
		return c.cfg.Engine, nil
	}
	return PrepareEngine(ctx, c.cfg.ProjectDir, c.cfg.DataDir, c.cfg.Progress)
}

// PrepareEngine returns the engine binary: questlog-sql next to the
// running executable (an installed questlog), else one built from the
// project's source into the data directory, (re)built now if its source
// changed since. `questlog start` calls it once the emulator is ready, so
// the first query does not wait for the build.
func PrepareEngine(ctx context.Context, projectDir, dataDir string, progress io.Writer) (string, error) {
	if exe, err := os.Executable(); err == nil {
		sibling := filepath.Join(filepath.Dir(exe), EngineName)
		if isExecutable(sibling) {
			return sibling, nil
		}
	}
	if _, err := os.Stat(filepath.Join(projectDir, engineSource)); err != nil {
		return "", errNoEngine
	}
	return buildEngine(ctx, projectDir, filepath.Join(dataDir, "lake", "bin"), progress)
}

// buildEngine builds the engine into binDir unless the binary there was
// built from the current source. Concurrent builds (two commands started
// at once) wait for each other.
func buildEngine(ctx context.Context, projectDir, binDir string, progress io.Writer) (string, error) {
	bin := filepath.Join(binDir, EngineName)
	stamp := bin + ".inputs"
	hash, err := hashInputs(projectDir)
	if err != nil {
		return "", fmt.Errorf("hash the SQL engine's source: %w", err)
	}
	current := func() bool {
		got, err := os.ReadFile(stamp)
		return err == nil && string(got) == hash && isExecutable(bin)
	}
	if current() {
		return bin, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(binDir, ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if current() {
		return bin, nil
	}
	if progress != nil {
		fmt.Fprintf(progress, "building the SQL engine (DuckDB, with cgo) into %s: a minute or two the first time, seconds after a change...\n", binDir)
	}
	began := time.Now()
	tmp := bin + ".tmp"
	cmd := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-o", tmp, "./"+engineSource)
	cmd.Dir = projectDir
	// DuckDB needs cgo even where the functions are built without it.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build the SQL engine (needs Go and a C compiler for cgo): %w\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	if err := os.WriteFile(stamp, []byte(hash), 0o644); err != nil {
		return "", err
	}
	if progress != nil {
		fmt.Fprintf(progress, "built the SQL engine in %s\n", time.Since(began).Round(100*time.Millisecond))
	}
	return bin, nil
}

// hashInputs hashes the contents of the engine's inputs.
func hashInputs(projectDir string) (string, error) {
	h := sha256.New()
	for _, in := range engineInputs {
		p := filepath.Join(projectDir, in)
		names := []string{p}
		if st, err := os.Stat(p); err != nil {
			return "", err
		} else if st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return "", err
			}
			names = names[:0]
			for _, e := range entries {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
					names = append(names, filepath.Join(p, e.Name()))
				}
			}
			slices.Sort(names)
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s %d\n", filepath.Base(name), len(data))
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// goTool is the go command: the one on PATH, else the toolchain's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
