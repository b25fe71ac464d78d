package kafka

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	segkafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/testenv"
)

// childEnv switches the test binary into "run a broker and wait to be
// killed" mode; see TestMain and TestKill9Durability.
const (
	childEnv    = "QUESTLOG_KAFKA_TEST_CHILD_DATADIR"
	childTopics = "QUESTLOG_KAFKA_TEST_CHILD_TOPIC"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChildBroker(dir, os.Getenv(childTopics))
		return
	}
	os.Exit(m.Run())
}

// runChildBroker starts a broker, prints "ADDR <host:port>" and blocks until
// killed.
func runChildBroker(dir, topic string) {
	b, err := Start(context.Background(), Config{
		Addr:    "127.0.0.1:0",
		DataDir: dir,
		Topics:  []Topic{{Name: topic, Partitions: 1}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child broker:", err)
		os.Exit(2)
	}
	fmt.Printf("ADDR %s\n", b.Addrs()[0])
	select {}
}

func startBroker(t *testing.T, cfg Config) *Broker {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func newClient(t *testing.T, addrs []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...)}, opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// produce writes values to partition 0 of topic with acks=all and returns
// once all are acknowledged.
func produce(t *testing.T, addrs []string, topic string, values []string) {
	t.Helper()
	cl := newClient(t, addrs, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Topic: topic, Partition: 0, Value: []byte(v)}
	}
	if err := cl.ProduceSync(testCtx(t), rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consumeAll reads partition 0 of topic from the start to its end offset.
func consumeAll(t *testing.T, addrs []string, topic string) []*kgo.Record {
	t.Helper()
	ctx := testCtx(t)
	adm := kadm.NewClient(newClient(t, addrs))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil {
		t.Fatalf("end offset of %s/0: %+v", topic, end)
	}
	cl := newClient(t, addrs, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	var out []*kgo.Record
	for int64(len(out)) < end.Offset {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), end.Offset, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func values(n int, prefix string) []string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return vs
}

func TestStartCreatesTopics(t *testing.T) {
	b := startBroker(t, Config{
		DefaultPartitions: 4,
		Topics:            []Topic{{Name: "game-events", Partitions: 6}, {Name: "defaulted"}},
	})
	if len(b.Addrs()) != 1 || !strings.HasPrefix(b.Addrs()[0], "127.0.0.1:") {
		t.Fatalf("Addrs() = %v, want one 127.0.0.1 address", b.Addrs())
	}
	adm := kadm.NewClient(newClient(t, b.Addrs()))
	tds, err := adm.ListTopics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]int{"game-events": 6, "defaulted": 4} {
		td, ok := tds[topic]
		if !ok || td.Err != nil {
			t.Fatalf("topic %s missing: %+v", topic, td)
		}
		if got := len(td.Partitions); got != want {
			t.Errorf("topic %s has %d partitions, want %d", topic, got, want)
		}
	}

	// No auto-creation: a metadata request for an unknown topic that asks
	// for auto-creation does not create it.
	cl := newClient(t, b.Addrs(), kgo.AllowAutoTopicCreation())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: "never-created", Value: []byte("x")}).FirstErr()
	if err == nil {
		t.Fatal("produce to an unknown topic succeeded; auto topic creation must be off")
	}
	tds, err = adm.ListTopics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tds.Has("never-created") {
		t.Fatal("topic never-created exists; auto topic creation must be off")
	}
}

func TestEnsureTopicsIdempotent(t *testing.T) {
	b := startBroker(t, Config{Topics: []Topic{{Name: "a", Partitions: 2}}})
	ctx := testCtx(t)
	for range 2 {
		if err := EnsureTopics(ctx, b.Addrs(), []Topic{{Name: "a", Partitions: 5}, {Name: "b", Partitions: 1}, {Name: "c"}}); err != nil {
			t.Fatalf("EnsureTopics: %v", err)
		}
	}
	tds, err := kadm.NewClient(newClient(t, b.Addrs())).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]int{"a": 2, "b": 1, "c": DefaultPartitions} {
		if got := len(tds[topic].Partitions); got != want {
			t.Errorf("topic %s: %d partitions, want %d", topic, got, want)
		}
	}
	if err := EnsureTopics(ctx, b.Addrs(), []Topic{{Name: "bad topic name!"}}); err == nil {
		t.Error("EnsureTopics with an invalid name succeeded")
	}
}

