package lambda_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/questlog/questlog/local/bench"
	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/lambda"
)

// BenchmarkInvokeOverhead measures invocations of a trivial echo function
// on a warm environment and, in the same run, a baseline: the same echo
// served in-process by an httptest server over one loopback HTTP request. It
// reports p50 and p99 of both and their ratios.
//
// The runtime is aws-lambda-go (testdata/echo, lambda.Start) or raw
// (testdata/rawruntime, a minimal Runtime API client), which separates the
// emulator's cost from the library's. In back-to-back mode each invocation
// starts as soon as the previous one returned, so it also waits for the
// runtime to come back to GET /next; in idle mode the environment is idle
// (waiting in GET /next) when the timed invocation starts.
//
//	go test ./local/lambda -run '^$' -bench InvokeOverhead -benchtime 20000x
func BenchmarkInvokeOverhead(b *testing.B) {
	for _, rc := range []struct{ name, fixture string }{
		{"aws-lambda-go", "echo"},
		{"raw", "rawruntime"},
	} {
		for _, idle := range []bool{false, true} {
			mode := "back-to-back"
			if idle {
				mode = "idle"
			}
			b.Run(rc.name+"/"+mode, func(b *testing.B) { benchmarkInvoke(b, rc.fixture, idle) })
		}
	}
}

func benchmarkInvoke(b *testing.B, fixture string, idle bool) {
	rt, err := lambda.New([]lambda.Function{fn(fixture)}, lambda.Options{
		LogOutput: io.Discard,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = rt.Close(context.Background()) }()
	ctx := context.Background()
	req := invoke.Request{Function: fixture, Payload: []byte(`{"hello":"world"}`)}
	for range 500 { // cold start and warm-up
		if res, err := rt.Invoke(ctx, req); err != nil || res.Error != nil {
			b.Fatalf("warm-up: %v %+v", err, res)
		}
	}

	lat := make([]time.Duration, 0, b.N)
	pids := rt.PIDs(fixture)
	self, fn := bench.SelfCPU(), bench.ProcsCPU(pids)
	b.ResetTimer()
	for range b.N {
		if idle {
			b.StopTimer()
			for rt.Stats()[fixture].Idle != 1 {
				time.Sleep(20 * time.Microsecond)
			}
			b.StartTimer()
		}
		start := time.Now()
		res, err := rt.Invoke(ctx, req)
		lat = append(lat, time.Since(start))
		if err != nil || res.Error != nil || !bytes.Equal(res.Payload, req.Payload) {
			b.Fatalf("invoke: %v %+v", err, res)
		}
	}
	b.StopTimer()
	b.ReportMetric(bench.PerOp(bench.SelfCPU()-self, b.N), "emulator-cpu-µs/op")
	b.ReportMetric(bench.PerOp(bench.ProcsCPU(pids)-fn, b.N), "function-cpu-µs/op")
	if s := rt.Stats()[fixture]; s.ColdStarts != 1 || s.Environments != 1 {
		b.Fatalf("stats %+v: want one environment, reused", s)
	}

	base := baseline(b, req.Payload, max(b.N, 1000))
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	b50, b99 := percentile(base, 50), percentile(base, 99)
	b.ReportMetric(micros(p50), "p50-µs")
	b.ReportMetric(micros(p99), "p99-µs")
	b.ReportMetric(micros(b50), "baseline-p50-µs")
	b.ReportMetric(micros(b99), "baseline-p99-µs")
	b.ReportMetric(float64(p50)/float64(b50), "p50-ratio")
	b.ReportMetric(float64(p99)/float64(b99), "p99-ratio")
}

// baseline returns n latencies of an in-process echo over loopback HTTP.
func baseline(b *testing.B, payload []byte, n int) []time.Duration {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	client := srv.Client()
	post := func() time.Duration {
		start := time.Now()
		resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		d := time.Since(start)
		if !bytes.Equal(body, payload) {
			b.Fatalf("baseline echo = %s", body)
		}
		return d
	}
	for range 500 {
		post()
	}
	lat := make([]time.Duration, 0, n)
	for range n {
		lat = append(lat, post())
	}
	return lat
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// percentile returns the p-th percentile of d (sorting it in place).
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	return d[min(max(i-1, 0), len(d)-1)]
}
