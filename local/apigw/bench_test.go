package apigw_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/invoke"
)

// echoInvoker answers every invocation at once with a canned 2.0 response,
// so a benchmark measures only the gateway: routing, event building,
// response mapping, logging.
type echoInvoker struct{}

var echoPayload = []byte(`{"statusCode":200,"headers":{"Content-Type":"text/plain; charset=utf-8"},"body":"purchased a sword"}`)

func (echoInvoker) Invoke(context.Context, invoke.Request) (*invoke.Result, error) {
	return &invoke.Result{RequestID: "echo", Payload: echoPayload}, nil
}

// bareHandler writes the same response as the function behind the gateway.
var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "purchased a sword")
})

func benchGateway(b testing.TB) http.Handler {
	return newGateway(b, []apigw.Route{
		{Method: "GET", Path: "/purchase_a_sword/{username}", Function: "PurchaseSwordFunction"},
		{Method: "POST", Path: "/items", Function: "ItemsFunction"},
		{Method: "ANY", Path: "/{proxy+}", Function: "ProxyFunction"},
	}, echoInvoker{})
}

// discardWriter is a reusable ResponseWriter, so the benchmark does not
// measure httptest.ResponseRecorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) reset()                      { clear(d.h) }

func benchRequest() *http.Request {
	r := httptest.NewRequest("GET", "/purchase_a_sword/bob?color=red", nil)
	r.Host = "127.0.0.1:3000"
	r.RemoteAddr = "127.0.0.1:51234"
	r.Header.Set("User-Agent", "hey/0.0.1")
	r.Header.Set("Accept-Encoding", "gzip")
	return r
}

func serveLoop(b *testing.B, h http.Handler) {
	r := benchRequest()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
}

// BenchmarkGatewayOverhead measures ServeHTTP through the gateway with an
// in-process echo Invoker against a bare handler writing the same
// response. The gateway sub-benchmark reports bare-ns/op and its throughput
// as a fraction of the bare handler's (x-of-bare).
func BenchmarkGatewayOverhead(b *testing.B) {
	var bareNs float64
	b.Run("bare", func(b *testing.B) {
		serveLoop(b, bareHandler)
		bareNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("gateway", func(b *testing.B) {
		serveLoop(b, benchGateway(b))
		if bareNs > 0 {
			gwNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(bareNs, "bare-ns/op")
			b.ReportMetric(bareNs/gwNs, "x-of-bare")
		}
	})
}

// loopbackRPS runs GETs against h over loopback HTTP from 16 concurrent
// clients on 16 keep-alive connections and returns requests per second.
func loopbackRPS(b *testing.B, h http.Handler) float64 {
	srv := httptest.NewServer(h)
	defer srv.Close()
	const conns = 16
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := srv.URL + "/purchase_a_sword/bob?color=red"
	b.SetParallelism((conns + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	return float64(b.N) / b.Elapsed().Seconds()
}

// BenchmarkGatewayOverheadHTTP is the make-bench shape: 16 clients on 16
// keep-alive connections over loopback, the bare handler versus the gateway
// with the echo Invoker. Both report req/s; the gateway also reports its
// fraction of the bare handler's req/s (x-of-bare; target ≥ 0.33).
func BenchmarkGatewayOverheadHTTP(b *testing.B) {
	var bareRPS float64
	b.Run("bare", func(b *testing.B) {
		bareRPS = loopbackRPS(b, bareHandler)
		b.ReportMetric(bareRPS, "req/s")
	})
	b.Run("gateway", func(b *testing.B) {
		rps := loopbackRPS(b, benchGateway(b))
		b.ReportMetric(rps, "req/s")
		if bareRPS > 0 {
			b.ReportMetric(rps/bareRPS, "x-of-bare")
		}
	})
}
