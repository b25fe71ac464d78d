package bench

import (
	"fmt"
	"io"
)

// The "old" column: issue 12's figures for main before this work, measured
// on a fresh clone on a quiet 2-core machine. Ratios compare across runs;
// absolute figures only on the same machine at the same load.
var old = map[string]string{
	"api":     "2,242 req/s; bare 79,330 req/s: **0.028×**",
	"replay":  "92,457 events/s; DuckDB 285,271/s: **0.32×**",
	"loadgen": "1,439 accepted/s; caught up 1.1 s after",
	"runtime": "p50 293–405 µs; loopback request 37–39 µs: **≈9×**",
	"hdfs":    "274 MB/s; local disk + fsync 1,336 MB/s: **0.21×**",
	"fresh":   "131 s / 132 s",
}

// Summary prints every row of issue 12's table (old beside new), then the
// breakdowns of the API path and the batch path and the scale curves.
func Summary(w io.Writer, r Results) {
	fmt.Fprintln(w, "## questlog benchmarks: issue 12's table, old beside new")
	fmt.Fprintln(w)
	get := func(name, unit string) (float64, bool) { return r.Get(name, unit) }
	row := func(path, key, target string, new string) []string {
		return []string{path, old[key], new, target}
	}
	var rows [][]string

	newAPI := "not run"
	if route, ok := get("APIPath/4-route", "req/s"); ok {
		bare, _ := get("APIPath/1-bare", "req/s")
		p99, _ := get("APIPath/4-route", "p99-ms")
		newAPI = fmt.Sprintf("%s req/s; bare %s req/s: **%s×**; p99 %s ms", num(route, 0), num(bare, 0), num(route/bare, 3), num(p99, 1))
	}
	rows = append(rows, row("emulated API, `wrk -t2 -c16` on /purchase_a_sword/divya, Kafka ack included", "api", "≥ 0.15× bare, p99 < 10 ms", newAPI))

	newReplay := "not run"
	if rate, ok := get("Replay/batch=10000", "events/s"); ok {
		duck, _ := get("Replay/batch=10000", "duckdb-events/s")
		emu, _ := get("Replay/batch=10000", "emulator-cpu-µs/event")
		fn, _ := get("Replay/batch=10000", "function-cpu-µs/event")
		dcpu, _ := get("Replay/batch=10000", "duckdb-cpu-µs/event")
		newReplay = fmt.Sprintf("%s events/s; DuckDB (1 thread) %s/s: **%s×**; CPU per event %s µs (emulator %s + function %s) vs DuckDB's %s µs",
			num(rate, 0), num(duck, 0), num(rate/duck, 2), num(emu+fn, 2), num(emu, 2), num(fn, 2), num(dcpu, 2))
	}
	rows = append(rows, row("`invoke ExtractFunction --replay`, 200,000 events into file://", "replay", "≥ 1.0× DuckDB", newReplay))

	newLoad := "not run"
	if rate, ok := get("Loadgen/partitions=3", "accepted/s"); ok {
		lag, _ := get("Loadgen/partitions=3", "caught-up-s")
		emu, _ := get("Loadgen/partitions=3", "emulator+client-cpu-µs/event")
		fn, _ := get("Loadgen/partitions=3", "functions-cpu-µs/event")
		newLoad = fmt.Sprintf("%s accepted/s; every dataset caught up **%s s** after; CPU per event %s µs (emulator and loadgen %s + functions %s)",
			num(rate, 0), num(lag, 2), num(emu+fn, 0), num(emu, 0), num(fn, 0))
	}
	rows = append(rows, row("`loadgen --count 20000 --concurrency 32`, whole stack, all ten jobs", "loadgen", "≥ 3,000/s on 2 cores, caught up ≤ 2 s", newLoad))

	newRT := "not run"
	if p50, ok := get("InvokeOverhead/aws-lambda-go/back-to-back", "p50-µs"); ok {
		idle, _ := get("InvokeOverhead/aws-lambda-go/idle", "p50-µs")
		base, _ := get("InvokeOverhead/aws-lambda-go/back-to-back", "baseline-p50-µs")
		raw, _ := get("InvokeOverhead/raw/idle", "p50-µs")
		newRT = fmt.Sprintf("p50 %s µs back to back, %s µs idle; loopback request %s µs: **%s×**; a minimal runtime instead of aws-lambda-go: %s µs",
			num(p50, 0), num(idle, 0), num(base, 0), num(p50/base, 1), num(raw, 0))
	}
	rows = append(rows, row("Runtime API round trip, warm", "runtime", "p50 ≤ 100 µs", newRT))

	newHDFS := "not run"
	if h, ok := get("Write256MB", "MB/s"); ok {
		disk, _ := get("Write256MBLocalDisk", "MB/s")
		newHDFS = fmt.Sprintf("%s MB/s; local disk + fsync %s MB/s: **%s×**", num(h, 0), num(disk, 0), num(h/disk, 2))
	}
	rows = append(rows, row("HDFS, 256 MB write", "hdfs", "≥ 0.5× local disk", newHDFS))

	newFresh := "not run"
	if first, ok := get("FreshClone", "first-row-s"); ok {
		ready, _ := get("FreshClone", "ready-s")
		cpu, _ := get("FreshClone", "cpu-s")
		newFresh = fmt.Sprintf("ready after %s s, first Parquet row at **%s s**; %s s of CPU (compiling, mostly): %s s on two idle cores at best",
			num(ready, 0), num(first, 0), num(cpu, 0), num(cpu/2, 0))
	}
	rows = append(rows, row("fresh clone, empty GOCACHE → `make run` ready → first Parquet row after one curl", "fresh", "≤ 60 s on 2 cores", newFresh))
	table(w, []string{"path", "old (issue 12, quiet machine)", "new (this run)", "target"}, rows)

	apiBreakdown(w, r)
	batchBreakdown(w, r)
	scaleCurves(w, r)
}

