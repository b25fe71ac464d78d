package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/loadgen"
)

// Config is one chaos run. The zero value of every field but Binary is a
// documented default.
type Config struct {
	// Binary is the questlog emulator binary the stack runs as. Default:
	// this process's executable.
	Binary string
	// ProjectDir holds template.yaml and the Makefile. Default: ".".
	ProjectDir string
	// Dir receives the stack's data and its output. Default: a new
	// temporary directory, removed after a run that passed.
	Dir string
	// Duration of the load, during which the kills and corpora happen.
	// Default: 1 minute.
	Duration time.Duration
	// Seed of the load, the corpora and the schedule. Default: 1.
	Seed uint64
	// Rate of the load generator, requests per second. Default: 100.
	Rate float64
	// Players of the load generator. Default: 500.
	Players int
	// FunctionKills and StackKills are how many function processes and
	// whole stacks are killed with SIGKILL. Defaults: one function every
	// 12 s and one stack every 150 s of Duration, at least 2 and 1.
	FunctionKills, StackKills int
	// HTTPRounds is how often the hostile HTTP corpus is sent. Default: one
	// round per 2 minutes, at least 1.
	HTTPRounds int
	// SlowClients of each kind per round, and how long they hold on.
	// Defaults: 10 clients for 35 s; 2 for 12 s in runs under 5 minutes.
	SlowClients int
	SlowHold    time.Duration
	// Drain bounds the wait, after the load, for every job to reach the end
	// of the topic; a wait that makes no progress for DrainStall ends
	// early. Defaults: 3 minutes and 45 s.
	Drain, DrainStall time.Duration
	// Log receives progress and findings. Default: slog.Default().
	Log *slog.Logger
	// Status, if set, gets a one-line status every second (a terminal) in
	// place of the periodic progress log lines.
	Status io.Writer
}

func (c *Config) defaults() error {
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the questlog binary: %w", err)
		}
		c.Binary = exe
	}
	if c.ProjectDir == "" {
		c.ProjectDir = "."
	}
	abs, err := filepath.Abs(c.ProjectDir)
	if err != nil {
		return err
	}
	c.ProjectDir = abs
	if c.Duration <= 0 {
		c.Duration = time.Minute
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.Players <= 0 {
		c.Players = 500
	}
	if c.FunctionKills <= 0 {
		c.FunctionKills = max(2, int(c.Duration/(12*time.Second)))
	}
	if c.StackKills <= 0 {
		c.StackKills = max(1, int(c.Duration/(150*time.Second)))
	}
	if c.HTTPRounds <= 0 {
		c.HTTPRounds = max(1, int(c.Duration/(2*time.Minute)))
	}
	if c.SlowClients <= 0 {
		c.SlowClients = 2
		if c.Duration >= 5*time.Minute {
			c.SlowClients = 10
		}
	}
	if c.SlowHold <= 0 {
		c.SlowHold = 12 * time.Second
		if c.Duration >= 5*time.Minute {
			c.SlowHold = 35 * time.Second // past API Gateway's 30 s
		}
	}
	if c.Drain <= 0 {
		c.Drain = 3 * time.Minute
	}
	if c.DrainStall <= 0 {
		c.DrainStall = 45 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// action is one planned act of chaos.
type action struct {
	at   time.Duration // after the load started
	what string
}

const (
	killFunction = "kill a function process"
	killStack    = "kill the whole stack"
	sendHTTP     = "send the hostile HTTP corpus"
	sendKafka    = "send the garbage Kafka corpus"
)

// plan spreads the acts over the load: function kills at random, whole
// stack kills evenly over its first three quarters (so the last restart is
// well before the drain), the corpora early enough for their effects to
// meet the load.
func plan(c Config, rng *rand.Rand) []action {
	d := c.Duration
	var acts []action
	for range c.FunctionKills {
		acts = append(acts, action{d/20 + time.Duration(rng.Int64N(int64(d*9/10))), killFunction})
	}
	for i := 1; i <= c.StackKills; i++ {
		acts = append(acts, action{d * 9 / 10 * time.Duration(i) / time.Duration(c.StackKills+1), killStack})
	}
	for i := range c.HTTPRounds {
		acts = append(acts, action{d/10 + d*8/10*time.Duration(i)/time.Duration(c.HTTPRounds), sendHTTP})
	}
	acts = append(acts, action{d / 4, sendKafka})
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].at < acts[j].at })
	return acts
}

// chaosRun is the state of one chaos run.
type chaosRun struct {
	cfg       Config
	log       *slog.Logger
	topic     string // the events topic
	stack     *stack
	secrets   *secrets
	accepted  sync.Map // event id → true
	http      *httpResult
	httpOnce  sync.Once
	httpCases []httpCase
	kafka     kafkaCorpusResult
	leaks     leaks
	// quiet is held (read) by the corpora and taken (write) by a stack
	// kill, so no corpus is cut in half by a restart.
	quiet sync.RWMutex
	phase atomic.Value // string, for the status line

	acceptedN, acceptedNoID, functionKills, stackKills atomic.Int64
}