func TestStartBindAddress(t *testing.T) {
	if _, err := Start(context.Background(), Config{Addr: "not-an-addr"}); err == nil {
		t.Fatal("Start with an invalid addr succeeded")
	}
	// All interfaces: advertised as 127.0.0.1 so local clients connect.
	b := startBroker(t, Config{Addr: "0.0.0.0:0", Topics: []Topic{{Name: "t", Partitions: 1}}})
	if !strings.HasPrefix(b.Addrs()[0], "127.0.0.1:") {
		t.Fatalf("Addrs() = %v, want 127.0.0.1 advertised", b.Addrs())
	}
	produce(t, b.Addrs(), "t", []string{"x"})
	if got := consumeAll(t, b.Addrs(), "t"); len(got) != 1 {
		t.Fatalf("read %d records, want 1", len(got))
	}
	// A busy port is an error, not a silently different port.
	if _, err := Start(context.Background(), Config{Addr: b.Addrs()[0]}); err == nil {
		t.Fatal("Start on a port in use succeeded")
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: dir, Topics: []Topic{{Name: "events", Partitions: 1}}}
	ctx := testCtx(t)

	b1, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := values(500, "restart")
	produce(t, b1.Addrs(), "events", want)
	// A committed group offset must survive too.
	adm := kadm.NewClient(newClient(t, b1.Addrs()))
	if err := adm.CommitAllOffsets(ctx, "g", kadm.Offsets{"events": {0: {Topic: "events", Partition: 0, At: 123, LeaderEpoch: -1}}}); err != nil {
		t.Fatalf("commit: %v", err)
	}
	b1.Close()

	b2 := startBroker(t, cfg) // same DataDir, new port
	got := consumeAll(t, b2.Addrs(), "events")
	if len(got) != len(want) {
		t.Fatalf("after restart read %d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if string(r.Value) != want[i] || r.Offset != int64(i) {
			t.Fatalf("record %d = offset %d %q, want offset %d %q", i, r.Offset, r.Value, i, want[i])
		}
	}
	os, err := kadm.NewClient(newClient(t, b2.Addrs())).FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := os.Lookup("events", 0); !ok || o.At != 123 {
		t.Fatalf("committed offset after restart = %+v, want 123", o)
	}
}

// TestKill9Durability runs the broker in a child process, produces with
// acks=all while the child is running, kills it with SIGKILL mid-stream,
// restarts on the same DataDir and checks that every acknowledged record
// is there, at its acknowledged offset, in order.
func TestKill9Durability(t *testing.T) {
	dir := t.TempDir()
	const topic = "crash"

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childTopics+"="+topic)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	sc := bufio.NewScanner(stdout)
	var addr string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatalf("child broker did not report its address: %v", sc.Err())
	}

	// Produce continuously; remember what was acknowledged.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0),
		kgo.RecordRetries(1), kgo.RetryTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked = map[int64]string{}
	)
	const killAfter = 3000
	killNow := make(chan struct{})
	var once sync.Once
	prodCtx, stopProducing := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; prodCtx.Err() == nil; i++ {
			v := "v-" + strconv.Itoa(i)
			cl.Produce(prodCtx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(v)}, func(r *kgo.Record, err error) {
				if err != nil {
					return
				}
				mu.Lock()
				acked[r.Offset] = v
				n := len(acked)
				mu.Unlock()
				if n >= killAfter {
					once.Do(func() { close(killNow) })
				}
			})
		}
	}()
	select {
	case <-killNow:
	case <-time.After(60 * time.Second):
		t.Fatal("producer did not get enough acknowledgements")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killed = true
	_ = cmd.Wait()
	stopProducing()
	wg.Wait()
	cl.Close()

	mu.Lock()
	ackedCopy := make(map[int64]string, len(acked))
	for k, v := range acked {
		ackedCopy[k] = v
	}
	mu.Unlock()

	b := startBroker(t, Config{DataDir: dir, Topics: []Topic{{Name: topic, Partitions: 1}}})
	got := consumeAll(t, b.Addrs(), topic)
	if len(got) < len(ackedCopy) {
		t.Fatalf("after kill -9 read %d records, but %d were acknowledged", len(got), len(ackedCopy))
	}
	// Offsets are dense, values in produce order.
	for i, r := range got {
		if r.Offset != int64(i) || string(r.Value) != "v-"+strconv.Itoa(i) {
			t.Fatalf("record %d = offset %d %q, want offset %d %q", i, r.Offset, r.Value, i, "v-"+strconv.Itoa(i))
		}
	}
	for off, v := range ackedCopy {
		if off >= int64(len(got)) || string(got[off].Value) != v {
			t.Fatalf("acknowledged record at offset %d (%q) missing after kill -9", off, v)
		}
	}
	t.Logf("%d acknowledged records survived kill -9 (%d on disk)", len(ackedCopy), len(got))
}