// apiBreakdown: each row of BenchmarkAPIPath, its rate beside the bare
// handler's, and the CPU time each step adds per request (all processes:
// steadier than rates on a shared machine).
func apiBreakdown(w io.Writer, r Results) {
	stages := []struct{ name, what string }{
		{"APIPath/1-bare", "bare net/http handler"},
		{"APIPath/2-noop", "+ API Gateway + Runtime API + a no-op aws-lambda-go function"},
		{"APIPath/3-produce", "+ one Kafka produce, acks=all"},
		{"APIPath/4-route", "the real route (validation, event id, headers, JSON)"},
	}
	bare, ok := r.Get(stages[0].name, "req/s")
	if !ok {
		return
	}
	cpu := func(name string) (emu, fn, client float64) {
		emu, _ = r.Get(name, "emulator-cpu-µs/req")
		fn, _ = r.Get(name, "function-cpu-µs/req")
		client, _ = r.Get(name, "wrk-cpu-µs/req")
		return
	}
	e, f, c := cpu(stages[len(stages)-1].name)
	routeCPU := e + f + c
	fmt.Fprintln(w, "### The API path, step by step (wrk, 16 connections)")
	fmt.Fprintln(w)
	var rows [][]string
	prev := 0.0
	for _, s := range stages {
		rate, ok := r.Get(s.name, "req/s")
		if !ok {
			continue
		}
		p99, _ := r.Get(s.name, "p99-ms")
		emu, fn, client := cpu(s.name)
		total := emu + fn + client
		rows = append(rows, []string{s.what, num(rate, 0), num(rate/bare, 3) + "×", num(p99, 1),
			num(emu, 0) + " / " + num(fn, 0) + " / " + num(client, 0),
			"+" + num(total-prev, 0) + " µs (" + num(100*(total-prev)/routeCPU, 0) + " %)"})
		prev = total
	}
	table(w, []string{"step", "req/s", "× bare", "p99 ms", "CPU µs/req: emulator / function / wrk", "CPU it adds per request (share of the route's)"}, rows)
}

