package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/questlog/questlog/internal/testenv"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/loadgen"
)

// These benchmarks drive servers with a fixed workload; run them with
// -benchtime 1x (make bench does).

// wrk runs Debian's wrk against url and returns requests per second.
func wrk(b *testing.B, url string, connections int) float64 {
	b.Helper()
	out, err := exec.Command(testenv.Need(b, "wrk", "apt-get install wrk"), "-t", "2", "-c", strconv.Itoa(connections), "-d", "5s", url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
		b.Fatalf("wrk saw %s failed responses:\n%s", m[1], out)
	}
	m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("no rate in wrk's output:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	return rps
}

// BenchmarkAPIPath is requests/second through the emulated API path (HTTP →
// API Gateway → Runtime API → the route function → Kafka ack → back) at 16
// connections, beside a bare net/http handler measured in the same run.
func BenchmarkAPIPath(b *testing.B) {
	cfg := config(b)
	cfg.Functions = []string{"ApiPurchaseSwordFunction"}
	e := start(b, cfg, emulator.Serve{API: true})
	url := e.APIURL + "/purchase_a_sword/divya"
	if r := request(b, "GET", url, ""); r.status != 200 {
		b.Fatalf("warm-up: %d %s", r.status, r.body)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello divya!! You purchased a Sword successfully!\n")
	}))
	defer bare.Close()
	for range b.N {
		emulated := wrk(b, url, 16)
		baseline := wrk(b, bare.URL+"/purchase_a_sword/divya", 16)
		b.ReportMetric(emulated, "emulated-req/s")
		b.ReportMetric(baseline, "bare-req/s")
		b.ReportMetric(emulated/baseline, "ratio")
	}
}

// BenchmarkLoadgen plays 5,000 requests of the player population at full
// speed (16 in flight) against the whole emulator, every job running.
func BenchmarkLoadgen(b *testing.B) {
	e := start(b, config(b), everything)
	for i := range b.N {
		res, err := loadgen.Run(context.Background(), loadgen.Config{Count: 5000, Concurrency: 16, Seed: uint64(i + 1), BaseURL: e.APIURL})
		if err != nil {
			b.Fatal(err)
		}
		if res.Errors > 0 {
			b.Fatalf("%d errors: %v", res.Errors, res.ErrorsByStatus)
		}
		b.ReportMetric(res.AcceptedPerSec, "accepted/s")
		b.ReportMetric(res.LatencyMs.P50, "p50-ms")
		b.ReportMetric(res.LatencyMs.P90, "p90-ms")
		b.ReportMetric(res.LatencyMs.P99, "p99-ms")
		b.ReportMetric(res.LatencyMs.Max, "max-ms")
	}
}

var _ = fmt.Sprint
