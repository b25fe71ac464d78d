package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/sink"
)

// BenchmarkFreshClone is the first `make run` of a fresh clone with an
// empty Go build cache (GOCACHE): from make run to the emulator's banner,
// then one request, then the first Parquet file of extracted_events. The
// module cache is kept (it holds downloads, not compiled work); set
// BENCH_EMPTY_MODCACHE=1 to start with an empty one too, which adds the
// downloads.
func BenchmarkFreshClone(b *testing.B) {
	for range b.N {
		dir := cloneWorkingTree(b)
		env := append(os.Environ(), "GOCACHE="+b.TempDir())
		if os.Getenv("BENCH_EMPTY_MODCACHE") == "1" {
			env = append(env, "GOMODCACHE="+b.TempDir(), "GOFLAGS=-modcacherw")
		}
		cmd := exec.Command("make", "run", "ARGS=--port 0 --lambda-port 0 --kafka-port 0 --hdfs-port 0 --log-level warn")
		cmd.Dir, cmd.Env = dir, env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stdout = io.Discard
		started := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		stop := func() {
			// make, the emulator and the go commands are in the group this
			// benchmark made; the emulator stops its functions.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(time.Minute):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		api, datasets, log := waitBanner(b, out, 15*time.Minute)
		ready := time.Since(started)
		if api == "" {
			stop()
			b.Fatalf("make run never printed its banner:\n%s", log)
		}
		if r := request(b, "GET", api+"/purchase_a_sword/divya", ""); r.status != 200 {
			stop()
			b.Fatalf("first request: %d %s", r.status, r.body)
		}
		st := openStore(b, datasets)
		s := sink.New(st, nil)
		for {
			files, err := s.Files(context.Background(), "extracted_events")
			if err == nil && len(files) > 0 {
				break
			}
			if time.Since(started) > 20*time.Minute {
				stop()
				b.Fatal("no Parquet file 20 minutes after make run")
			}
			time.Sleep(20 * time.Millisecond)
		}
		firstRow := time.Since(started)
		stop()
		b.ReportMetric(ready.Seconds(), "ready-s")
		b.ReportMetric(firstRow.Seconds(), "first-row-s")
		// make waited for every go command and compiler it ran: its
		// children's CPU time is the build's, whatever else ran meanwhile.
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			b.ReportMetric(float64(ru.Utime.Nano()+ru.Stime.Nano())/1e9, "cpu-s")
		}
	}
}

var (
	bannerAPI      = regexp.MustCompile(`^\s+API\s+(http://\S+)`)
	bannerDatasets = regexp.MustCompile(`^\s+datasets\s+(\S+)`)
)

// waitBanner reads the emulator's output until its banner gave the API's
// URL and the dataset root, then keeps draining it.
func waitBanner(b *testing.B, r io.Reader, within time.Duration) (api, datasets, log string) {
	type found struct{ api, datasets, log string }
	ch := make(chan found, 1)
	go func() {
		var f found
		var all bytes.Buffer
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			if f.datasets == "" {
				all.WriteString(line + "\n")
			}
			if m := bannerAPI.FindStringSubmatch(line); m != nil {
				f.api = m[1]
			}
			if m := bannerDatasets.FindStringSubmatch(line); m != nil && f.datasets == "" {
				f.datasets = m[1]
				f.log = all.String()
				ch <- f
			}
		}
		if f.datasets == "" {
			ch <- found{log: all.String()}
		}
	}()
	select {
	case f := <-ch:
		return f.api, f.datasets, f.log
	case <-time.After(within):
		return "", "", "(timed out)"
	}
}

// cloneWorkingTree copies the project's tracked and untracked-but-not-
// ignored files, as a clone of the working tree would hold them.
func cloneWorkingTree(b *testing.B) string {
	out, err := exec.Command("git", "-C", projectDir(), "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		b.Fatalf("git ls-files: %v", err)
	}
	dst := b.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(projectDir(), rel))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		}
		if err != nil {
			b.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(projectDir(), rel))
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, info.Mode().Perm()); err != nil {
			b.Fatal(err)
		}
	}
	return dst
}
