package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/kafkaevent"
	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/loadgen"
	"github.com/questlog/questlog/local/template"
)

func init() {
	register(Command{
		Name: "generate-event kafka", Args: "[--count n] [--seed n] [--from-topic] [flags]",
		Summary: "print a Kafka batch (events.KafkaEvent) of synthetic events or of the topic's first records",
		Examples: []string{
			"questlog generate-event kafka --count 10 > batch.json",
			"questlog generate-event kafka --from-topic --count 10 | questlog invoke ExtractFunction -e -",
		},
		Setup: setupGenerateKafka,
	})
	register(Command{
		Name: "generate-event http", Args: "<path> [--method M] [--header 'Name: value'] [--body B]",
		Summary: "print the API Gateway HTTP API (2.0) event of a request",
		Examples: []string{
			"questlog generate-event http /purchase_a_sword/divya",
			`questlog generate-event http /purchase/divya --method POST --body '{"item_type":"shield"}' | questlog invoke ApiPurchaseItemJsonFunction -e -`,
		},
		Setup: setupGenerateHTTP,
	})
}

// setupGenerateKafka prints an events.KafkaEvent as Lambda's Kafka
// event-source mapping delivers it: synthetic game events, or real records
// of a topic.
func setupGenerateKafka(fs *flag.FlagSet) Run {
	var c common
	c.register(fs, "warn")
	topic := fs.String("topic", "game-events", "the topic the records are from")
	count := fs.Int("count", 3, "how many records")
	seed := fs.Uint64("seed", 1, "the seed of the synthetic events")
	fromTopic := fs.Bool("from-topic", false, "take the topic's first records (by time, from every partition) instead: the running emulator's topic, or --parameter-overrides KafkaBootstrapServers=…")
	partition := fs.Int("partition", -1, "only this partition (default: every partition; synthetic events are on partition 0)")
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if err := c.finish(); err != nil {
			return err
		}
		var recs []*kgo.Record
		brokers := "127.0.0.1:9092"
		if *fromTopic {
			e, err := emulator.StartServicesOnly(ctx, c.cfg)
			if err != nil {
				return err
			}
			defer e.Close(context.Background())
			brokers = strings.Join(e.Brokers, ",")
			if recs, err = firstRecords(ctx, e.Brokers, *topic, int32(*partition), *count); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(os.Stderr, "generate-event kafka: synthetic records, in no topic (`invoke -e` runs them on a scratch stack, away from the live datasets); --from-topic takes real ones")
			gen := loadgen.NewGenerator(loadgen.Population{Players: 20, Guilds: 4}, *seed)
			at := time.Now().UTC()
			for i := range *count {
				a := gen.Next()
				value, _ := json.Marshal(loadgen.EventFor(a, at))
				r := &kgo.Record{Topic: *topic, Partition: int32(max(0, *partition)), Offset: int64(i), Timestamp: at, Value: value}
				if a.User != "" {
					r.Key = []byte(a.User)
				}
				recs = append(recs, r)
			}
		}
		ev := kafkaevent.FromRecords(brokers, recs)
		out, _ := json.MarshalIndent(ev, "", "  ")
		fmt.Println(string(out))
		return nil
	}
}

// firstRecords returns the first count records of topic by timestamp,
// from every partition (or only from partition, if it is not -1), in
// partition and offset order: the batch a consumer starting at the
// beginning would see first.
func firstRecords(ctx context.Context, brokers []string, topic string, partition int32, count int) ([]*kgo.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		ends, err = adm.ListEndOffsets(ctx, topic)
	}
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("read the offsets of %s: %w", topic, err)
	}
	if len(starts[topic]) == 0 {
		return nil, fmt.Errorf("there is no topic %s on %s", topic, strings.Join(brokers, ","))
	}
	// Each partition's first count records hold the topic's first count.
	from, end := map[int32]kgo.Offset{}, map[int32]int64{}
	for p, s := range starts[topic] {
		e, ok := ends.Lookup(topic, p)
		if ok && e.Offset > s.Offset && (partition < 0 || p == partition) {
			from[p] = kgo.NewOffset().At(s.Offset)
			end[p] = min(e.Offset, s.Offset+int64(count))
		}
	}
	if len(from) == 0 {
		where := topic
		if partition >= 0 {
			where = fmt.Sprintf("%s[%d]", topic, partition)
		}
		return nil, fmt.Errorf("%s is empty: send some requests first (curl localhost:3000/purchase_a_sword/divya)", where)
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}))
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	var recs []*kgo.Record
	for len(end) > 0 {
		fetches := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", topic, err)
		}
		fetches.EachError(func(t string, p int32, ferr error) { err = fmt.Errorf("read %s[%d]: %w", t, p, ferr) })
		if err != nil {
			return nil, err
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if last, reading := end[r.Partition]; reading && r.Offset < last {
				recs = append(recs, r)
			}
			if r.Offset >= end[r.Partition]-1 {
				delete(end, r.Partition)
			}
		})
	}
	byPosition := func(a, b *kgo.Record) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	}
	slices.SortFunc(recs, func(a, b *kgo.Record) int { return cmp.Or(a.Timestamp.Compare(b.Timestamp), byPosition(a, b)) })
	recs = recs[:min(count, len(recs))]
	slices.SortFunc(recs, byPosition)
	return recs, nil
}

// generateHTTP prints the API Gateway HTTP API (payload 2.0) event the
// emulator would send for a request, by running it through the emulated
// API Gateway with a recording function.
func setupGenerateHTTP(fs *flag.FlagSet) Run {
	templatePath := fs.String("template", "template.yaml", "the template whose routes select the route (its routeKey and pathParameters)")
	method := fs.String("method", "GET", "the request method")
	body := fs.String("body", "", "the request body")
	var headers headerFlags
	fs.Var(&headers, "header", "a request header, 'Name: value' (repeatable)")
	return func(_ context.Context, pos []string) error {
		if len(pos) != 1 || !strings.HasPrefix(pos[0], "/") {
			return usagef("give the request path: questlog generate-event http /purchase_a_sword/divya")
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
}

type recorder struct{ payload []byte }

func (r *recorder) Invoke(_ context.Context, req invoke.Request) (*invoke.Result, error) {
	r.payload = req.Payload
	return &invoke.Result{Payload: []byte(`{"statusCode":200}`)}, nil
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }
