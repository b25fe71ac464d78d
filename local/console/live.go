package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The sampler's pace and memory: one sample a second whoever watches, the
// last historyLen of them kept for the charts; the datasets scanned every
// datasetEvery while a page showing them is open, or less often when a
// scan takes more than 1/scanShare of that.
const (
	sampleEvery  = time.Second
	historyLen   = 300
	datasetEvery = 5 * time.Second
	scanShare    = 50
)

// part is a part of the live state; a page's stream carries only the
// parts the page shows (?want=functions,topics,…).
type part uint8

const (
	partFunctions part = 1 << iota
	partTopics
	partMappings
	partDatasets
	partHistory // the history at the start, then one point a second
)

var partNames = map[string]part{"functions": partFunctions, "topics": partTopics, "mappings": partMappings, "datasets": partDatasets, "history": partHistory}

func parseParts(list string) (part, error) {
	var p part
	for name := range strings.SplitSeq(list, ",") {
		if name == "" {
			continue
		}
		bit, ok := partNames[name]
		if !ok {
			return 0, fmt.Errorf("no live part %q: want one of functions, topics, mappings, datasets, history", name)
		}
		p |= bit
	}
	return p, nil
}

// snapshot is the live state of the pipeline, sent to the pages once a
// second.
type snapshot struct {
	Time      int64                   `json:"time"` // Unix ms
	Functions map[string]functionLive `json:"functions,omitempty"`
	Topics    map[string]topicLive    `json:"topics,omitempty"`
	Mappings  []mappingLive           `json:"mappings,omitempty"`
	Datasets  map[string]datasetLive  `json:"datasets,omitempty"`
	Point     *point                  `json:"point,omitempty"`
}

// only is the snapshot with only the parts in want.
func (s snapshot) only(want part) snapshot {
	if want&partFunctions == 0 {
		s.Functions = nil
	}
	if want&partTopics == 0 {
		s.Topics = nil
	}
	if want&partMappings == 0 {
		s.Mappings = nil
	}
	if want&partDatasets == 0 {
		s.Datasets = nil
	}
	if want&partHistory == 0 {
		s.Point = nil
	}
	return s
}

