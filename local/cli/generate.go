package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/kafkaevent"
	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/loadgen"
	"github.com/questlog/questlog/local/template"
)

func cmdGenerateEvent(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("say which event: questlog generate-event kafka | http")
	}
	switch args[0] {
	case "kafka":
		return generateKafka(ctx, args[1:])
	case "http":
		return generateHTTP(ctx, args[1:])
	}
	return fmt.Errorf("unknown event source %q: kafka or http", args[0])
}

// generateKafka prints an events.KafkaEvent as Lambda's Kafka event-source
// mapping delivers it: synthetic game events, or real records of a topic.
func generateKafka(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("generate-event kafka", flag.ContinueOnError)
	var c common
	c.register(fs, "warn")
	topic := fs.String("topic", "game-events", "the topic the records are from")
	count := fs.Int("count", 3, "how many records")
	seed := fs.Uint64("seed", 1, "the seed of the synthetic events")
	fromTopic := fs.Bool("from-topic", false, "take the first records of the real topic instead (the running emulator's, or --parameter-overrides KafkaBootstrapServers=…)")
	partition := fs.Int("partition", 0, "the partition the records are from")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := c.finish(); err != nil {
		return err
	}
	var msgs []kafka.Message
	brokers := "127.0.0.1:9092"
	if *fromTopic {
		e, err := emulator.StartServicesOnly(ctx, c.cfg)
		if err != nil {
			return err
		}
		defer e.Close(context.Background())
		brokers = strings.Join(e.Brokers, ",")
		if msgs, err = firstRecords(ctx, e.Brokers, *topic, *partition, *count); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(os.Stderr, "generate-event kafka: synthetic records, in no topic (`invoke -e` runs them on a scratch stack, away from the live datasets); --from-topic takes real ones")
		gen := loadgen.NewGenerator(loadgen.Population{Players: 20, Guilds: 4}, *seed)
		at := time.Now().UTC()
		for i := range *count {
			a := gen.Next()
			value, _ := json.Marshal(loadgen.EventFor(a, at))
			m := kafka.Message{Topic: *topic, Partition: *partition, Offset: int64(i), Time: at, Value: value}
			if a.User != "" {
				m.Key = []byte(a.User)
			}
			msgs = append(msgs, m)
		}
	}
	ev := kafkaevent.FromMessages(brokers, msgs)
	out, _ := json.MarshalIndent(ev, "", "  ")
	fmt.Println(string(out))
	return nil
}

func firstRecords(ctx context.Context, brokers []string, topic string, partition, count int) ([]kafka.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, partition)
	if err != nil {
		return nil, fmt.Errorf("read %s[%d]: %w", topic, partition, err)
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return nil, err
	}
	if first == last {
		return nil, fmt.Errorf("%s[%d] is empty: send some requests first (curl localhost:3000/purchase_a_sword/divya)", topic, partition)
	}
	deadline, _ := ctx.Deadline()
	conn.SetReadDeadline(deadline)
	conn.Seek(first, kafka.SeekAbsolute)
	batch := conn.ReadBatch(1, 10<<20)
	defer batch.Close()
	var msgs []kafka.Message
	for len(msgs) < count && int64(len(msgs)) < last-first {
		m, err := batch.ReadMessage()
		if err != nil {
			break
		}
		m.Topic, m.Partition = topic, partition
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// generateHTTP prints the API Gateway HTTP API (payload 2.0) event the
// emulator would send for a request, by running it through the emulated
// API Gateway with a recording function.
func generateHTTP(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("generate-event http", flag.ContinueOnError)
	templatePath := fs.String("template", "template.yaml", "the template whose routes select the route (its routeKey and pathParameters)")
	method := fs.String("method", "GET", "the request method")
	body := fs.String("body", "", "the request body")
	var headers headerFlags
	fs.Var(&headers, "header", "a request header, 'Name: value' (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !strings.HasPrefix(pos[0], "/") {
		return errors.New("give the request path: questlog generate-event http /purchase_a_sword/divya")
	}
	rec := &recorder{}
	routes := []apigw.Route{{Function: "Recorder"}} // $default, when no route matches
	if tpl, err := template.Load(*templatePath, template.Options{LookupEnv: func(string) (string, bool) { return "", false }}); err == nil {
		for _, fn := range tpl.Functions {
			for _, ev := range fn.HTTPEvents {
				if !ev.IsDefaultRoute() {
					routes = append(routes, apigw.Route{Method: ev.Method, Path: ev.Path, Function: fn.LogicalID, PayloadFormatVersion: ev.PayloadFormatVersion})
				}
			}
		}
	}
	gw, err := apigw.New(routes, rec, apigw.Options{Logger: discardLogger()})
	if err != nil {
		return err
	}
	req := httptest.NewRequest(*method, "http://localhost:3000"+pos[0], strings.NewReader(*body))
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("Accept", "*/*")
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	gw.ServeHTTP(httptest.NewRecorder(), req)
	var out bytes.Buffer
	if err := json.Indent(&out, rec.payload, "", "  "); err != nil {
		return err
	}
	fmt.Println(out.String())
	return nil
}

type recorder struct{ payload []byte }

func (r *recorder) Invoke(_ context.Context, req invoke.Request) (*invoke.Result, error) {
	r.payload = req.Payload
	return &invoke.Result{Payload: []byte(`{"statusCode":200}`)}, nil
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }
