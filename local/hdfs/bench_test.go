package hdfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	gohdfs "github.com/colinmarc/hdfs/v2"
)

// Throughput of a 256 MB file through the colinmarc/hdfs client and the
// emulator (128 MiB blocks, so the DataNode fsyncs twice per file), against
// the same bytes written and read with os.File in the same directory tree.
// The local write also ends with Sync, as the DataNode does for each block.
// Both sides use 1 MiB application buffers.
//
// The emulator runs in a child process, as it does when questlog uses it,
// so the client's allocations and garbage collection do not share a Go
// runtime with the server. The InProcess variants run it in the benchmark's
// own process.
//
//	go test ./local/hdfs -run '^$' -bench . -benchtime 3x
const benchSize = 256 << 20

func benchServer(b *testing.B) *gohdfs.Client {
	ch := startChild(b, b.TempDir(), envChildBS+"="+strconv.Itoa(128<<20))
	b.Cleanup(func() { ch.stdin.Close(); ch.cmd.Wait() })
	return newClient(b, ch.addr, testSuperuser)
}

func benchServerInProcess(b *testing.B) *gohdfs.Client {
	s, _ := newServer(b, func(c *Config) { c.BlockSize = 128 << 20 })
	return newClient(b, s.NameNodeAddr(), testSuperuser)
}

func writeHDFS(b *testing.B, c *gohdfs.Client, name string, chunk []byte) {
	w, err := c.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	for off := 0; off < benchSize; off += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func writeLocal(b *testing.B, name string, chunk []byte) {
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	for off := 0; off < benchSize; off += len(chunk) {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// drain reads r to the end through buf and returns the byte count.
func drain(b *testing.B, r io.Reader, buf []byte) int64 {
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite256MB(b *testing.B) { benchWrite(b, benchServer(b)) }
func BenchmarkWrite256MBInProcess(b *testing.B) {
	defer cpuMetric(b)()
	benchWrite(b, benchServerInProcess(b))
}
func BenchmarkRead256MB(b *testing.B) { benchRead(b, benchServer(b)) }
func BenchmarkRead256MBInProcess(b *testing.B) {
	defer cpuMetric(b)()
	benchRead(b, benchServerInProcess(b))
}

// cpuMetric starts measuring the process's user+system CPU time and
// returns a func that reports it per operation as cpu-ms/op: for the
// InProcess variants that is client and server together, for the others
// the client alone. Other load on the machine disturbs it far less than
// wall time.
func cpuMetric(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64((cpu()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

func benchWrite(b *testing.B, c *gohdfs.Client) {
	chunk := randomBytes(1<<20, 1)
	b.SetBytes(benchSize)
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("/bench%d", i)
		writeHDFS(b, c, name, chunk)
		b.StopTimer()
		if err := c.Remove(name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkWrite256MBLocalDisk(b *testing.B) {
	dir := b.TempDir()
	chunk := randomBytes(1<<20, 1)
	b.SetBytes(benchSize)
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		name := filepath.Join(dir, fmt.Sprintf("bench%d", i))
		writeLocal(b, name, chunk)
		b.StopTimer()
		os.Remove(name)
		b.StartTimer()
	}
}

func benchRead(b *testing.B, c *gohdfs.Client) {
	writeHDFS(b, c, "/bench", randomBytes(1<<20, 2))
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		f, err := c.Open("/bench")
		if err != nil {
			b.Fatal(err)
		}
		if n := drain(b, f, buf); n != benchSize {
			b.Fatalf("read %d bytes", n)
		}
		f.Close()
	}
}

func BenchmarkRead256MBLocalDisk(b *testing.B) {
	name := filepath.Join(b.TempDir(), "bench")
	writeLocal(b, name, randomBytes(1<<20, 2))
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		if n := drain(b, f, buf); n != benchSize {
			b.Fatalf("read %d bytes", n)
		}
		f.Close()
	}
}