// Run starts the stack, plays the load and the chaos for cfg.Duration,
// waits for the jobs to drain, checks everything and returns the report.
// An error means the harness could not do its work; the findings are in
// the report (Report.Failures).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	jobs, err := loadJobs(cfg.ProjectDir)
	if err != nil {
		return nil, err
	}
	dir, ownDir := cfg.Dir, cfg.Dir == ""
	if ownDir {
		dir, err = os.MkdirTemp("", "questlog-chaos-")
	} else {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("chaos: data directory: %w", err)
	}
	rep, err := run(ctx, cfg, jobs, dir)
	if err != nil {
		return nil, fmt.Errorf("%w (the stack's data and output are in %s)", err, dir)
	}
	if ownDir && len(rep.Failures()) == 0 {
		os.RemoveAll(dir)
		rep.Logs = "(removed: the run passed)"
	}
	return rep, nil
}

func run(ctx context.Context, cfg Config, jobs []jobSpec, dir string) (*Report, error) {
	r := &chaosRun{cfg: cfg, log: cfg.Log, topic: jobs[0].topic, http: newHTTPResult()}
	r.secrets = newSecrets(r.rand(1))
	r.phase.Store("starting")
	pump, err := newLogPump(filepath.Join(dir, "questlog.log"), r.secrets)
	if err != nil {
		return nil, err
	}
	defer pump.close()
	if r.stack, err = newStack(cfg.Binary, cfg.ProjectDir, filepath.Join(dir, "data"), pump, cfg.Log); err != nil {
		return nil, err
	}
	began := time.Now()
	defer r.statusLine(began)()
	defer r.stack.stop()

	r.log.Info("chaos: building the functions and starting the stack", "dir", dir, "api_port", r.stack.apiPort)
	if err := r.stack.start(ctx, true, 10*time.Minute); err != nil {
		return nil, err
	}
	rep := &Report{Duration: cfg.Duration, Seed: cfg.Seed, Topic: r.topic, DataDir: dir, Logs: pump.path,
		PlannedFunction: cfg.FunctionKills, PlannedStack: cfg.StackKills}
	r.phase.Store("load")
	load := r.startLoad(ctx, rep)
	r.chaos(ctx, time.Now())
	load.Wait()
	rep.FunctionKills, rep.StackKills = int(r.functionKills.Load()), int(r.stackKills.Load())
	if err := r.stack.ensureUp(ctx); err != nil {
		return nil, err
	}
	if err := r.verify(ctx, jobs, rep); err != nil {
		return nil, err
	}
	r.phase.Store("stopping the stack")
	r.stack.stop()
	pump.close()
	r.collect(pump, rep)
	rep.Elapsed = time.Since(began)
	return rep, nil
}

// rand returns the run's random stream n: the same seed plays the same run.
func (r *chaosRun) rand(n uint64) *rand.Rand { return rand.New(rand.NewPCG(r.cfg.Seed, n)) }

// startLoad runs the load generator for the load phase.
func (r *chaosRun) startLoad(ctx context.Context, rep *Report) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		res, err := loadgen.Run(ctx, loadgen.Config{
			Population: loadgen.Population{Players: r.cfg.Players}, Duration: r.cfg.Duration, Rate: r.cfg.Rate,
			Concurrency: 8, Seed: r.cfg.Seed, BaseURL: r.stack.apiURL,
			OnAccepted: func(_ loadgen.Action, id string) { r.accept(id) },
		})
		if err != nil {
			r.log.Error("chaos: the load generator failed", "err", err)
			return
		}
		rep.LoadRequests, rep.LoadErrors, rep.LoadErrorsByStatus = res.Requests, res.Errors, res.ErrorsByStatus
	})
	return &wg
}

// accept records the event id of a 2xx answer.
func (r *chaosRun) accept(id string) {
	if id == "" {
		r.acceptedNoID.Add(1)
		return
	}
	if _, dup := r.accepted.LoadOrStore(id, true); !dup {
		r.acceptedN.Add(1)
	}
}

