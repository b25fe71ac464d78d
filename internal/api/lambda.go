package api

import (
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/kafkapub"
)

// Start runs route as a Lambda function behind API Gateway's HTTP API
// (payload format 2.0). Configuration: KAFKA_BOOTSTRAP_SERVERS (host:port,
// comma-separated), KAFKA_TOPIC, and optionally PUBLISH_TIMEOUT (a Go
// duration, default 5s) and RECORDED_HEADERS (the request headers events
// record, comma-separated; default DefaultRecordedHeaders). The Kafka writer is made once per execution
// environment and reused by every invocation.
func Start(route Route) {
	log := fnenv.Logger()
	env := &fnenv.Env{}
	brokers := kafkapub.ParseBrokers(env.Required("KAFKA_BOOTSTRAP_SERVERS"))
	topic := env.Required("KAFKA_TOPIC")
	timeout, err := time.ParseDuration(env.Optional("PUBLISH_TIMEOUT", "5s"))
	headers := DefaultHeaders
	if list := env.Optional("RECORDED_HEADERS", ""); list != "" && err == nil {
		headers, err = ParseRecordedHeaders(list)
	}
	if err == nil {
		err = env.Err()
	}
	if err != nil {
		fnenv.Fatal(log, "configuration", err)
	}
	pub, err := kafkapub.New(kafkapub.Config{Brokers: brokers, Topic: topic, Timeout: timeout})
	if err != nil {
		fnenv.Fatal(log, "kafka publisher", err)
	}
	Serve(HandlerRecording(route, pub, log, headers))
}

// Serve runs an http.Handler as a Lambda function behind API Gateway's HTTP
// API (payload format 2.0).
func Serve(h http.Handler) {
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
