package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/bench"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/lambda"
	"github.com/questlog/questlog/local/loadgen"
)

// These benchmarks drive servers with a fixed workload; run them with
// -benchtime 1x (make bench does). Rates are wall-clock and noisy on a
// shared machine; the cpu-µs/req figures (CPU time of every process
// involved, per request) are steadier.

const wrkDuration = 5 * time.Second

// apiStage measures one row of the API path at 16 connections: wrk's rate
// and latency, and the CPU time per request of the server side (this
// process: gateway, Runtime API, broker; plus the function processes) and
// of wrk.
func apiStage(b *testing.B, url string, functionPIDs func() []int) {
	if _, err := bench.Wrk(url, 16, time.Second); err != nil { // warm-up: every environment started
		b.Fatal(err)
	}
	for range b.N {
		pids := functionPIDs()
		self, fns := bench.SelfCPU(), bench.ProcsCPU(pids)
		r, err := bench.Wrk(url, 16, wrkDuration)
		if err != nil {
			b.Fatal(err)
		}
		emu, fn := bench.SelfCPU()-self, bench.ProcsCPU(pids)-fns
		b.ReportMetric(r.PerSecond, "req/s")
		b.ReportMetric(float64(r.P50)/1e6, "p50-ms")
		b.ReportMetric(float64(r.P99)/1e6, "p99-ms")
		b.ReportMetric(bench.PerOp(emu+fn, r.Requests), "server-cpu-µs/req")
		b.ReportMetric(bench.PerOp(emu, r.Requests), "emulator-cpu-µs/req")
		b.ReportMetric(bench.PerOp(fn, r.Requests), "function-cpu-µs/req")
		b.ReportMetric(bench.PerOp(r.CPU, r.Requests), "wrk-cpu-µs/req")
	}
}

func noPIDs() []int { return nil }

// BenchmarkAPIPath is the emulated API path and its floor, row by row, in
// one run: a bare net/http handler; a no-op aws-lambda-go function behind
// API Gateway and the Runtime API; the same plus one Kafka produce with
// acks=all; the real route (ApiPurchaseSwordFunction, built as make run
// builds it). Each row's extra cost over the one before is what that step
// costs.
func BenchmarkAPIPath(b *testing.B) {
	cfg := config(b)
	cfg.Functions = []string{"ApiPurchaseSwordFunction"}
	e := start(b, cfg, emulator.Serve{API: true})
	reply := "Hello divya!! You purchased a Sword successfully!\n"
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, reply)
	}))
	defer bare.Close()
	fixtures := fixtureGateway(b, e)

	b.Run("1-bare", func(b *testing.B) { apiStage(b, bare.URL+"/purchase_a_sword/divya", noPIDs) })
	for i, name := range []string{"noop", "produce"} {
		b.Run(fmt.Sprintf("%d-%s", i+2, name), func(b *testing.B) {
			apiStage(b, fixtures.url+"/"+name+"/purchase_a_sword/divya", func() []int { return fixtures.rt.PIDs(name) })
		})
	}
	b.Run("4-route", func(b *testing.B) {
		apiStage(b, e.APIURL+"/purchase_a_sword/divya", func() []int { return e.Runtime.PIDs("ApiPurchaseSwordFunction") })
	})
}

type fixtures struct {
	url string
	rt  *lambda.Runtime
}

// fixtureGateway serves testdata/noop and testdata/produce behind API
// Gateway and the Runtime API, as the emulator serves the real routes, with
// the template's settings (GOMAXPROCS=1, 16 environments) and e's broker.
func fixtureGateway(b *testing.B, e *emulator.Emulator) fixtures {
	dir := buildFixtures(b)
	var fns []lambda.Function
	var routes []apigw.Route
	for _, name := range []string{"noop", "produce"} {
		fns = append(fns, lambda.Function{Name: name, Bootstrap: filepath.Join(dir, name, "bootstrap"), MemoryMB: 256, Timeout: 10 * time.Second,
			Env: map[string]string{"GOMAXPROCS": "1", "KAFKA_BOOTSTRAP_SERVERS": e.Brokers[0], "KAFKA_TOPIC": "game-events"}})
		routes = append(routes, apigw.Route{Method: "GET", Path: "/" + name + "/purchase_a_sword/{username}", Function: name})
	}
	log, out := testLogs(b)
	rt, err := lambda.New(fns, lambda.Options{Logger: log, LogOutput: out})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })
	h, err := apigw.New(routes, rt, apigw.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return fixtures{url: "http://" + l.Addr().String(), rt: rt}
}

