package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
)

// Config is one load-generator run.
type Config struct {
	Population
	// Count is the number of requests; with Count 0 the run lasts Duration.
	Count    int
	Duration time.Duration
	// Rate is the target requests per second; 0 is as fast as possible.
	Rate float64
	// Concurrency bounds the requests in flight. Default: 16.
	Concurrency int
	Seed        uint64
	// BaseURL is the API, e.g. http://127.0.0.1:3000 or an API Gateway URL.
	BaseURL string
	// Brokers, if set, switch to Kafka mode: the same events go straight to
	// Topic, in batches, without the HTTP layer.
	Brokers []string
	Topic   string
	// Timeout bounds one request. Default: 10s.
	Timeout time.Duration
	// Progress receives a live progress line every second; nil for none.
	Progress io.Writer
	// OnAccepted, if set, is called for every accepted action with the id
	// of the event it recorded: the X-Event-Id of a 2xx answer (empty if
	// the answer had none), or in Kafka mode the id of the acknowledged
	// event. Calls are serialized. The chaos harness uses it to know which
	// events the pipeline promised to keep.
	OnAccepted func(a Action, eventID string)
}

// Result is what a run did. Accepted* count only answers of 2xx (in Kafka
// mode: acknowledged records), so they are what the datasets must hold.
type Result struct {
	Mode           string           `json:"mode"`
	Requests       int              `json:"requests"`
	Accepted       int              `json:"accepted"`
	Errors         int              `json:"errors"`
	Seconds        float64          `json:"seconds"`
	PerSecond      float64          `json:"requests_per_second"`
	AcceptedPerSec float64          `json:"accepted_per_second"`
	LatencyMs      Percentiles      `json:"latency_ms"`
	ErrorsByStatus map[string]int   `json:"errors_by_status,omitempty"`
	ByType         map[string]int   `json:"accepted_by_type"`
	ByUser         map[string]int   `json:"accepted_by_user"`
	ByItem         map[string]int   `json:"accepted_purchases_by_item"`
	QuantityByItem map[string]int64 `json:"accepted_quantity_by_item"`
}

// Percentiles of request latency, in milliseconds.
type Percentiles struct {
	P50, P90, P99, Max float64
}

// Run plays the configured load and returns what happened. Cancelling ctx
// stops it early with the result so far.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Count <= 0 && cfg.Duration <= 0 {
		return nil, errors.New("loadgen needs a request count or a duration")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	var send sender
	switch {
	case len(cfg.Brokers) > 0:
		if cfg.Topic == "" {
			return nil, errors.New("kafka mode needs a topic")
		}
		ks, err := newKafkaSender(cfg)
		if err != nil {
			return nil, err
		}
		send = ks
	case cfg.BaseURL != "":
		send = newHTTPSender(cfg)
	default:
		return nil, errors.New("loadgen needs a base URL or Kafka brokers")
	}
	defer send.close()

	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	agg := newAggregate(send.mode(), cfg.OnAccepted)
	work := make(chan []Action, cfg.Concurrency)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range work {
				agg.add(batch, send.send(ctx, batch))
			}
		}()
	}
	stopProgress := agg.progress(cfg.Progress)
	start := time.Now()
	dispatch(ctx, cfg, send.batchSize(), work)
	close(work)
	wg.Wait()
	stopProgress()
	return agg.result(time.Since(start)), nil
}

// dispatch feeds the workers at the target rate, in batches of size.
func dispatch(ctx context.Context, cfg Config, size int, work chan<- []Action) {
	gen := NewGenerator(cfg.Population, cfg.Seed)
	start := time.Now()
	for sent := 0; cfg.Count <= 0 || sent < cfg.Count; {
		n := size
		if cfg.Count > 0 {
			n = min(n, cfg.Count-sent)
		}
		batch := make([]Action, n)
		for i := range batch {
			batch[i] = gen.Next()
		}
		if cfg.Rate > 0 { // pace: the k-th request leaves at start + k/rate
			due := start.Add(time.Duration(float64(sent) / cfg.Rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case work <- batch:
		}
		sent += n
	}
}

// outcome of one action: latency and status ("200", "503", "transport"),
// and the id of the event an accepted action recorded.
type outcome struct {
	latency time.Duration
	status  string
	ok      bool
	eventID string
}

type sender interface {
	mode() string
	batchSize() int
	send(ctx context.Context, batch []Action) []outcome
	close()
}

type httpSender struct {
	base    string
	client  *http.Client
	timeout time.Duration
}

func newHTTPSender(cfg Config) *httpSender {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency * 2,
		MaxIdleConnsPerHost: cfg.Concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &httpSender{base: strings.TrimRight(cfg.BaseURL, "/"), client: &http.Client{Transport: transport}, timeout: cfg.Timeout}
}

func (s *httpSender) mode() string   { return "http" }
func (s *httpSender) batchSize() int { return 1 }
func (s *httpSender) close()         { s.client.CloseIdleConnections() }

func (s *httpSender) send(ctx context.Context, batch []Action) []outcome {
	out := make([]outcome, len(batch))
	for i, a := range batch {
		out[i] = s.do(ctx, a)
	}
	return out
}

func (s *httpSender) do(ctx context.Context, a Action) outcome {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	u := s.base + a.Path
	if a.Query != "" {
		u += "?" + a.Query
	}
	var body io.Reader
	if a.Body != "" {
		body = strings.NewReader(a.Body)
	}
	req, err := http.NewRequestWithContext(ctx, a.Method, u, body)
	if err != nil {
		return outcome{status: "invalid request"}
	}
	req.Header.Set("User-Agent", "questlog-loadgen/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return outcome{latency: time.Since(start), status: "transport"}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o := outcome{latency: time.Since(start), status: strconv.Itoa(resp.StatusCode), ok: resp.StatusCode/100 == 2}
	if o.ok {
		o.eventID = resp.Header.Get("X-Event-Id")
	}
	return o
}

type kafkaSender struct {
	cl *kgo.Client
}

// newKafkaSender produces as the API functions publish: acks=all, and a
// keyed record (the player) on the partition of Kafka's Java partitioner
// (murmur2), as kafka-go's Murmur2Balancer in the functions picks it.
func newKafkaSender(cfg Config) (*kafkaSender, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...), kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProduceRequestTimeout(cfg.Timeout),
	)
	if err != nil {
		return nil, fmt.Errorf("loadgen: kafka client: %w", err)
	}
	return &kafkaSender{cl: cl}, nil
}

func (s *kafkaSender) mode() string   { return "kafka" }
func (s *kafkaSender) batchSize() int { return 500 }
func (s *kafkaSender) close()         { s.cl.Close() }

func (s *kafkaSender) send(ctx context.Context, batch []Action) []outcome {
	recs := make([]*kgo.Record, len(batch))
	ids := make([]string, len(batch))
	for i, a := range batch {
		e := EventFor(a, time.Now())
		ids[i] = e.EventID
		value, _ := json.Marshal(e)
		recs[i] = &kgo.Record{Value: value}
		if a.User != "" {
			recs[i].Key = []byte(a.User)
		}
	}
	start := time.Now()
	results := s.cl.ProduceSync(ctx, recs...)
	took := time.Since(start)
	failed := map[*kgo.Record]bool{} // results come in completion order
	for _, r := range results {
		failed[r.Record] = r.Err != nil
	}
	out := make([]outcome, len(batch))
	for i, r := range recs {
		out[i] = outcome{latency: took, status: "acked", ok: true, eventID: ids[i]}
		if failed[r] {
			out[i] = outcome{latency: took, status: "kafka error"}
		}
	}
	return out
}

// EventFor is the event the API records for an action, as Kafka mode
// writes it.
func EventFor(a Action, now time.Time) event.Event {
	id, _ := uuid.NewV7()
	e := event.Event{
		SchemaVersion: event.SchemaVersion, EventID: id.String(), EventType: a.Type, EventTime: event.MillisOf(now),
		UserName: a.User, GuildName: a.Guild, RemoteIP: "127.0.0.1", UserAgent: "questlog-loadgen/1", Host: "loadgen",
		Headers: map[string]string{"User-Agent": "questlog-loadgen/1"},
	}
	if item, ok := catalog.Lookup(a.Item); ok {
		e.ItemType, e.ItemName, e.ItemRarity = item.Type, item.Name, item.Rarity
		e.Quantity, e.PriceCents, e.Currency = a.Quantity, a.Price, a.Currency
	}
	return e
}

type aggregate struct {
	mu         sync.Mutex
	res        Result
	onAccepted func(Action, string)
	latencies  []time.Duration
	done       atomic.Int64
	failed     atomic.Int64
}

func newAggregate(mode string, onAccepted func(Action, string)) *aggregate {
	return &aggregate{onAccepted: onAccepted, res: Result{Mode: mode, ErrorsByStatus: map[string]int{}, ByType: map[string]int{}, ByUser: map[string]int{},
		ByItem: map[string]int{}, QuantityByItem: map[string]int64{}}}
}

func (g *aggregate) add(batch []Action, outs []outcome) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, o := range outs {
		a := batch[i]
		g.res.Requests++
		g.latencies = append(g.latencies, o.latency)
		if !o.ok {
			g.res.Errors++
			g.res.ErrorsByStatus[o.status]++
			g.failed.Add(1)
			continue
		}
		g.res.Accepted++
		if g.onAccepted != nil {
			g.onAccepted(a, o.eventID)
		}
		g.res.ByType[a.Type]++
		if a.User != "" {
			g.res.ByUser[a.User]++
		}
		if a.Item != "" {
			g.res.ByItem[a.Item]++
			g.res.QuantityByItem[a.Item] += a.Quantity
		}
	}
	g.done.Add(int64(len(outs)))
}