// chaos carries out the plan until the load phase is over.
func (r *chaosRun) chaos(ctx context.Context, start time.Time) {
	rng := r.rand(2)
	end := start.Add(r.cfg.Duration)
	var corpora sync.WaitGroup
	defer corpora.Wait()
	for _, a := range plan(r.cfg, r.rand(3)) {
		at := start.Add(a.at)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at)):
		}
		if time.Now().After(end) {
			r.log.Warn("chaos: the load phase ended before this was done", "action", a.what)
			continue
		}
		if err := r.stack.ensureUp(ctx); err != nil {
			r.log.Error("chaos: the stack does not start again", "err", err)
			return
		}
		switch a.what {
		case killFunction:
			if name, pid := r.stack.killFunction(rng); pid != 0 {
				r.functionKills.Add(1)
				r.log.Info("chaos: killed a function process", "function", name, "pid", pid)
			}
		case killStack:
			r.quiet.Lock()
			r.log.Info("chaos: killing the whole stack (SIGKILL) and starting it again", "pid", r.stack.pid())
			began := time.Now()
			err := r.stack.crash(ctx)
			r.quiet.Unlock()
			if err != nil {
				r.log.Error("chaos: the stack does not start again", "err", err)
				return
			}
			r.stackKills.Add(1)
			r.log.Info("chaos: the stack is back", "took", time.Since(began).Round(time.Millisecond))
		case sendHTTP:
			r.quiet.RLock()
			corpora.Go(func() {
				defer r.quiet.RUnlock()
				r.sendHTTP(ctx)
			})
		case sendKafka:
			r.quiet.RLock()
			r.sendKafka(ctx)
			r.quiet.RUnlock()
		}
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(end)):
	}
}

// sendHTTP sends one round of the hostile HTTP corpus; every round sends
// the same requests (and the same secrets).
func (r *chaosRun) sendHTTP(ctx context.Context) {
	addr := fmt.Sprintf("127.0.0.1:%d", r.stack.apiPort)
	r.httpOnce.Do(func() { r.httpCases = httpCorpus(addr, r.secrets) })
	r.log.Info("chaos: sending the hostile HTTP corpus", "requests", len(r.httpCases), "slow_clients", r.cfg.SlowClients*len(slowKinds(addr)))
	runHTTPCorpus(ctx, addr, r.httpCases, r.cfg.SlowClients, r.cfg.SlowHold, r.http)
}

func (r *chaosRun) sendKafka(ctx context.Context) {
	cases := kafkaCorpus(r.rand(4), r.secrets)
	rd, err := newKafkaReader(r.stack.brokers)
	if err != nil {
		r.log.Error("chaos: Kafka client", "err", err)
		return
	}
	defer rd.close()
	topic := r.topic
	parts, err := rd.partitions(ctx, topic)
	if err != nil {
		r.log.Error("chaos: cannot read the partitions of the topic", "topic", topic, "err", err)
		return
	}
	r.log.Info("chaos: producing the garbage Kafka corpus", "records", len(cases), "topic", topic)
	res, err := produceKafkaCorpus(ctx, r.stack.brokers, topic, parts, cases)
	if err != nil {
		r.log.Error("chaos: the garbage Kafka corpus", "err", err)
	}
	r.kafka = res
}

// verify drains the jobs and compares everything with the topic.
func (r *chaosRun) verify(ctx context.Context, jobs []jobSpec, rep *Report) error {
	rd, err := newKafkaReader(r.stack.brokers)
	if err != nil {
		return err
	}
	defer rd.close()
	topic := jobs[0].topic
	var groups []string
	for _, j := range jobs {
		groups = append(groups, j.group)
	}
	r.phase.Store("draining")
	r.log.Info("chaos: load over; waiting for every job to reach the end of the topic", "within", r.cfg.Drain)
	began := time.Now()
	lag := drain(ctx, rd.adm, topic, groups, r.cfg.Drain, r.cfg.DrainStall, func(total int64) {
		r.phase.Store(fmt.Sprintf("draining: %s records behind", commas(int(total))))
	})
	done := func(what string, args ...any) {
		r.log.Info("chaos: "+what, append(args, "took", time.Since(began).Round(time.Millisecond))...)
		began = time.Now()
	}
	done("drained", "lag", lag)
	for g, n := range lag {
		if n > 0 {
			if rep.Lag == nil {
				rep.Lag = map[string]int64{}
			}
			rep.Lag[g] = n
		}
	}

	r.phase.Store("checking the topic, the datasets and the inventories")
	for _, id := range r.http.eventIDs {
		r.accept(id)
	}
	for range r.http.noEventID {
		r.accept("")
	}
	t, err := readEventsTopic(ctx, rd, topic)
	if err != nil {
		return err
	}
	rep.TopicRecords, rep.TopicEvents = len(t.records), 0
	users := map[string]bool{}
	for i := range t.records {
		if t.records[i].valid {
			rep.TopicEvents++
			users[t.records[i].event.UserName] = true
		}
	}
	for _, n := range t.ids {
		rep.TopicDuplicated += n - 1
	}
	r.accepted.Range(func(id, _ any) bool {
		if t.ids[id.(string)] == 0 {
			rep.TopicLost++
		}
		return true
	})
	rep.Accepted, rep.AcceptedNoID = int(r.acceptedN.Load()), int(r.acceptedNoID.Load())
	rep.Smuggled = smuggledUsers(users)
	done("read the topic back", "records", len(t.records))

	want := expectedInventories(t)
	hdfs, err := store.Open(ctx, r.stack.datasetRoot)
	if err != nil {
		return err
	}
	defer hdfs.Close()
	st, err := prefetch(ctx, hdfs)
	if err != nil {
		return err
	}
	done("read the datasets", "files", len(st.files))
	s := sink.New(st, nil)
	dead := deadLetters{}
	for _, j := range jobs {
		c, err := checkDataset(ctx, s, j, t, want, dead)
		if err != nil {
			return fmt.Errorf("check %s: %w", j.dataset, err)
		}
		rep.Datasets = append(rep.Datasets, c)
	}
	for _, reason := range slices.Sorted(maps.Keys(dead)) {
		d := deadLetterCount{Reason: reason, Records: len(dead[reason])}
		for _, n := range dead[reason] {
			d.Rows += n
		}
		rep.DeadLetters = append(rep.DeadLetters, d)
	}
	done("checked the datasets", "datasets", len(jobs))
	rep.Inventory = checkInventories(ctx, r.stack.apiURL, want)
	done("checked the inventories", "players", len(want))

	found := leaks{}
	records, err := scanKafka(ctx, rd, topic, r.secrets, found)
	if err != nil {
		return err
	}
	if err := scanParquet(st, r.secrets, found); err != nil {
		return err
	}
	done("searched Kafka and Parquet for the secrets", "records", records)
	r.leaks = found
	return nil
}

