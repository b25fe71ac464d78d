package lambda

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// What a function keeps about its recent past, for the console: fixed-size
// rings, so memory stays bounded whatever the load, and recording an
// invocation or a log line allocates nothing once the rings are warm.
const (
	durationSamples   = 1024            // durations behind p50/p99
	durationWindow    = time.Minute     // … of invocations that ended this recently
	recentInvocations = 50              // the invocations listed with their logs
	logTailLines      = 500             // log lines kept per function
	maxTailLine       = 1024            // bytes of a line kept in the tail
	tailLineCap       = maxTailLine + 8 // capacity reserved per kept line
)

// metrics is one function's recent history.
type metrics struct {
	mu        sync.Mutex
	durations [durationSamples]durationSample
	ended     uint64 // invocations recorded; the rings' write position
	recent    [recentInvocations]Invocation
	maxMemMB  int
	lines     [logTailLines]tailLine
	written   uint64 // lines recorded
}

type durationSample struct {
	at  int64 // end, Unix nanoseconds
	dur time.Duration
}

type tailLine struct {
	at   int64
	env  string // the environment's id; shared, never copied
	text []byte // reused between lines
}

// Invocation is one recent invocation, as its REPORT line tells it.
type Invocation struct {
	RequestID    string        `json:"request_id"`
	Environment  string        `json:"environment"`
	End          time.Time     `json:"end"`
	Duration     time.Duration `json:"duration_ns"`
	InitDuration time.Duration `json:"init_duration_ns,omitempty"` // > 0 on a cold start
	MaxMemoryMB  int           `json:"max_memory_mb"`
	// Status is "" for success, "error" (a function or platform error) or
	// "timeout"; ErrorType says which error.
	Status    string `json:"status,omitempty"`
	ErrorType string `json:"error_type,omitempty"`
}

// LogLine is a line of a function's log: its own output or a platform line
// (START, END, REPORT).
type LogLine struct {
	Time        time.Time `json:"time"`
	Environment string    `json:"environment"`
	Text        string    `json:"text"`
}

// FunctionMetrics summarises a function's recent invocations.
type FunctionMetrics struct {
	// P50 and P99 are duration percentiles of the invocations that ended
	// within Window (at most the last 1024), over Samples invocations.
	P50, P99    time.Duration
	Samples     int
	Window      time.Duration
	MaxMemoryMB int // the highest Max Memory Used reported so far
}

// record notes an ended invocation; r is its REPORT.
func (m *metrics) record(env string, r report, now time.Time) {
	inv := Invocation{RequestID: r.requestID, Environment: env, End: now, Duration: r.duration,
		InitDuration: r.init, MaxMemoryMB: r.maxUsedMB, Status: r.status, ErrorType: r.errorType}
	if inv.Status == "" && r.functionError != "" {
		inv.Status, inv.ErrorType = "error", r.functionError
	}
	m.mu.Lock()
	i := m.ended
	m.ended++
	m.durations[i%durationSamples] = durationSample{at: now.UnixNano(), dur: r.duration}
	m.recent[i%recentInvocations] = inv
	m.maxMemMB = max(m.maxMemMB, r.maxUsedMB)
	m.mu.Unlock()
}

// logLine keeps a line of env's log, cut to maxTailLine bytes.
func logLine[T string | []byte](m *metrics, env string, line T, now time.Time) {
	m.mu.Lock()
	l := &m.lines[m.written%logTailLines]
	m.written++
	l.at, l.env = now.UnixNano(), env
	if l.text == nil {
		l.text = make([]byte, 0, tailLineCap)
	}
	l.text = append(l.text[:0], line[:min(len(line), maxTailLine)]...)
	m.mu.Unlock()
}

func (m *metrics) summary(now time.Time) FunctionMetrics {
	since := now.Add(-durationWindow).UnixNano()
	var ds []time.Duration
	m.mu.Lock()
	out := FunctionMetrics{Window: durationWindow, MaxMemoryMB: m.maxMemMB}
	for i := range min(m.ended, durationSamples) {
		if s := m.durations[i]; s.at >= since {
			ds = append(ds, s.dur)
		}
	}
	m.mu.Unlock()
	if len(ds) == 0 {
		return out
	}
	slices.Sort(ds)
	out.Samples = len(ds)
	out.P50 = ds[percentileIndex(len(ds), 50)]
	out.P99 = ds[percentileIndex(len(ds), 99)]
	return out
}

// percentileIndex is the nearest-rank index of the p-th percentile of n
// sorted values.
func percentileIndex(n, p int) int {
	i := (n*p + 99) / 100 // ceil(n·p/100)
	return max(i-1, 0)
}

// invocations returns the recent invocations, newest first.
func (m *metrics) invocations() []Invocation {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := min(m.ended, recentInvocations)
	out := make([]Invocation, 0, n)
	for k := range n {
		out = append(out, m.recent[(m.ended-1-k)%recentInvocations])
	}
	return out
}

// tail returns the last n lines (all kept when n <= 0), oldest first, of
// env only when env is not "".
func (m *metrics) tail(n int, env string) []LogLine {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := min(m.written, logTailLines)
	var out []LogLine
	for k := m.written - kept; k < m.written; k++ {
		l := &m.lines[k%logTailLines]
		if env == "" || l.env == env {
			out = append(out, LogLine{Time: time.Unix(0, l.at), Environment: l.env, Text: string(l.text)})
		}
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

func (r *Runtime) metricsOf(function string) *metrics {
	if f := r.fns[function]; f != nil {
		return &f.metrics
	}
	return nil
}

// Metrics returns a function's duration percentiles and peak memory.
func (r *Runtime) Metrics(function string) FunctionMetrics {
	if m := r.metricsOf(function); m != nil {
		return m.summary(time.Now())
	}
	return FunctionMetrics{}
}

// Invocations returns a function's most recent invocations (up to 50),
// newest first.
func (r *Runtime) Invocations(function string) []Invocation {
	if m := r.metricsOf(function); m != nil {
		return m.invocations()
	}
	return nil
}

// Logs returns the last n lines of a function's log (up to 500 are kept),
// oldest first: its own output and START/END/REPORT lines, without the
// "<function> | " prefix.
func (r *Runtime) Logs(function string, n int) []LogLine {
	if m := r.metricsOf(function); m != nil {
		return m.tail(n, "")
	}
	return nil
}

// InvocationLogs returns the log lines of one recent invocation, from its
// START line to its REPORT line, taken from its environment's lines. found
// is false when the invocation is not among the recent ones; the lines may
// be incomplete when older lines were already dropped from the tail.
func (r *Runtime) InvocationLogs(function, requestID string) (inv Invocation, lines []LogLine, found bool) {
	m := r.metricsOf(function)
	if m == nil {
		return Invocation{}, nil, false
	}
	for _, i := range m.invocations() {
		if i.RequestID == requestID {
			inv, found = i, true
			break
		}
	}
	if !found {
		return inv, nil, false
	}
	in := false
	for _, l := range m.tail(0, inv.Environment) {
		if strings.HasPrefix(l.Text, "START RequestId: "+requestID) {
			in = true
		}
		if in {
			lines = append(lines, l)
		}
		if strings.HasPrefix(l.Text, "REPORT RequestId: "+requestID) {
			break
		}
	}
	return inv, lines, true
}
