package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/questlog/questlog/internal/kafkaconf"
	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/build"
	"github.com/questlog/questlog/local/console"
	"github.com/questlog/questlog/local/esm"
	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/invokeapi"
	"github.com/questlog/questlog/local/kafka"
	"github.com/questlog/questlog/local/lambda"
	"github.com/questlog/questlog/local/netns"
	"github.com/questlog/questlog/local/template"
)

// Serve selects what an Emulator serves besides the functions themselves.
type Serve struct {
	API      bool // API Gateway (start, start-api)
	Lambda   bool // the Lambda Invoke API (start-lambda)
	Mappings bool // the Kafka event-source mappings (start)
	Console  bool // the web console (start)
}

// Emulator is a running template.
type Emulator struct {
	cfg      Config
	Template *template.Template
	Runtime  *lambda.Runtime
	svc      *services
	network  *netns.Network // the functions' network; nil: the host's

	APIURL, LambdaURL, ConsoleURL string
	Brokers                       []string
	DatasetRoot                   string

	servers   []*http.Server
	invokeAPI *invokeapi.Handler
	console   *console.Server
	mappings  []*mapping
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

type mapping struct {
	esm.Mapping
	stats     esm.Stats
	lastBatch atomic.Int64 // Unix ns of the last settled batch, for the console
}

// Start builds and starts everything serve asks for. exclusive means this
// process must own the embedded services (start); otherwise it may use
// those of a running emulator (invoke, replay).
func Start(ctx context.Context, cfg Config, serve Serve, exclusive bool) (*Emulator, error) {
	began := time.Now()
	cfg.withDefaults()
	network, err := openNetwork(cfg)
	if err != nil {
		return nil, err
	}
	e, err := startServicesAndTemplate(ctx, cfg, exclusive, network)
	if err != nil {
		if network != nil {
			network.Close()
		}
		return nil, err
	}
	cfg = e.cfg
	if network != nil {
		warnLoopback(cfg.Logger, e.Brokers, e.DatasetRoot)
	}
	ok := false
	defer func() {
		if !ok {
			e.Close(context.Background())
		}
	}()
	fns, err := e.functions()
	if err != nil {
		return nil, err
	}
	if err := e.createTopics(ctx, fns); err != nil {
		return nil, err
	}
	bootstraps, err := e.build(ctx, fns)
	if err != nil {
		return nil, err
	}
	rtOpts := lambda.Options{Logger: cfg.Logger, LogOutput: cfg.FunctionLogs}
	if network != nil {
		rtOpts.Network = network
	}
	if e.Runtime, err = lambda.New(runtimeFunctions(fns, bootstraps), rtOpts); err != nil {
		return nil, err
	}

	runCtx, stop := context.WithCancel(context.Background())
	e.stop = stop
	if serve.API {
		if err := e.serveAPI(fns); err != nil {
			return nil, err
		}
	}
	if serve.Lambda {
		if err := e.serveLambda(fns); err != nil {
			return nil, err
		}
	}
	if serve.Mappings {
		e.startMappings(runCtx, fns)
	}
	published := State{Brokers: e.Brokers, DatasetRoot: e.DatasetRoot, APIURL: e.APIURL}
	if serve.Console {
		if err := e.startConsole(ctx); err != nil {
			return nil, err
		}
		published.SQLSocket = e.console.SQLSocket()
	}
	if err := e.svc.publish(cfg.DataDir, published); err != nil {
		return nil, err
	}
	ok = true
	cfg.Logger.Info("questlog emulator ready", "functions", len(fns), "api", e.APIURL, "lambda", e.LambdaURL, "console", e.ConsoleURL,
		"kafka", strings.Join(e.Brokers, ","), "datasets", e.DatasetRoot, "mappings", len(e.mappings), "took", time.Since(began).Round(time.Millisecond))
	return e, nil
}

// StartServicesOnly starts (or finds) the embedded services and loads the
// template, running no function: for commands that read the datasets.
func StartServicesOnly(ctx context.Context, cfg Config) (*Emulator, error) {
	return startServicesAndTemplate(ctx, cfg, false, nil)
}

func startServicesAndTemplate(ctx context.Context, cfg Config, exclusive bool, network *netns.Network) (*Emulator, error) {
	cfg.withDefaults()
	if err := checkAdvertiseHost(cfg.AdvertiseHost); err != nil {
		return nil, err
	}
	warnAdvertising(cfg, network)
	opts := template.Options{ParameterOverrides: cfg.ParameterOverrides, EnvVarsFile: cfg.EnvVarsFile, LookupEnv: cfg.LookupEnv}
	declared, err := template.Load(cfg.Template, opts) // which parameters does it have?
	if err != nil {
		return nil, err
	}
	_, wantKafka := declared.Parameters[ParamKafka]
	_, wantHDFS := declared.Parameters[ParamDatasetRoot]
	svc, err := startServices(ctx, &cfg, exclusive, wantKafka, wantHDFS, network)
	if err != nil {
		return nil, err
	}
	e := &Emulator{cfg: cfg, svc: svc, network: network}
	overrides := map[string]string{}
	for k, v := range cfg.ParameterOverrides {
		overrides[k] = v
	}
	if len(svc.brokers) > 0 && wantKafka {
		overrides[ParamKafka] = strings.Join(svc.brokers, ",")
	}
	if svc.datasetRoot != "" && wantHDFS {
		overrides[ParamDatasetRoot] = svc.datasetRoot
	}
	opts.ParameterOverrides = overrides
	e.Template, err = template.Load(cfg.Template, opts)
	if err != nil {
		svc.Close()
		return nil, err
	}
	for _, w := range e.Template.Warnings {
		cfg.Logger.Warn("template: " + w)
	}
	e.Brokers = kafkaconf.Brokers(e.Template.Parameters[ParamKafka])
	e.DatasetRoot = e.Template.Parameters[ParamDatasetRoot]
	return e, nil
}

// functions returns the template's functions Config.Functions selects.
func (e *Emulator) functions() ([]*template.Function, error) {
	if len(e.cfg.Functions) == 0 {
		return e.Template.Functions, nil
	}
	var fns []*template.Function
	for _, id := range e.cfg.Functions {
		fn := e.Template.Function(id)
		if fn == nil {
			return nil, fmt.Errorf("%w: %s is not a function in %s", invoke.ErrUnknownFunction, id, e.cfg.Template)
		}
		fns = append(fns, fn)
	}
	return fns, nil
}

// compactedTopicVars name environment variables whose topic holds state
// (one record per key) rather than events.
var compactedTopicVars = map[string]bool{"INVENTORY_TOPIC": true}

// createTopics creates, on the embedded broker or a real cluster alike,
// every topic a mapping reads and every topic a function's *_TOPIC
// variable names, all with the same partition count (--partitions).
func (e *Emulator) createTopics(ctx context.Context, fns []*template.Function) error {
	compacted := map[string]bool{}
	var names []string
	for _, fn := range e.Template.Functions {
		for _, ev := range fn.KafkaEvents {
			names = append(names, ev.Topic)
		}
		for k, v := range fn.Environment {
			if strings.HasSuffix(k, "_TOPIC") && v != "" {
				names = append(names, v)
				compacted[v] = compacted[v] || compactedTopicVars[k]
			}
		}
	}
	slices.Sort(names)
	var topics []kafka.Topic
	for _, name := range slices.Compact(names) {
		t := kafka.Topic{Name: name, Partitions: e.cfg.Partitions}
		if compacted[name] {
			t.Configs = map[string]string{"cleanup.policy": "compact"}
		}
		topics = append(topics, t)
	}
	if len(topics) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, e.Brokers, topics); err != nil {
		return fmt.Errorf("create topics on %s: %w", strings.Join(e.Brokers, ","), err)
	}
	return nil
}