// collect adds what the emulator's output and the corpora showed.
func (r *chaosRun) collect(pump *logPump, rep *Report) {
	exits, inLogs, lines := pump.results()
	rep.LogLines = lines
	for _, e := range exits {
		switch {
		case r.stack.killedByUs(e.pid):
		case e.reason == "timeout":
			rep.FunctionTimeouts++
		case e.reason == "" || e.reason == "init error":
			rep.Crashes = append(rep.Crashes, fmt.Sprintf("%s (pid %d) exited: %s %s", e.function, e.pid, e.status, e.reason))
		}
	}
	rep.Crashes = append(rep.Crashes, r.stack.crashed()...)
	rep.PeakRSSMB = r.stack.peakRSSKB() / 1024
	for s := range inLogs {
		r.leaks.add(s, "log")
	}
	rep.SecretsSent, rep.Leaks = r.secrets.count(), r.leaks.describe(r.secrets)

	h := r.http
	rep.HTTPRequests, rep.HTTPByClass, rep.HTTPNonJSON = h.requests, h.byClass, h.nonJSON
	for _, k := range slices.Sorted(maps.Keys(h.fiveXX)) {
		rep.HTTP5xx = append(rep.HTTP5xx, fmt.Sprintf("%s ×%d", k, h.fiveXX[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(h.noAnswer)) {
		rep.HTTPNoAnswer = append(rep.HTTPNoAnswer, fmt.Sprintf("%s ×%d", k, h.noAnswer[k]))
	}
	rep.SlowHeld = map[string]string{}
	for k, t := range h.slow {
		rep.SlowHeld[k] = fmt.Sprintf("%d/%d", t.heldOpen, t.clients)
	}
	rep.KafkaSent, rep.KafkaAcked, rep.KafkaRefused = r.kafka.sent, r.kafka.acked, r.kafka.refused
}

// statusLine shows progress: a line rewritten every second on a terminal,
// a log line every 10 s otherwise.
func (r *chaosRun) statusLine(began time.Time) (stop func()) {
	every := 10 * time.Second
	if r.cfg.Status != nil {
		every = time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if r.cfg.Status != nil {
					fmt.Fprintln(r.cfg.Status)
				}
				return
			case <-tick.C:
			}
			elapsed := time.Since(began).Round(time.Second)
			phase := r.phase.Load().(string)
			if r.cfg.Status != nil {
				fmt.Fprintf(r.cfg.Status, "\rchaos %s: %s; %d accepted, %d/%d function kills, %d/%d stack kills, %d hostile requests   ",
					elapsed, phase, r.acceptedN.Load(), r.functionKills.Load(), r.cfg.FunctionKills, r.stackKills.Load(), r.cfg.StackKills, r.http.count())
				continue
			}
			r.log.Info("chaos: progress", "elapsed", elapsed, "phase", phase, "accepted", r.acceptedN.Load(),
				"function_kills", r.functionKills.Load(), "stack_kills", r.stackKills.Load(), "hostile_requests", r.http.count())
		}
	})
	return func() { close(done); wg.Wait() }
}