type functionLive struct {
	Invocations  uint64  `json:"invocations"`
	PerSecond    float64 `json:"per_second"`
	Errors       uint64  `json:"errors"`
	Timeouts     uint64  `json:"timeouts"`
	Throttles    uint64  `json:"throttles"`
	Waiting      int     `json:"waiting"`
	ColdStarts   uint64  `json:"cold_starts"`
	Environments int     `json:"environments"`
	Busy         int     `json:"busy"`
	Idle         int     `json:"idle"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	Samples      int     `json:"samples"`
	MaxMemoryMB  int     `json:"max_memory_mb"`
}

type topicLive struct {
	Partitions []partitionLive `json:"partitions"`
	Records    int64           `json:"records"` // end − start over the partitions
	PerSecond  float64         `json:"per_second"`
}

type partitionLive struct {
	Partition int32   `json:"partition"`
	Start     int64   `json:"start"`
	End       int64   `json:"end"`
	PerSecond float64 `json:"per_second"`
}

type mappingLive struct {
	Function   string        `json:"function"`
	Topic      string        `json:"topic"`
	Lag        int64         `json:"lag"`
	Partitions []mappingPart `json:"partitions"`
	Batches    int64         `json:"batches"`
	Records    int64         `json:"records"`
	PerSecond  float64       `json:"per_second"` // records delivered
	Filtered   int64         `json:"filtered"`
	Oversized  int64         `json:"oversized"`
	Retries    int64         `json:"retries"` // failed attempts, each retried
	LastBatch  int64         `json:"last_batch"`
}

type mappingPart struct {
	Partition int32 `json:"partition"`
	Committed int64 `json:"committed"`
	End       int64 `json:"end"`
	Lag       int64 `json:"lag"`
}

// live samples the pipeline and streams snapshots to the pages.
type live struct {
	s *Server

	mu          sync.Mutex
	subscribers map[*subscriber]struct{}
	latest      *snapshot // the last sample, every part
	history     [historyLen]point
	samples     int
}

// subscriber is an open stream and the parts its page shows.
type subscriber struct {
	want part
	ch   chan []byte
}

// point is one second of history: the rates the charts plot.
type point struct {
	Time      int64              `json:"t"`
	Topics    map[string]float64 `json:"topics"`    // records/s
	Functions map[string]float64 `json:"functions"` // invocations/s
	Lag       map[string]int64   `json:"lag"`       // per mapping function
}

func newLive(s *Server) *live {
	return &live{s: s, subscribers: map[*subscriber]struct{}{}}
}

// scanDatasets refreshes the datasets' numbers. Listing them and reading
// new files' footers costs the store some work: it runs only while a page
// showing datasets is open, and on its own goroutine so a slow store never
// delays the live numbers.
func (l *live) scanDatasets(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		if l.wanted()&partDatasets != 0 && l.s.datasets.due() {
			l.s.datasets.scan(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (l *live) run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		l.sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (l *live) sample(ctx context.Context) {
	now := time.Now()
	snap := &snapshot{Time: now.UnixMilli(), Functions: map[string]functionLive{}, Topics: map[string]topicLive{}}
	l.mu.Lock()
	prev := l.latest
	l.mu.Unlock()

	var dt float64
	if prev != nil {
		dt = float64(snap.Time-prev.Time) / 1000
	}
	rate := func(now, before float64) float64 {
		if dt <= 0 || now < before {
			return 0
		}
		return (now - before) / dt
	}

	if rt := l.s.cfg.Runtime; rt != nil {
		for name, st := range rt.Stats() {
			m := rt.Metrics(name)
			f := functionLive{Invocations: st.Invocations, Errors: st.Errors, Timeouts: st.Timeouts, Throttles: st.Throttles,
				Waiting: st.Waiting, ColdStarts: st.ColdStarts, Environments: st.Environments, Busy: st.Busy, Idle: st.Idle,
				P50Ms: ms(m.P50), P99Ms: ms(m.P99), Samples: m.Samples, MaxMemoryMB: m.MaxMemoryMB}
			if prev != nil {
				f.PerSecond = rate(float64(st.Invocations), float64(prev.Functions[name].Invocations))
			}
			snap.Functions[name] = f
		}
	}

	topics := l.s.topicOffsets(ctx)
	for name, parts := range topics {
		var tl topicLive
		var before map[int32]partitionLive
		if prev != nil {
			before = map[int32]partitionLive{}
			for _, p := range prev.Topics[name].Partitions {
				before[p.Partition] = p
			}
		}
		for _, p := range parts {
			if b, ok := before[p.Partition]; ok {
				p.PerSecond = rate(float64(p.End), float64(b.End))
			}
			tl.Partitions = append(tl.Partitions, p)
			tl.Records += p.End - p.Start
			tl.PerSecond += p.PerSecond
		}
		snap.Topics[name] = tl
	}

	for i, m := range l.s.cfg.Mappings {
		st := m.Stats.Snapshot()
		ml := mappingLive{Function: m.Function, Topic: m.Topic, Batches: st.Batches, Records: st.Records,
			Filtered: st.Filtered, Oversized: st.Oversized, Retries: st.Errors, Partitions: []mappingPart{}}
		if t := m.LastBatch(); !t.IsZero() {
			ml.LastBatch = t.UnixMilli()
		}
		// Lag as a consumer-group tool shows it: the partition's end offset
		// now minus the group's committed offset.
		for _, ps := range m.Stats.Partitions() {
			mp := mappingPart{Partition: ps.Partition, Committed: ps.Committed, End: ps.HighWatermark}
			for _, tp := range topics[m.Topic] {
				if tp.Partition == ps.Partition {
					mp.End = tp.End
				}
			}
			if mp.Committed >= 0 && mp.End > mp.Committed {
				mp.Lag = mp.End - mp.Committed
			}
			ml.Lag += mp.Lag
			ml.Partitions = append(ml.Partitions, mp)
		}
		if prev != nil && i < len(prev.Mappings) {
			ml.PerSecond = rate(float64(st.Records+st.Filtered), float64(prev.Mappings[i].Records+prev.Mappings[i].Filtered))
		}
		snap.Mappings = append(snap.Mappings, ml)
	}

	if l.wanted()&partDatasets != 0 {
		snap.Datasets = l.s.datasets.live(now)
	}
	pt := point{Time: snap.Time, Topics: map[string]float64{}, Functions: map[string]float64{}, Lag: map[string]int64{}}
	for n, t := range snap.Topics {
		pt.Topics[n] = t.PerSecond
	}
	for n, f := range snap.Functions {
		pt.Functions[n] = f.PerSecond
	}
	for _, m := range snap.Mappings {
		pt.Lag[m.Function] = m.Lag
	}
	snap.Point = &pt

	l.mu.Lock()
	defer l.mu.Unlock()
	l.latest = snap
	l.history[l.samples%historyLen] = pt
	l.samples++
	encoded := map[part][]byte{} // each page's parts, encoded once
	for sub := range l.subscribers {
		data, ok := encoded[sub.want]
		if !ok {
			var err error
			if data, err = json.Marshal(snap.only(sub.want)); err != nil {
				l.s.cfg.Logger.Error("console: encode a snapshot", "err", err)
				return
			}
			encoded[sub.want] = data
		}
		select {
		case sub.ch <- data:
		default: // a slow page skips a second rather than hold the sampler
		}
	}
}

// wanted is every part an open page shows.
func (l *live) wanted() part {
	l.mu.Lock()
	defer l.mu.Unlock()
	var p part
	for sub := range l.subscribers {
		p |= sub.want
	}
	return p
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// historyPoints returns the kept history, oldest first.
func (l *live) historyPoints() []point {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := min(l.samples, historyLen)
	out := make([]point, 0, n)
	for k := l.samples - n; k < l.samples; k++ {
		out = append(out, l.history[k%historyLen])
	}
	return out
}

// serveEvents streams what a page shows (?want=, see part) as
// server-sent events: the history once if it wants it, then a snapshot
// every second.
func (l *live) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	want, err := parseParts(r.URL.Query().Get("want"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sub := &subscriber{want: want, ch: make(chan []byte, 4)}
	l.mu.Lock()
	l.subscribers[sub] = struct{}{}
	var latest []byte
	if l.latest != nil { // the page opens on the last sample; the scanner sees it wants datasets within a second
		snap := l.latest.only(want)
		if want&partDatasets != 0 {
			snap.Datasets = l.s.datasets.live(time.Now())
		}
		latest, _ = json.Marshal(snap)
	}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.subscribers, sub)
		l.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, "retry: 2000\n\n")
	if want&partHistory != 0 {
		history, _ := json.Marshal(l.historyPoints())
		fmt.Fprintf(w, "event: history\ndata: %s\n\n", history)
	}
	if latest != nil {
		fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", latest)
	}
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case data, open := <-sub.ch:
			if !open {
				return
			}
			fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", data)
			flusher.Flush()
		}
	}
}

// closeSubscribers ends every open stream (Close).
func (l *live) closeSubscribers() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for sub := range l.subscribers {
		close(sub.ch)
		delete(l.subscribers, sub)
	}
}
