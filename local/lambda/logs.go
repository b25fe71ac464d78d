package lambda

import (
	"io"
	"math"
	"strconv"
	"sync"
	"time"
)

// logSink writes whole lines, each prefixed with "<function> | ", to one
// writer. Every line is a single Write under a mutex, so lines from
// concurrent environments never interleave.
type logSink struct {
	mu sync.Mutex
	w  io.Writer
}

// writeLines writes each line with prefix and a newline, all in one Write.
func (s *logSink) writeLines(prefix string, lines ...string) {
	n := 0
	for _, l := range lines {
		n += len(prefix) + len(l) + 1
	}
	buf := make([]byte, 0, n)
	for _, l := range lines {
		buf = append(buf, prefix...)
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	s.mu.Lock()
	_, _ = s.w.Write(buf)
	s.mu.Unlock()
}

// writeLine writes prefix, then the parts, then a newline, as one Write.
func (s *logSink) writeLine(prefix string, parts ...string) {
	n := len(prefix) + 1
	for _, p := range parts {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, prefix...)
	for _, p := range parts {
		buf = append(buf, p...)
	}
	buf = append(buf, '\n')
	s.mu.Lock()
	_, _ = s.w.Write(buf)
	s.mu.Unlock()
}

// report holds the fields of a REPORT line.
type report struct {
	requestID string
	duration  time.Duration
	init      time.Duration // > 0 only on a cold start
	memoryMB  int
	maxUsedMB int
	status    string // "", "timeout" or "error"
	errorType string // with status "error"

	functionError string // the function's own error type; not part of the line
}

// line formats r the way Lambda does: tab-separated fields, each followed by
// a tab; Duration in ms with two decimals; Billed Duration rounded up to the
// ms and, for provided.* runtimes, including the init duration; Init
// Duration after Max Memory Used; Status last.
func (r report) line() string {
	b := make([]byte, 0, 192)
	b = append(b, "REPORT RequestId: "...)
	b = append(b, r.requestID...)
	b = append(b, "\tDuration: "...)
	b = appendMillis(b, r.duration)
	b = append(b, " ms\tBilled Duration: "...)
	billed := int64(math.Ceil(float64(r.duration+r.init) / float64(time.Millisecond)))
	b = strconv.AppendInt(b, max(billed, 1), 10)
	b = append(b, " ms\tMemory Size: "...)
	b = strconv.AppendInt(b, int64(r.memoryMB), 10)
	b = append(b, " MB\tMax Memory Used: "...)
	b = strconv.AppendInt(b, int64(r.maxUsedMB), 10)
	b = append(b, " MB\t"...)
	if r.init > 0 {
		b = append(b, "Init Duration: "...)
		b = appendMillis(b, r.init)
		b = append(b, " ms\t"...)
	}
	if r.status != "" {
		b = append(b, "Status: "...)
		b = append(b, r.status...)
		b = append(b, '\t')
		if r.errorType != "" {
			b = append(b, "Error Type: "...)
			b = append(b, r.errorType...)
			b = append(b, '\t')
		}
	}
	return string(b)
}

// appendMillis appends d in milliseconds with two decimals.
func appendMillis(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// seconds formats d in seconds with two decimals, as in "Task timed out
// after 3.00 seconds".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64)
}
