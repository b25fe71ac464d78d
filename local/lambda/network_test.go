package lambda_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/lambda"
	"github.com/questlog/questlog/local/netns/netnstest"
)

// With Options.Network the bootstrap runs in the network namespace and
// reaches its Runtime API there.
func TestEnvironmentsRunInTheNetwork(t *testing.T) {
	n := netnstest.New(t)
	rt, _ := newRuntime(t, lambda.Options{Network: n}, fn("echo"))
	var echoed struct{ A int }
	if ok(t, call(t, rt, "echo", `{"a":1}`), &echoed); echoed.A != 1 {
		t.Fatalf("echo answered %+v", echoed)
	}
	pids := rt.PIDs("echo")
	if len(pids) != 1 {
		t.Fatalf("PIDs = %v, want one environment", pids)
	}
	theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pids[0]))
	if err != nil {
		t.Fatal(err)
	}
	if ours, _ := os.Readlink("/proc/self/ns/net"); theirs == ours {
		t.Errorf("the function runs in the emulator's network namespace %s", ours)
	}
}

// BenchmarkColdStart measures cold starts — start the bootstrap, init,
// first invocation — in a network namespace shared by the environments
// (the emulator's isolation), alternating with cold starts on the host,
// the baseline, so both see the same machine. Each is a new runtime; its
// Close is not timed. It reports both medians and their ratio.
//
//	go test ./local/lambda -run '^$' -bench ColdStart -benchtime 200x
func BenchmarkColdStart(b *testing.B) {
	network := netnstest.New(b)
	var host, isolated []time.Duration
	for range b.N {
		host = append(host, coldStart(b, nil))
		isolated = append(isolated, coldStart(b, network))
	}
	h, n := percentile(host, 50), percentile(isolated, 50)
	b.ReportMetric(micros(n), "netns-p50-µs")
	b.ReportMetric(micros(h), "host-p50-µs")
	b.ReportMetric(float64(n)/float64(h), "ratio")
}

func coldStart(b *testing.B, network lambda.Network) time.Duration {
	rt, err := lambda.New([]lambda.Function{fn("echo")}, lambda.Options{Network: network, LogOutput: io.Discard, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	res, err := rt.Invoke(context.Background(), invoke.Request{Function: "echo", Payload: []byte(`{}`)})
	took := time.Since(start)
	if err != nil || res.Error != nil {
		b.Fatalf("invoke: %v %+v", err, res)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = rt.Close(ctx)
	return took
}
