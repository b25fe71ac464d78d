package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/kafkatest"
)

// BenchmarkPublish is one sword purchase through the route handler: build
// the event, publish it, wait for Kafka's acknowledgement (acks=all, a real
// Kafka-protocol broker on loopback), answer.
func BenchmarkPublish(b *testing.B) {
	addr := kafkatest.Start(b, 3)
	pub := publisher(b, addr, 5*time.Second)
	h := api.Handler(api.PurchaseSword, pub, quiet)
	latency(b, h)
}

// BenchmarkBaselineBareHandler is the baseline: a bare net/http handler
// answering the same text, publishing nothing.
func BenchmarkBaselineBareHandler(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello divya!! You purchased a Sword successfully!\n")
	})
	latency(b, h)
}

func latency(b *testing.B, h http.Handler) {
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/purchase_a_sword/divya", nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		took = append(took, time.Since(start))
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}