// batchBreakdown: BenchmarkBatchPath's stages per batch size, CPU per event
// and share.
func batchBreakdown(w io.Writer, r Results) {
	stages := []struct{ name, what string }{
		{"1-read", "read the topic (franz-go from the embedded broker)"},
		{"2-payload", "build the KafkaEvent payload"},
		{"3-payload-decode", "function: decode the payload"},
		{"4-record-decode", "function: decode each record (base64, event JSON)"},
		{"5-munge", "function: munge (MungeFunction, filters)"},
		{"6-parquet", "function: encode Parquet (zstd)"},
		{"7-land-with-parquet", "function: land (lock, journal, write, fsync, rename)"},
	}
	sizes := []string{"100", "1000", "10000"}
	if _, ok := r.Get("BatchPath/batch=1000/6-parquet", "cpu-ns/event"); !ok {
		return
	}
	fmt.Fprintln(w, "### The batch path, stage by stage (one core, CPU ns per event, share of the total)")
	fmt.Fprintln(w)
	header := []string{"stage"}
	for _, s := range sizes {
		header = append(header, "batch of "+s)
	}
	totals := map[string]float64{}
	values := map[string]map[string]float64{}
	for _, size := range sizes {
		values[size] = map[string]float64{}
		parquet, _ := r.Get("BatchPath/batch="+size+"/6-parquet", "cpu-ns/event")
		for _, s := range stages {
			v, _ := r.Get("BatchPath/batch="+size+"/"+s.name, "cpu-ns/event")
			if s.name == "7-land-with-parquet" {
				v -= parquet // the landing alone
			}
			values[size][s.name] = v
			totals[size] += v
		}
	}
	var rows [][]string
	for _, s := range stages {
		row := []string{s.what}
		for _, size := range sizes {
			v := values[size][s.name]
			row = append(row, num(v, 0)+" ("+num(100*v/totals[size], 0)+" %)")
		}
		rows = append(rows, row)
	}
	total := []string{"**total**"}
	for _, size := range sizes {
		total = append(total, "**"+num(totals[size], 0)+"**")
	}
	table(w, header, append(rows, total))
}

// scaleCurves: the replay at three batch sizes, and the whole stack with 1,
// 3 and 6 partitions.
func scaleCurves(w io.Writer, r Results) {
	var rows [][]string
	for _, size := range []string{"100", "1000", "10000"} {
		name := "Replay/batch=" + size
		rate, ok := r.Get(name, "events/s")
		if !ok {
			continue
		}
		emu, _ := r.Get(name, "emulator-cpu-µs/event")
		fn, _ := r.Get(name, "function-cpu-µs/event")
		rows = append(rows, []string{size, num(rate, 0), num(emu+fn, 2) + " (" + num(emu, 2) + " + " + num(fn, 2) + ")"})
	}
	if len(rows) > 0 {
		fmt.Fprintln(w, "### Scale: the replay by records per batch (whole path, through the Runtime API)")
		fmt.Fprintln(w)
		table(w, []string{"records per batch (cut at 6 MB)", "events/s", "CPU µs per event (emulator + function)"}, rows)
	}
	rows = nil
	for _, p := range []string{"1", "3", "6"} {
		name := "Loadgen/partitions=" + p
		rate, ok := r.Get(name, "accepted/s")
		if !ok {
			continue
		}
		lag, _ := r.Get(name, "caught-up-s")
		emu, _ := r.Get(name, "emulator+client-cpu-µs/event")
		fn, _ := r.Get(name, "functions-cpu-µs/event")
		rows = append(rows, []string{p, num(rate, 0), num(lag, 2), num(emu+fn, 0) + " (" + num(emu, 0) + " + " + num(fn, 0) + ")"})
	}
	if len(rows) > 0 {
		fmt.Fprintln(w, "### Scale: the whole stack by partitions (loadgen, 20,000 requests, 32 in flight)")
		fmt.Fprintln(w)
		table(w, []string{"partitions", "accepted/s", "caught up after (s)", "CPU µs per event (emulator and loadgen + functions)"}, rows)
	}
}