// build runs each function's Makefile target, or, with SkipBuild, finds
// the bootstrap a previous build left.
func (e *Emulator) build(ctx context.Context, fns []*template.Function) (map[string]string, error) {
	targets := make([]build.Target, len(fns))
	for i, fn := range fns {
		targets[i] = build.Target{LogicalID: fn.LogicalID, Architecture: fn.Architecture(), BuildMethod: fn.BuildMethod}
	}
	bootstraps := map[string]string{}
	if e.cfg.SkipBuild {
		for _, fn := range fns {
			bootstraps[fn.LogicalID] = build.BootstrapPath(e.cfg.ProjectDir, "", fn.LogicalID)
		}
		return bootstraps, nil
	}
	opts := build.Options{ProjectDir: e.cfg.ProjectDir, Logger: e.cfg.Logger}
	results, err := build.Build(ctx, targets, opts)
	if err == nil {
		_, err = build.WriteTemplate(e.cfg.Template, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	for _, r := range results {
		bootstraps[r.LogicalID] = r.Bootstrap
	}
	return bootstraps, nil
}

func runtimeFunctions(fns []*template.Function, bootstraps map[string]string) []lambda.Function {
	out := make([]lambda.Function, len(fns))
	for i, fn := range fns {
		out[i] = lambda.Function{
			Name: fn.LogicalID, Bootstrap: bootstraps[fn.LogicalID], Handler: fn.Handler, Env: fn.Environment,
			MemoryMB: fn.MemorySize, Timeout: fn.Timeout, MaxConcurrency: fn.ReservedConcurrency,
			LogFormat: fn.LogFormat, LogLevel: fn.ApplicationLogLevel, Architecture: fn.Architecture(),
		}
	}
	return out
}

func (e *Emulator) serveAPI(fns []*template.Function) error {
	var routes []apigw.Route
	for _, fn := range fns {
		for _, ev := range fn.HTTPEvents {
			routes = append(routes, apigw.Route{Method: ev.Method, Path: ev.Path, Function: fn.LogicalID,
				PayloadFormatVersion: ev.PayloadFormatVersion, TimeoutInMillis: ev.TimeoutInMillis})
		}
	}
	h, err := apigw.New(routes, e.Runtime, apigw.Options{Logger: e.cfg.Logger, Limits: e.cfg.APILimits})
	if err != nil {
		return err
	}
	l, err := listen(e.cfg.APIAddr, "API Gateway", "--port")
	if err != nil {
		return err
	}
	e.APIURL = reachableURL(&e.cfg, l)
	e.serveWith(apigw.JSONErrors(l), apigw.Server(h, e.cfg.APILimits))
	return nil
}

func (e *Emulator) serveLambda(fns []*template.Function) error {
	names := map[string]string{}
	kafkaTriggered := map[string]bool{}
	for _, fn := range fns {
		kafkaTriggered[fn.LogicalID] = len(fn.KafkaEvents) > 0
		names[fn.LogicalID] = fn.LogicalID
		if fn.FunctionName != "" {
			names[fn.FunctionName] = fn.LogicalID
		}
	}
	vet := func(ctx context.Context, fn string, payload []byte) error {
		if !kafkaTriggered[fn] {
			return nil
		}
		return e.vetKafkaEvent(ctx, fn, payload)
	}
	h, err := invokeapi.New(e.Runtime, invokeapi.Options{Logger: e.cfg.Logger, Functions: names, Vet: vet})
	if err != nil {
		return err
	}
	l, err := listen(e.cfg.LambdaAddr, "the Lambda Invoke API", "--lambda-port")
	if err != nil {
		return err
	}
	e.LambdaURL = reachableURL(&e.cfg, l)
	e.invokeAPI = h
	e.serve(l, h)
	return nil
}

func (e *Emulator) serve(l net.Listener, h http.Handler) {
	e.serveWith(l, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second})
}

func (e *Emulator) serveWith(l net.Listener, srv *http.Server) {
	e.servers = append(e.servers, srv)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.cfg.Logger.Error("server stopped", "addr", l.Addr().String(), "err", err)
		}
	}()
}

