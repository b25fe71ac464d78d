package lambda_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/questlog/questlog/local/lambda"
)

// The console's view of a function: recent invocations with their status,
// each one's log lines from START to REPORT, the log tail, percentiles and
// peak memory.
func TestRecentInvocationsAndTheirLogs(t *testing.T) {
	t.Parallel()
	rt, logs := newRuntime(t, lambda.Options{}, fn("printer"), fn("error"))
	var ids []string
	for range 3 {
		res := call(t, rt, "printer", `{}`)
		ok(t, res, nil)
		ids = append(ids, res.RequestID)
	}
	failed := call(t, rt, "error", `{}`)
	for _, id := range append(ids, failed.RequestID) {
		logs.waitFor(t, "REPORT RequestId: "+id)
	}

	invs := rt.Invocations("printer")
	if len(invs) != 3 || invs[0].RequestID != ids[2] || invs[2].RequestID != ids[0] {
		t.Fatalf("Invocations = %+v, want the 3 calls newest first", invs)
	}
	if invs[2].InitDuration <= 0 || invs[0].InitDuration != 0 || invs[0].Status != "" || invs[0].MaxMemoryMB <= 0 {
		t.Errorf("invocations %+v: want a cold start first, then warm successes with memory", invs)
	}
	if e := rt.Invocations("error"); len(e) != 1 || e[0].Status != "error" || e[0].ErrorType != "errorString" {
		t.Errorf("the failing function's invocations = %+v, want one with error errorString", e)
	}

	inv, lines, found := rt.InvocationLogs("printer", ids[1])
	if !found || inv.RequestID != ids[1] {
		t.Fatalf("InvocationLogs(%s) found=%v %+v", ids[1], found, inv)
	}
	var texts []string
	for _, l := range lines {
		texts = append(texts, l.Text)
	}
	want := []string{"START RequestId: " + ids[1] + " Version: $LATEST", "hello from stdout", "hello from stderr", "two", "lines", "END RequestId: " + ids[1]}
	if len(texts) != len(want)+1 || strings.Join(texts[:len(want)], "\n") != strings.Join(want, "\n") ||
		!strings.HasPrefix(texts[len(want)], "REPORT RequestId: "+ids[1]) {
		t.Errorf("logs of %s:\n%s\nwant:\n%s\nREPORT …", ids[1], strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if _, _, found := rt.InvocationLogs("printer", "no-such-request"); found {
		t.Error("an unknown request id was found")
	}

	tail := rt.Logs("printer", 2)
	if len(tail) != 2 || !strings.HasPrefix(tail[1].Text, "REPORT RequestId: "+ids[2]) || !strings.HasPrefix(tail[0].Text, "END RequestId: "+ids[2]) {
		t.Errorf("Logs(printer, 2) = %+v, want the last END and REPORT", tail)
	}
	m := rt.Metrics("printer")
	if m.Samples != 3 || m.P50 <= 0 || m.P99 < m.P50 || m.MaxMemoryMB <= 0 {
		t.Errorf("Metrics = %+v", m)
	}
}

// The rings keep memory bounded: after many invocations only the newest
// are listed, and the log tail holds a fixed number of lines.
func TestMetricsRingsAreBounded(t *testing.T) {
	t.Parallel()
	rt, logs := newRuntime(t, lambda.Options{}, fn("echo"))
	var last string
	for i := range 200 {
		res := call(t, rt, "echo", fmt.Sprintf(`{"i":%d}`, i))
		ok(t, res, nil)
		last = res.RequestID
	}
	logs.waitFor(t, "REPORT RequestId: "+last)
	if invs := rt.Invocations("echo"); len(invs) != 50 || invs[0].RequestID != last {
		t.Errorf("%d invocations listed, newest %s; want 50, newest %s", len(invs), invs[0].RequestID, last)
	}
	if n := len(rt.Logs("echo", 0)); n != 500 { // of 600: START, END, REPORT per call
		t.Errorf("log tail holds %d lines, want 500", n)
	}
	if m := rt.Metrics("echo"); m.Samples != 200 {
		t.Errorf("percentiles over %d samples, want 200", m.Samples)
	}
}
