// Command produce is the noop function plus one Kafka produce with
// acks=all of a fixed event (BenchmarkAPIPath): the API path without the
// route's own work (validation, event id, headers, encoding).
package main

import (
	"io"
	"net/http"
	"os"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/kafkaconf"
	"github.com/questlog/questlog/internal/kafkapub"
)

var event = []byte(`{"schema_version":1,"event_id":"019a6b1e-7c2d-7f00-8000-000000000001","event_type":"purchase_sword",` +
	`"event_time":"2026-11-27T00:22:45.123Z","user_name":"divya","item_type":"sword","item_name":"Iron Sword",` +
	`"item_rarity":"common","quantity":1,"price_cents":1500,"currency":"gold","remote_ip":"127.0.0.1",` +
	`"user_agent":"wrk","host":"127.0.0.1:3000","headers":{"User-Agent":"wrk"}}`)

func main() {
	pub, err := kafkapub.New(kafkapub.Config{Brokers: kafkaconf.Brokers(os.Getenv("KAFKA_BOOTSTRAP_SERVERS")), Topic: os.Getenv("KAFKA_TOPIC")})
	if err != nil {
		panic(err)
	}
	api.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := pub.Publish(r.Context(), []byte("divya"), event); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello divya!! You purchased a Sword successfully!\n")
	}))
}