// vetKafkaEvent refuses a Kafka event whose records are not the live
// topic's: invoked here, the function would land them in the live
// datasets (see esm.Foreign). `questlog invoke -e` runs such an event on a
// scratch stack instead.
func (e *Emulator) vetKafkaEvent(ctx context.Context, fn string, payload []byte) error {
	ev, ok := esm.KafkaEventOf(payload)
	if !ok {
		return nil
	}
	mismatch, err := esm.Foreign(ctx, e.Brokers, ev)
	if err != nil {
		return fmt.Errorf("could not compare the event's records with the live topic: %w", err)
	}
	if mismatch != "" {
		return fmt.Errorf("the event's records are not the live topic's (%s): invoked here, %s would land them in the live datasets "+
			"and skip the real records at those offsets as landed. Run `questlog invoke %s -e FILE` (a scratch stack), "+
			"or invoke it with records from the topic (`questlog generate-event kafka --from-topic`)", mismatch, fn, fn)
	}
	return nil
}

// Mapping returns the event-source mapping of a function's Kafka event.
func (e *Emulator) Mapping(fn *template.Function, ev template.KafkaEvent) esm.Mapping {
	return esm.Mapping{
		Function: fn.LogicalID, Brokers: ev.BootstrapServers, Topic: ev.Topic, ConsumerGroupID: ev.ConsumerGroupID,
		StartingPosition: ev.StartingPosition, StartingPositionTimestamp: ev.StartingPositionTimestamp,
		BatchSize: ev.BatchSize, BatchingWindow: ev.BatchingWindow, FilterPatterns: ev.FilterPatterns,
	}
}

