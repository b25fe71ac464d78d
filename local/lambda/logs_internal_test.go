package lambda

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReportLine(t *testing.T) {
	for _, tc := range []struct {
		r    report
		want string
	}{
		{ // the example in the AWS documentation: billed includes init
			report{requestID: "id", duration: 15740 * time.Microsecond, init: 130490 * time.Microsecond, memoryMB: 128, maxUsedMB: 56},
			"REPORT RequestId: id\tDuration: 15.74 ms\tBilled Duration: 147 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t",
		},
		{
			report{requestID: "id", duration: 1001 * time.Microsecond, memoryMB: 256, maxUsedMB: 20},
			"REPORT RequestId: id\tDuration: 1.00 ms\tBilled Duration: 2 ms\tMemory Size: 256 MB\tMax Memory Used: 20 MB\t",
		},
		{
			report{requestID: "id", duration: 3 * time.Second, memoryMB: 128, maxUsedMB: 9, status: "timeout"},
			"REPORT RequestId: id\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\tStatus: timeout\t",
		},
		{
			report{requestID: "id", duration: 40 * time.Microsecond, memoryMB: 128, maxUsedMB: 9, status: "error", errorType: "Runtime.ExitError"},
			"REPORT RequestId: id\tDuration: 0.04 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\tStatus: error\tError Type: Runtime.ExitError\t",
		},
	} {
		if got := tc.r.line(); got != tc.want {
			t.Errorf("line() =\n%q\nwant\n%q", got, tc.want)
		}
	}
}

func TestTraceIDs(t *testing.T) {
	trace := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)
	if got := traceID(""); !trace.MatchString(got) {
		t.Errorf("generated trace id %q", got)
	}
	if got := traceID("Root=given"); got != "Root=given" {
		t.Errorf("traceID kept %q, want the caller's", got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOutputCopier(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	o, err := newOutputCopier(pr, &logSink{w: &out}, "fn | ")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); o.run() }()

	long := strings.Repeat("x", maxLogLine+10)
	_, _ = pw.WriteString("one\ntwo\r\nthree")
	_, _ = pw.WriteString(" continued\n\n" + long + "\nlast without newline")
	// settle returns once complete lines written so far are copied.
	o.settle()
	if !strings.Contains(out.String(), "fn | three continued\n") {
		t.Errorf("after settle: %q", out.String())
	}
	_ = pw.Close()
	<-done
	want := "fn | one\nfn | two\nfn | three continued\nfn | \n" +
		"fn | " + long[:maxLogLine] + "\nfn | " + long[maxLogLine:] + "\nfn | last without newline\n"
	if got := out.String(); got != want {
		t.Errorf("output (%d bytes) differs from want (%d bytes)", len(got), len(want))
	}
}