// The Lambda functions' client, kafka-go (local/ itself uses franz-go),
// works against the broker.
func TestSegmentioKafkaGo(t *testing.T) {
	b := startBroker(t, Config{Topics: []Topic{{Name: "seg", Partitions: 3}}})
	ctx := testCtx(t)
	w := &segkafka.Writer{
		Addr:         segkafka.TCP(b.Addrs()...),
		Topic:        "seg",
		RequiredAcks: segkafka.RequireAll,
		Balancer:     &segkafka.Hash{},
		BatchTimeout: 10 * time.Millisecond,
	}
	defer w.Close()
	want := map[string]bool{}
	var msgs []segkafka.Message
	for i := range 300 {
		v := fmt.Sprintf("seg-%d", i)
		want[v] = true
		msgs = append(msgs, segkafka.Message{Key: []byte(strconv.Itoa(i % 7)), Value: []byte(v)})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}

	r := segkafka.NewReader(segkafka.ReaderConfig{
		Brokers:     b.Addrs(),
		GroupID:     "seg-readers",
		Topic:       "seg",
		StartOffset: segkafka.FirstOffset,
		MaxWait:     200 * time.Millisecond,
	})
	defer r.Close()
	for len(want) > 0 {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("FetchMessage with %d messages left: %v", len(want), err)
		}
		delete(want, string(m.Value))
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("CommitMessages: %v", err)
		}
	}
}

func TestKcat(t *testing.T) {
	kcat := testenv.Need(t, "kcat", "apt-get install kcat")
	b := startBroker(t, Config{Topics: []Topic{{Name: "kcat", Partitions: 1}}})
	want := values(50, "kcat")
	produce(t, b.Addrs(), "kcat", want)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-C", "-b", b.Addrs()[0], "-t", "kcat", "-o", "beginning", "-e", "-q").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kcat: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("kcat: %v", err)
	}
	got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("kcat printed %d lines %q..., want %d values", len(got), got[:min(3, len(got))], len(want))
	}

	// kcat as a producer too.
	p := exec.CommandContext(ctx, kcat, "-P", "-b", b.Addrs()[0], "-t", "kcat", "-p", "0")
	p.Stdin = strings.NewReader("from-kcat-1\nfrom-kcat-2\n")
	if out, err := p.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v: %s", err, out)
	}
	recs := consumeAll(t, b.Addrs(), "kcat")
	if n := len(recs); n != len(want)+2 || string(recs[n-1].Value) != "from-kcat-2" {
		t.Fatalf("after kcat -P read %d records, last %q", n, recs[n-1].Value)
	}
}

func TestDataDirLayout(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, Config{DataDir: dir, Topics: []Topic{{Name: "layout", Partitions: 2}}})
	produce(t, b.Addrs(), "layout", []string{"a"})
	// The topic is persisted at creation, before any clean shutdown.
	if _, err := os.Stat(filepath.Join(dir, "topics.json")); err != nil {
		t.Fatalf("topics.json not written at topic creation: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "topics.json"))
	if err != nil || !strings.Contains(string(data), "layout") {
		t.Fatalf("topics.json does not list the topic: %v %s", err, data)
	}
}