var (
	fixturesOnce sync.Once
	fixturesDir  string
	fixturesErr  error
)

// buildFixtures builds the benchmark functions in testdata/ as the Makefile
// builds functions, each into <dir>/<name>/bootstrap.
func buildFixtures(b *testing.B) string {
	fixturesOnce.Do(func() {
		fixturesDir = filepath.Join(filepath.Dir(questlogBin), "fixtures") // removed with it by TestMain
		for _, name := range []string{"noop", "produce"} {
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc"+os.Getenv("FUNCTION_TAGS"), "-trimpath", "-ldflags", "-s -w",
				"-o", filepath.Join(fixturesDir, name, "bootstrap"), "./testdata/"+name)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				fixturesErr = fmt.Errorf("build %s: %v\n%s", name, err, out)
				return
			}
		}
	})
	if fixturesErr != nil {
		b.Fatal(fixturesErr)
	}
	return fixturesDir
}

// BenchmarkLoadgen plays 20,000 requests of the player population at full
// speed (32 in flight) against the whole emulator, every job running, and
// measures how long after the last answer every job has landed every event
// (its mapping committed the topic's end). With 1, 3 and 6 partitions: the
// jobs' parallelism.
func BenchmarkLoadgen(b *testing.B) {
	for _, partitions := range []int{3, 1, 6} {
		b.Run(fmt.Sprintf("partitions=%d", partitions), func(b *testing.B) {
			cfg := config(b)
			cfg.Partitions = partitions
			e := start(b, cfg, everything)
			for i := range b.N {
				loadgenRun(b, e, uint64(i+1))
			}
		})
	}
}

func loadgenRun(b *testing.B, e *emulator.Emulator, seed uint64) {
	self, fns := bench.SelfCPU(), functionsCPU(e)
	res, err := loadgen.Run(context.Background(), loadgen.Config{Count: 20_000, Concurrency: 32, Seed: seed, BaseURL: e.APIURL})
	if err != nil {
		b.Fatal(err)
	}
	ended := time.Now()
	if res.Errors > 0 {
		b.Fatalf("%d errors: %v", res.Errors, res.ErrorsByStatus)
	}
	end := endOffsets(b, e.Brokers)
	for !caughtUp(e.Stats(), end) {
		if time.Since(ended) > 5*time.Minute {
			b.Fatalf("the jobs did not catch up within 5 minutes: %+v", e.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	lag := time.Since(ended)
	fnCPU := sumCPU(functionsCPU(e)) - sumCPU(fns) // processes started during the run count from their start
	b.ReportMetric(res.AcceptedPerSec, "accepted/s")
	b.ReportMetric(lag.Seconds(), "caught-up-s")
	b.ReportMetric(res.LatencyMs.P50, "p50-ms")
	b.ReportMetric(res.LatencyMs.P99, "p99-ms")
	b.ReportMetric(bench.PerOp(bench.SelfCPU()-self, res.Accepted), "emulator+client-cpu-µs/event")
	b.ReportMetric(bench.PerOp(fnCPU, res.Accepted), "functions-cpu-µs/event")
}

// functionsCPU is the CPU time of every function process, by pid.
func functionsCPU(e *emulator.Emulator) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, fn := range e.Template.Functions {
		for _, pid := range e.Runtime.PIDs(fn.LogicalID) {
			out[pid] = bench.ProcCPU(pid)
		}
	}
	return out
}

func sumCPU(m map[int]time.Duration) time.Duration {
	var total time.Duration
	for _, d := range m {
		total += d
	}
	return total
}

// endOffsets returns the next offset of every partition of the topic.
func endOffsets(b *testing.B, brokers []string) map[int32]int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), "game-events")
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		b.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// caughtUp reports whether every mapping committed every partition's end.
func caughtUp(stats []emulator.MappingStats, end map[int32]int64) bool {
	for _, m := range stats {
		for p, next := range end {
			if next > 0 && m.Committed[p] < next {
				return false
			}
		}
	}
	return true
}
