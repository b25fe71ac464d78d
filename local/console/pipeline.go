package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/local/template"
)

// pipeline is the template's shape, as the Pipeline page draws it. It does
// not change while the emulator runs.
type pipeline struct {
	APIURL    string         `json:"api_url"`
	Routes    []routeInfo    `json:"routes"`
	Topics    []string       `json:"topics"`
	Mappings  []mappingInfo  `json:"mappings"`
	Functions []functionInfo `json:"functions"`
	Datasets  []datasetInfo  `json:"datasets"`
}

type routeInfo struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	Function string `json:"function"`
	Topic    string `json:"topic"` // where its events go ("" for a route that only reads)
}

type mappingInfo struct {
	Function         string   `json:"function"`
	Topic            string   `json:"topic"`
	Group            string   `json:"group"`
	BatchSize        int      `json:"batch_size"`
	BatchingWindowMs int64    `json:"batching_window_ms"`
	StartingPosition string   `json:"starting_position"`
	Filters          []string `json:"filters,omitempty"`
	Dataset          string   `json:"dataset,omitempty"`
}

type functionInfo struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"` // "route" or "job"
	Routes      []string `json:"routes,omitempty"`
	Topics      []string `json:"topics,omitempty"` // the topics its mappings read
	Dataset     string   `json:"dataset,omitempty"`
	Filter      string   `json:"filter,omitempty"` // a filter job's CEL predicate
	MemoryMB    int      `json:"memory_mb"`
	TimeoutMs   int64    `json:"timeout_ms"`
	Concurrency int      `json:"concurrency"`
}

type datasetInfo struct {
	Name     string `json:"name"`
	Function string `json:"function"`
	Filter   string `json:"filter,omitempty"`
}

// Environment variables through which the template wires functions to
// topics and datasets.
const (
	envTopic   = "KAFKA_TOPIC"
	envDataset = "DATASET"
	envFilter  = "FILTER"
)

func newPipeline(cfg Config) *pipeline {
	p := &pipeline{APIURL: cfg.APIURL, Routes: []routeInfo{}, Topics: []string{}, Mappings: []mappingInfo{}, Functions: []functionInfo{}, Datasets: []datasetInfo{}}
	fns := cfg.Template.Functions
	for _, fn := range fns {
		info := functionInfo{Name: fn.LogicalID, Kind: "job", Dataset: fn.Environment[envDataset], Filter: fn.Environment[envFilter],
			MemoryMB: memoryMB(fn), TimeoutMs: timeoutMs(fn), Concurrency: concurrency(fn)}
		if len(fn.HTTPEvents) > 0 {
			info.Kind = "route"
			info.Dataset, info.Filter = "", ""
		}
		for _, ev := range fn.HTTPEvents {
			topic := ""
			if publishes(ev.Method, ev.Path) {
				topic = fn.Environment[envTopic]
			}
			p.Routes = append(p.Routes, routeInfo{Method: ev.Method, Path: ev.Path, Function: fn.LogicalID, Topic: topic})
			info.Routes = append(info.Routes, ev.Method+" "+ev.Path)
		}
		for _, ev := range fn.KafkaEvents {
			info.Topics = append(info.Topics, ev.Topic)
			p.Topics = append(p.Topics, ev.Topic)
		}
		for k, v := range fn.Environment {
			if strings.HasSuffix(k, "_TOPIC") && v != "" {
				p.Topics = append(p.Topics, v)
			}
		}
		if info.Dataset != "" {
			p.Datasets = append(p.Datasets, datasetInfo{Name: info.Dataset, Function: fn.LogicalID, Filter: info.Filter})
		}
		p.Functions = append(p.Functions, info)
	}
	for _, m := range cfg.Mappings {
		mi := mappingInfo{Function: m.Function, Topic: m.Topic, Group: m.GroupID(), BatchSize: m.BatchSize,
			BatchingWindowMs: m.BatchingWindow.Milliseconds(), StartingPosition: m.StartingPosition, Filters: m.FilterPatterns}
		if fn := cfg.Template.Function(m.Function); fn != nil {
			mi.Dataset = fn.Environment[envDataset]
		}
		p.Mappings = append(p.Mappings, mi)
	}
	slices.Sort(p.Topics)
	p.Topics = slices.Compact(p.Topics)
	slices.SortFunc(p.Datasets, func(a, b datasetInfo) int { return strings.Compare(a.Name, b.Name) })
	return p
}

// publishers are the game API's routes by the event type they publish
// (the inventory route only reads).
var publishers = map[string][]api.Route{
	event.TypeDefault:       {api.Default},
	event.TypePurchaseSword: {api.PurchaseSword},
	event.TypeJoinGuild:     {api.JoinGuild},
	event.TypePurchaseItem:  {api.PurchaseItem, api.PurchaseItemJSON},
}

// routeKey is "METHOD /path" as the template spells a route.
func routeKey(r api.Route) string {
	return strings.Replace(r.Pattern, "/{$}", "/", 1)
}

func publishes(method, path string) bool {
	for _, rs := range publishers {
		for _, r := range rs {
			if routeKey(r) == method+" "+path {
				return true
			}
		}
	}
	return false
}

// The template's defaults, as the runtime applies them.
func memoryMB(fn *template.Function) int    { return cmpOr(fn.MemorySize, 128) }
func timeoutMs(fn *template.Function) int64 { return cmpOr(fn.Timeout.Milliseconds(), 3000) }
func concurrency(fn *template.Function) int { return cmpOr(fn.ReservedConcurrency, 16) }

func cmpOr[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// datasetNames are the datasets the functions write.
func (p *pipeline) datasetNames() []string {
	names := make([]string, len(p.Datasets))
	for i, d := range p.Datasets {
		names[i] = d.Name
	}
	return names
}

func (p *pipeline) dataset(name string) (datasetInfo, bool) {
	for _, d := range p.Datasets {
		if d.Name == name {
			return d, true
		}
	}
	return datasetInfo{}, false
}

func (p *pipeline) function(name string) (functionInfo, bool) {
	for _, f := range p.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return functionInfo{}, false
}

func (s *Server) handlePipeline(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.pipeline)
}
