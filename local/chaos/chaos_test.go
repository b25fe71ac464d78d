package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/kafkatest"
)

// The harness finds the processes its child started by walking /proc down
// from the child, and only those.
func TestChildrenOfListsOnlyOwnChildren(t *testing.T) {
	var mine []int
	for range 2 {
		cmd := exec.Command("sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, cmd.Process.Pid)
		t.Cleanup(func() { syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	}
	got := childrenOf(os.Getpid())
	for _, pid := range mine {
		if !slices.Contains(got, pid) {
			t.Errorf("childrenOf(self) = %v, misses child %d", got, pid)
		}
	}
	if slices.Contains(got, 1) || slices.Contains(got, os.Getppid()) {
		t.Errorf("childrenOf(self) = %v names a process that is not a child", got)
	}
	if kids := childrenOf(mine[0]); len(kids) != 0 {
		t.Errorf("sleep has children %v", kids)
	}
}

func TestLogPumpSeesExitsAndSecretsAcrossWrites(t *testing.T) {
	sec := newSecrets(rand.New(rand.NewPCG(1, 2)))
	leaked := sec.add("HTTP X-Pwd", false)
	p, err := newLogPump(filepath.Join(t.TempDir(), "out.log"), sec)
	if err != nil {
		t.Fatal(err)
	}
	out := `time=2026-12-04T17:52:56.389Z level=INFO msg="environment exited" function=ExtractFunction env=ExtractFunction#4 pid=27327 status="signal: killed" reason=""
time=2026-12-04T17:54:24.558Z level=INFO msg="environment exited" function=ApiJoinGuildFunction env=ApiJoinGuildFunction#5 pid=27335 status="signal: terminated" reason=shutdown
ApiDefaultFunction | msg="environment exited" pid=1 reason=""
ApiDefaultFunction | {"headers":{"X-Pwd":"` + leaked + `"}}
`
	for len(out) > 0 { // in pieces that split lines, as a pipe does
		n := min(len(out), 37)
		p.Write([]byte(out[:n]))
		out = out[n:]
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	exits, found, lines := p.results()
	want := []procExit{
		{function: "ExtractFunction", status: "signal: killed", reason: "", pid: 27327},
		{function: "ApiJoinGuildFunction", status: "signal: terminated", reason: "shutdown", pid: 27335},
	}
	if !slices.Equal(exits, want) {
		t.Errorf("exits = %+v, want %+v", exits, want)
	}
	if !found[leaked] || len(found) != 1 || lines != 4 {
		t.Errorf("found %v in %d lines, want only %s in 4", found, lines, leaked)
	}
	data, _ := os.ReadFile(p.path)
	if !strings.Contains(string(data), leaked) {
		t.Error("the log file lacks the output")
	}
}

func TestSecretsAreFoundOnlyWhole(t *testing.T) {
	sec := newSecrets(rand.New(rand.NewPCG(3, 4)))
	a, b := sec.add("a", false), sec.add("b", true)
	text := []byte("x " + a + " y Bearer " + b + " z " + sec.marker + "00nottheirs " + a[:len(a)-1])
	got := sec.in(text)
	if !slices.Equal(got, []string{a, b}) {
		t.Errorf("in = %v, want [%s %s]", got, a, b)
	}
}

func TestPlanSpreadsTheActsOverTheLoad(t *testing.T) {
	cfg := Config{Duration: 10 * time.Minute}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	acts := plan(cfg, rand.New(rand.NewPCG(1, 3)))
	count := map[string]int{}
	for i, a := range acts {
		count[a.what]++
		if a.at < 0 || a.at >= cfg.Duration {
			t.Errorf("%s at %s, outside the load", a.what, a.at)
		}
		if a.what == killStack && a.at > cfg.Duration*9/10 {
			t.Errorf("a stack kill at %s leaves no time to recover before the drain", a.at)
		}
		if i > 0 && a.at < acts[i-1].at {
			t.Error("the plan is not in time order")
		}
	}
	if count[killFunction] != 50 || count[killStack] != 4 || count[sendHTTP] != 5 || count[sendKafka] != 1 {
		t.Errorf("plan of a 10 minute run = %v", count)
	}
}

func TestNormalizeReasonGroupsLikeReasons(t *testing.T) {
	a := normalizeReason(`invalid event: expected ":" at byte 17, found "x"`)
	b := normalizeReason(`invalid event: expected "," at byte 230, found "}"`)
	if a != b || a != `invalid event: expected "…" at byte N, found "…"` {
		t.Errorf("normalized %q and %q", a, b)
	}
}

func TestExpectedInventoriesFoldOnlyValidPurchases(t *testing.T) {
	buy := func(user, item string, qty, price int64) topicRecord {
		e := event.Event{SchemaVersion: 1, EventID: fmt.Sprint(user, item, qty, price), EventType: event.TypePurchaseItem, EventTime: 1,
			UserName: user, ItemType: item, Quantity: qty, PriceCents: price, Currency: "gold"}
		return topicRecord{valid: true, event: e}
	}
	topic := &eventsTopic{records: []topicRecord{
		buy("ann", "shield", 2, 2400), buy("ann", "sword", 1, 1500), buy("ann", "unobtainium", 1, 1),
		buy("bob", "potion", 1000, 1), // quantity out of bounds: bob has no inventory
		buy("cyd", "ring", 1, 1<<62),  // a price beyond the catalog's bound
		{valid: false, value: []byte("not JSON")},
	}}
	want := expectedInventories(topic)
	ann := want["ann"]
	if ann.Purchases != 2 || ann.Items["shield"] != 2 || ann.Items["sword"] != 1 || ann.SpentCents["gold"] != 3900 {
		t.Errorf("ann = %+v", ann)
	}
	if bob, ok := want["bob"]; !ok || bob.Purchases != 0 {
		t.Errorf("bob = %+v, %v; want a player with no valid purchase", bob, ok)
	}
	if cyd := want["cyd"]; cyd.Purchases != 0 {
		t.Errorf("cyd = %+v; want a player with no valid purchase", cyd)
	}
	if !ann.equal(map[string]int64{"shield": 2, "sword": 1, "bow": 0}, map[string]int64{"gold": 3900}, 2) {
		t.Error("ann's right inventory did not compare equal")
	}
}

// The raw HTTP exchange reads every answer of a pipelined connection, and
// the tally takes the event ids of 2xx answers and spots non-JSON errors.
func TestExchangeAndTally(t *testing.T) {
	var served atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		if strings.HasPrefix(r.URL.Path, "/bad") {
			http.Error(w, "plain text", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Event-Id", fmt.Sprint("id-", n))
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	addr := l.Addr().String()
	res := newHTTPResult()
	for _, c := range []httpCase{
		{name: "pipelined", raw: []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")},
		{name: "bad", raw: []byte("GET /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")},
		{name: "garbage", raw: []byte("GARBAGE\r\n\r\n")},
	} {
		answers, _ := exchange(context.Background(), addr, c.raw)
		res.record(c, answers)
	}
	if len(res.eventIDs) != 2 || res.byClass["2xx"] != 2 || res.byClass["4xx"] != 2 || res.nonJSON["400"] != 2 {
		t.Errorf("tally = ids %v, classes %v, non-JSON %v", res.eventIDs, res.byClass, res.nonJSON)
	}
}

func TestLoadJobsFollowsTheTemplate(t *testing.T) {
	jobs, err := loadJobs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var filtered, everything, criteria int
	for _, j := range jobs {
		if j.dataset == "" || j.group == "" || j.topic != jobs[0].topic {
			t.Errorf("job %+v", j)
		}
		if j.predicate != nil {
			filtered++
		} else {
			everything++
		}
		if !j.delivers([]byte("not json")) {
			criteria++
		}
	}
	if filtered == 0 || everything == 0 || criteria == 0 {
		t.Errorf("%d jobs: %d with FILTER, %d without, %d with FilterCriteria; the template has each kind", len(jobs), filtered, everything, criteria)
	}
}

func TestReportFailsOnWhatMatters(t *testing.T) {
	ok := &Report{Topic: "game-events", Datasets: []datasetCheck{{Dataset: "extracted_events", Expected: 3, Rows: 3, Distinct: 3}}}
	if f := ok.Failures(); len(f) != 0 {
		t.Errorf("a clean report fails: %v", f)
	}
	for name, bad := range map[string]*Report{
		"lost row":   {Datasets: []datasetCheck{{Dataset: "d", Expected: 3, Rows: 2, Distinct: 2, Lost: 1}}},
		"duplicate":  {Datasets: []datasetCheck{{Dataset: "d", Expected: 3, Rows: 4, Distinct: 3, Duplicated: 1}}},
		"dead lost":  {Datasets: []datasetCheck{{Dataset: "d", DeadExpected: 1, DeadLost: 1}}},
		"topic lost": {TopicLost: 1},
		"inventory":  {Inventory: inventoryCheck{Players: 2, Mismatched: 1}},
		"leak":       {Leaks: []string{"HTTP X-Pwd → log"}},
		"crash":      {Crashes: []string{"ExtractFunction (pid 1) exited: exit status 2"}},
	} {
		if len(bad.Failures()) == 0 {
			t.Errorf("a report with a %s passes", name)
		}
	}
	var b strings.Builder
	ok.WriteTable(&b)
	if !strings.Contains(b.String(), "| dataset extracted_events ") || !strings.Contains(b.String(), "PASSED") {
		t.Errorf("table:\n%s", b.String())
	}
}

// The garbage corpus reaches a real broker: every record is acknowledged
// in the partition its client's partitioner picks, except the one over
// the broker's size limit.
func TestKafkaCorpusAsOtherClientsWouldProduceIt(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	sec := newSecrets(rand.New(rand.NewPCG(5, 6)))
	cases := kafkaCorpus(rand.New(rand.NewPCG(5, 7)), sec)
	res, err := produceKafkaCorpus(context.Background(), []string{addr}, kafkatest.Topic, 3, cases)
	if err != nil {
		t.Fatal(err)
	}
	if res.sent != len(cases) || res.acked != len(cases)-1 || len(res.refused) != 1 || !strings.Contains(res.refused[0], "broker's limit") {
		t.Fatalf("sent %d, acked %d, refused %v", res.sent, res.acked, res.refused)
	}
	byPartitioner := map[string]int{}
	for _, m := range kafkatest.ReadAll(t, addr, 3) {
		for _, c := range cases {
			if string(c.value) == string(m.Value) && string(c.key) == string(m.Key) {
				if want := partitioners[c.partitioner](c.key, 3, 0); c.partitioner != roundRobin && int32(m.Partition) != want {
					t.Errorf("%s landed in partition %d, its partitioner (%s) picks %d", c.name, m.Partition, c.partitioner, want)
				}
				byPartitioner[c.partitioner]++
			}
		}
	}
	for _, p := range []string{murmur2, crc32Part, fnvPart, roundRobin} {
		if byPartitioner[p] == 0 {
			t.Errorf("no record of the %s partitioner in the topic: %v", p, byPartitioner)
		}
	}
	if sec.count() < 3 {
		t.Error("the corpus sent no credentials in record headers")
	}
}