func (g *aggregate) progress(w io.Writer) (stop func()) {
	if w == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start, last, lastAt := time.Now(), int64(0), time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprintln(w)
				return
			case now := <-tick.C:
				done := g.done.Load()
				fmt.Fprintf(w, "\r%8d requests  %7.0f/s now  %7.0f/s average  %d errors   ",
					done, float64(done-last)/now.Sub(lastAt).Seconds(), float64(done)/now.Sub(start).Seconds(), g.failed.Load())
				last, lastAt = done, now
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

func (g *aggregate) result(elapsed time.Duration) *Result {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.res
	r.Seconds = elapsed.Seconds()
	r.PerSecond = float64(r.Requests) / r.Seconds
	r.AcceptedPerSec = float64(r.Accepted) / r.Seconds
	slices.Sort(g.latencies)
	at := func(q float64) float64 {
		if len(g.latencies) == 0 {
			return 0
		}
		i := min(len(g.latencies)-1, int(q*float64(len(g.latencies))))
		return float64(g.latencies[i].Microseconds()) / 1000
	}
	r.LatencyMs = Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: at(1)}
	return &r
}

// Summary writes the result for people.
func (r *Result) Summary(w io.Writer) {
	fmt.Fprintf(w, "loadgen (%s): %d requests in %.1fs = %.0f/s; %d accepted (%.0f/s), %d errors\n",
		r.Mode, r.Requests, r.Seconds, r.PerSecond, r.Accepted, r.AcceptedPerSec, r.Errors)
	fmt.Fprintf(w, "latency: p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n", r.LatencyMs.P50, r.LatencyMs.P90, r.LatencyMs.P99, r.LatencyMs.Max)
	fmt.Fprintf(w, "accepted by type: %s\n", counts(r.ByType))
	fmt.Fprintf(w, "purchases by item: %s\n", counts(r.ByItem))
	fmt.Fprintf(w, "players: %d\n", len(r.ByUser))
	if len(r.ErrorsByStatus) > 0 {
		fmt.Fprintf(w, "errors by status: %s\n", counts(r.ErrorsByStatus))
	}
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}