func (e *Emulator) startMappings(ctx context.Context, fns []*template.Function) {
	for _, fn := range fns {
		for _, ev := range fn.KafkaEvents {
			if !ev.Enabled {
				e.cfg.Logger.Info("event-source mapping disabled in the template", "function", fn.LogicalID, "event", ev.Name)
				continue
			}
			m := &mapping{Mapping: e.Mapping(fn, ev)}
			e.mappings = append(e.mappings, m)
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				opts := esm.Options{Logger: e.cfg.Logger, Stats: &m.stats, OnBatch: func(esm.BatchInfo) { m.lastBatch.Store(time.Now().UnixNano()) }}
				if err := esm.Run(ctx, m.Mapping, e.Runtime, opts); err != nil {
					e.cfg.Logger.Error("event-source mapping stopped", "function", m.Function, "topic", m.Topic, "err", err)
				}
			}()
		}
	}
}

// Close drains: mappings finish their in-flight batches and commit, the
// HTTP servers finish their requests, the runtime finishes its
// invocations; then the processes and the embedded services stop.
func (e *Emulator) Close(ctx context.Context) error {
	if e.stop != nil {
		e.stop()
	}
	var errs []error
	if e.console != nil {
		errs = append(errs, e.console.Close(ctx))
	}
	for _, srv := range e.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	if e.invokeAPI != nil {
		errs = append(errs, e.invokeAPI.Close(ctx)) // Event invocations still running
	}
	e.wg.Wait()
	if e.Runtime != nil {
		errs = append(errs, e.Runtime.Close(ctx))
	}
	if e.svc != nil {
		errs = append(errs, e.svc.Close())
	}
	if e.network != nil {
		errs = append(errs, e.network.Close())
	}
	return errors.Join(errs...)
}

// MappingStats is one event-source mapping's counters.
type MappingStats struct {
	Function, Topic string
	esm.StatsSnapshot
}

// Stats returns the counters of every running mapping.
func (e *Emulator) Stats() []MappingStats {
	out := make([]MappingStats, len(e.mappings))
	for i, m := range e.mappings {
		out[i] = MappingStats{Function: m.Function, Topic: m.Topic, StatsSnapshot: m.stats.Snapshot()}
	}
	return out
}
