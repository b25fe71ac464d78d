package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/local/bench"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/esm"
)

// BenchmarkReplay is `invoke ExtractFunction --replay` over 200,000 events
// into file://, beside DuckDB on one thread turning the same events (JSON
// lines) into zstd Parquet in the same run. invoke --replay sends batches of
// up to 10,000 records; 1,000 (the live mapping's) and 100 show how the
// cost per event grows with smaller batches.
func BenchmarkReplay(b *testing.B) {
	const events = 200_000
	cfg := config(b)
	cfg.Functions = []string{"ExtractFunction"}
	root := b.TempDir()
	cfg.ParameterOverrides = map[string]string{emulator.ParamDatasetRoot: "file://" + root}
	e := start(b, cfg, emulator.Serve{})
	produce(b, e.Brokers, events, 1)
	duck, duckCPU := duckDBCopy(b, exportJSONLines(b, e.Brokers, events))
	fn := e.Template.Function("ExtractFunction")
	for _, size := range []int{esm.MaxBatchSize, 1000, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			m := e.Mapping(fn, fn.KafkaEvents[0])
			m.BatchSize = size
			for range b.N {
				os.RemoveAll(filepath.Join(root, "extracted_events"))
				fns := sumCPU(functionsCPU(e))
				self := bench.SelfCPU()
				sum, err := esm.Replay(context.Background(), m, e.Runtime, esm.ReplayOptions{Options: esm.Options{Logger: cfg.Logger}})
				if err != nil || sum.Invoked != events {
					b.Fatalf("replay: %+v %v", sum, err)
				}
				emu, fn := bench.SelfCPU()-self, sumCPU(functionsCPU(e))-fns
				rate := float64(events) / sum.Duration.Seconds()
				b.ReportMetric(rate, "events/s")
				b.ReportMetric(float64(events)/duck.Seconds(), "duckdb-events/s")
				b.ReportMetric(rate*duck.Seconds()/float64(events), "ratio")
				// CPU per event is what the rate would be on a quiet
				// machine, whatever else runs.
				b.ReportMetric(bench.PerOp(emu, events), "emulator-cpu-µs/event")
				b.ReportMetric(bench.PerOp(fn, events), "function-cpu-µs/event")
				b.ReportMetric(bench.PerOp(duckCPU, events), "duckdb-cpu-µs/event")
			}
		})
	}
}

// exportJSONLines writes the topic's values, one per line, to a file.
func exportJSONLines(b *testing.B, brokers []string, n int) string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("game-events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	path := filepath.Join(b.TempDir(), "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			b.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			w.Write(r.Value)
			w.WriteByte('\n')
			got++
		})
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// duckDBCopy runs DuckDB's JSON lines → zstd Parquet on one thread and
// returns how long the COPY took and the CPU time it used.
func duckDBCopy(b *testing.B, jsonl string) (wall, cpu time.Duration) {
	dir := filepath.Join(projectDir(), "internal", "sink", "testdata", "duckdb")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		b.Fatal("DuckDB is not installed: run `make testdeps`")
	}
	out, err := exec.Command("node", filepath.Join(dir, "copy.mjs"), jsonl, filepath.Join(b.TempDir(), "out.parquet")).CombinedOutput()
	if err != nil {
		b.Fatalf("duckdb: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		b.Fatalf("duckdb printed %q", out)
	}
	secs, err1 := strconv.ParseFloat(f[0], 64)
	cpuSecs, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("duckdb printed %q", out)
	}
	return time.Duration(secs * float64(time.Second)), time.Duration(cpuSecs * float64(time.Second))
}
