package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/lambda"
)

func TestWarmEnvironmentIsReused(t *testing.T) {
	t.Parallel()
	rt, _ := newRuntime(t, lambda.Options{}, fn("counter"))
	var first pidResult
	for i := 1; i <= 3; i++ {
		var got pidResult
		ok(t, call(t, rt, "counter", `{}`), &got)
		if i == 1 {
			first = got
		}
		if got.Count != i || got.PID != first.PID {
			t.Fatalf("invocation %d = %+v, want count %d in pid %d", i, got, i, first.PID)
		}
	}
	s := rt.Stats()["counter"]
	if s.ColdStarts != 1 || s.Invocations != 3 || s.Environments != 1 {
		t.Errorf("stats = %+v, want 1 cold start, 3 invocations, 1 environment", s)
	}
}

// TestConcurrencyGrowsToLimit holds invocations busy with a gate file: the
// pool grows to MaxConcurrency, queues the rest, and never exceeds it.
func TestConcurrencyGrowsToLimit(t *testing.T) {
	t.Parallel()
	f := fn("sleep")
	f.MaxConcurrency = 3
	f.Timeout = 60 * time.Second
	rt, _ := newRuntime(t, lambda.Options{}, f)
	gate := filepath.Join(t.TempDir(), "gate")
	payload := `{"ms":60000,"until":"` + gate + `"}`

	const n = 5
	pids := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var got pidResult
			ok(t, call(t, rt, "sleep", payload), &got)
			pids <- got.PID
		})
	}
	eventually(t, "3 busy environments and 2 waiting requests", func() bool {
		s := rt.Stats()["sleep"]
		return s.Busy == 3 && s.Waiting == 2
	})
	if s := rt.Stats()["sleep"]; s.Environments != 3 {
		t.Fatalf("environments = %d, want 3", s.Environments)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(pids)
	distinct := map[int]bool{}
	for pid := range pids {
		distinct[pid] = true
	}
	if len(distinct) != 3 {
		t.Errorf("invocations ran in %d processes, want 3", len(distinct))
	}
	if s := rt.Stats()["sleep"]; s.ColdStarts != 3 || s.Invocations != n {
		t.Errorf("stats = %+v, want 3 cold starts and %d invocations", s, n)
	}
}

// TestQueueThrottlesWhenContextEnds: at the limit a request waits for an
// environment and fails with ErrThrottled when its context ends first.
func TestQueueThrottlesWhenContextEnds(t *testing.T) {
	t.Parallel()
	f := fn("sleep")
	f.MaxConcurrency = 1
	f.Timeout = 60 * time.Second
	rt, _ := newRuntime(t, lambda.Options{}, f)
	gate := filepath.Join(t.TempDir(), "gate")

	done := make(chan *invoke.Result, 1)
	go func() {
		res, _ := rt.Invoke(context.Background(), invoke.Request{
			Function: "sleep", Payload: []byte(`{"ms":60000,"until":"` + gate + `"}`)})
		done <- res
	}()
	eventually(t, "busy environment", func() bool { return rt.Stats()["sleep"].Busy == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := rt.Invoke(ctx, invoke.Request{Function: "sleep", Payload: []byte(`{}`)})
	if !errors.Is(err, invoke.ErrThrottled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke at the limit = %v, want ErrThrottled wrapping DeadlineExceeded", err)
	}

	// A request with time to spare waits in the queue and is served.
	queued := make(chan *invoke.Result, 1)
	go func() { queued <- call(t, rt, "sleep", `{}`) }()
	eventually(t, "queued request", func() bool { return rt.Stats()["sleep"].Waiting == 1 })
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var first, second pidResult
	ok(t, <-done, &first)
	ok(t, <-queued, &second)
	if first.PID != second.PID {
		t.Errorf("queued request ran in pid %d, want the freed environment %d", second.PID, first.PID)
	}
	if s := rt.Stats()["sleep"]; s.Throttles != 1 || s.Environments != 1 {
		t.Errorf("stats = %+v, want 1 throttle and 1 environment", s)
	}
}

func TestIdleEnvironmentIsRetired(t *testing.T) {
	t.Parallel()
	rt, _ := newRuntime(t, lambda.Options{IdleTimeout: 100 * time.Millisecond}, fn("counter"))
	var first pidResult
	ok(t, call(t, rt, "counter", `{}`), &first)
	eventually(t, "idle environment retired", func() bool { return rt.Stats()["counter"].Environments == 0 })
	if processAlive(first.PID) {
		t.Errorf("process %d still alive after its environment was retired", first.PID)
	}
	var second pidResult
	ok(t, call(t, rt, "counter", `{}`), &second)
	if second.Count != 1 || second.PID == first.PID {
		t.Errorf("after retirement got %+v, want a new process (count 1)", second)
	}
	if s := rt.Stats()["counter"]; s.ColdStarts != 2 {
		t.Errorf("cold starts = %d, want 2", s.ColdStarts)
	}
}

func TestTimeoutKillsTheProcess(t *testing.T) {
	t.Parallel()
	f := fn("sleep")
	f.Timeout = time.Second
	rt, logs := newRuntime(t, lambda.Options{}, f)
	var before pidResult
	ok(t, call(t, rt, "sleep", `{"ms":0}`), &before)

	res := call(t, rt, "sleep", `{"ms":30000}`)
	if res.Error == nil || res.Error.Type != "Sandbox.Timedout" {
		t.Fatalf("result = %+v %s, want Sandbox.Timedout", res.Error, res.Payload)
	}
	want := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` +
		regexp.QuoteMeta(res.RequestID) + ` Task timed out after 1\.00 seconds$`)
	if !want.MatchString(res.Error.Message) {
		t.Errorf("message = %q, want %v", res.Error.Message, want)
	}
	assertErrorPayload(t, res)
	logs.waitFor(t, "REPORT RequestId: "+res.RequestID)
	report := findLine(t, logs, "REPORT RequestId: "+res.RequestID)
	if !strings.Contains(report, "\tStatus: timeout\t") {
		t.Errorf("REPORT = %q, want Status: timeout", report)
	}
	eventually(t, "killed process gone", func() bool { return !processAlive(before.PID) })

	var after pidResult
	res = call(t, rt, "sleep", `{"ms":0}`)
	ok(t, res, &after)
	if after.PID == before.PID {
		t.Errorf("invocation after a timeout ran in the killed process %d", after.PID)
	}
	logs.waitFor(t, "REPORT RequestId: "+res.RequestID)
	if r := findLine(t, logs, "REPORT RequestId: "+res.RequestID); !strings.Contains(r, "Init Duration: ") {
		t.Errorf("REPORT after timeout = %q, want a cold start with Init Duration", r)
	}
	if s := rt.Stats()["sleep"]; s.Timeouts != 1 || s.ColdStarts != 2 {
		t.Errorf("stats = %+v, want 1 timeout and 2 cold starts", s)
	}
}

func TestPanicReportsErrorThenRestarts(t *testing.T) {
	t.Parallel()
	rt, logs := newRuntime(t, lambda.Options{}, fn("panic"))
	var before pidResult
	ok(t, call(t, rt, "panic", `{"panic":false}`), &before)

	res := call(t, rt, "panic", `{"panic":true}`)
	if res.Error == nil || res.Error.Type != "string" || res.Error.Message != "kaboom" {
		t.Fatalf("panic result = %+v, want type string, message kaboom", res.Error)
	}
	var doc struct {
		StackTrace []json.RawMessage `json:"stackTrace"`
	}
	if err := json.Unmarshal(res.Payload, &doc); err != nil || len(doc.StackTrace) == 0 {
		t.Errorf("panic payload %s: want the posted error with a stackTrace (%v)", res.Payload, err)
	}
	logs.waitFor(t, "REPORT RequestId: "+res.RequestID)

	var after pidResult
	ok(t, call(t, rt, "panic", `{"panic":false}`), &after)
	if after.PID == before.PID {
		t.Errorf("invocation after a panic ran in the old process %d", after.PID)
	}
	if s := rt.Stats()["panic"]; s.ColdStarts != 2 || s.Errors != 1 {
		t.Errorf("stats = %+v, want 2 cold starts and 1 error", s)
	}
}

func TestExitDuringInit(t *testing.T) {
	t.Parallel()
	rt, logs := newRuntime(t, lambda.Options{}, fn("exitinit"))
	res := call(t, rt, "exitinit", `{}`)
	want := "RequestId: " + res.RequestID + " Error: Runtime exited with error: exit status 1"
	if res.Error == nil || res.Error.Type != "Runtime.ExitError" || res.Error.Message != want || !res.Error.Init {
		t.Fatalf("result error = %+v, want Runtime.ExitError %q during init", res.Error, want)
	}
	assertErrorPayload(t, res)
	logs.waitFor(t, "exitinit | cannot load configuration")
	logs.waitFor(t, "REPORT RequestId: "+res.RequestID)
	if !strings.Contains(logs.String(), "INIT_REPORT Init Duration: ") {
		t.Errorf("logs lack INIT_REPORT:\n%s", logs)
	}
	eventually(t, "environment discarded", func() bool { return rt.Stats()["exitinit"].Environments == 0 })
}

func TestExitDuringInvocation(t *testing.T) {
	t.Parallel()
	rt, logs := newRuntime(t, lambda.Options{}, fn("exitmid"))
	res := call(t, rt, "exitmid", `{}`)
	want := "RequestId: " + res.RequestID + " Error: Runtime exited with error: exit status 3"
	if res.Error == nil || res.Error.Type != "Runtime.ExitError" || res.Error.Message != want || res.Error.Init {
		t.Fatalf("result error = %+v, want Runtime.ExitError %q after init", res.Error, want)
	}
	logs.waitFor(t, "REPORT RequestId: "+res.RequestID)
	if r := findLine(t, logs, "REPORT RequestId: "+res.RequestID); !strings.HasSuffix(r, "\tStatus: error\tError Type: Runtime.ExitError\t") {
		t.Errorf("REPORT = %q, want Status: error, Error Type: Runtime.ExitError", r)
	}
}

func TestInitTimeout(t *testing.T) {
	t.Parallel()
	f := fn("sleep")
	f.Env = map[string]string{"INIT_SLEEP_MS": "30000"}
	rt, _ := newRuntime(t, lambda.Options{InitTimeout: 300 * time.Millisecond}, f)
	res := call(t, rt, "sleep", `{}`)
	if res.Error == nil || res.Error.Type != "Sandbox.Timedout" || !strings.Contains(res.Error.Message, "Init timed out after 0.30 seconds") {
		t.Fatalf("result error = %+v, want Sandbox.Timedout for init", res.Error)
	}
}

func TestFunctionErrors(t *testing.T) {
	t.Parallel()
	rt, _ := newRuntime(t, lambda.Options{}, fn("error"), fn("wrappederror"), fn("streamerror"))
	for _, tc := range []struct{ fn, typ, msg string }{
		{"error", "errorString", "boom"},
		{"wrappederror", "wrapError", "outer: inner"},
		{"streamerror", "errorString", "stream broke"}, // reported in trailers
	} {
		for range 2 {
			res := call(t, rt, tc.fn, `{}`)
			if res.Error == nil || res.Error.Type != tc.typ || res.Error.Message != tc.msg {
				t.Errorf("%s: error = %+v, want %s %q", tc.fn, res.Error, tc.typ, tc.msg)
				continue
			}
			var doc map[string]any
			if err := json.Unmarshal(res.Payload, &doc); err != nil || doc["errorType"] != tc.typ || doc["errorMessage"] != tc.msg {
				t.Errorf("%s: payload %s, want the posted error document", tc.fn, res.Payload)
			}
		}
		// A handled error keeps the environment.
		if s := rt.Stats()[tc.fn]; s.ColdStarts != 1 || s.Errors != 2 {
			t.Errorf("%s: stats = %+v, want 1 cold start and 2 errors", tc.fn, s)
		}
	}
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	f := fn("bigresponse")
	f.Timeout = 30 * time.Second // building 7 MB may be slow on a loaded machine
	rt, _ := newRuntime(t, lambda.Options{}, f)
	res := call(t, rt, "bigresponse", `{}`)
	if res.Error == nil || res.Error.Type != "Function.ResponseSizeTooLarge" {
		t.Fatalf("result = %+v, want Function.ResponseSizeTooLarge", res.Error)
	}
	assertErrorPayload(t, res)
	// aws-lambda-go exits after the 413; the next invocation gets a new process.
	res = call(t, rt, "bigresponse", `{"bytes":1048576}`)
	ok(t, res, nil)
	if len(res.Payload) != 1<<20+2 {
		t.Errorf("payload is %d bytes, want a 1 MiB JSON string", len(res.Payload))
	}
}

func TestRequestTooLarge(t *testing.T) {
	t.Parallel()
	rt, _ := newRuntime(t, lambda.Options{}, fn("echo"))
	big := make([]byte, invoke.MaxPayloadBytes+1)
	_, err := rt.Invoke(context.Background(), invoke.Request{Function: "echo", Payload: big})
	if !errors.Is(err, invoke.ErrRequestTooLarge) {
		t.Fatalf("Invoke = %v, want ErrRequestTooLarge", err)
	}
	if s := rt.Stats()["echo"]; s.Environments != 0 || s.Invocations != 0 {
		t.Errorf("stats = %+v, want nothing started", s)
	}
}

func TestUnknownFunction(t *testing.T) {
	t.Parallel()
	rt, _ := newRuntime(t, lambda.Options{}, fn("echo"))
	_, err := rt.Invoke(context.Background(), invoke.Request{Function: "nope", Payload: []byte(`{}`)})
	if !errors.Is(err, invoke.ErrUnknownFunction) {
		t.Fatalf("Invoke = %v, want ErrUnknownFunction", err)
	}
}

func TestMissingBootstrap(t *testing.T) {
	t.Parallel()
	rt, _ := newRuntime(t, lambda.Options{}, lambda.Function{Name: "ghost", Bootstrap: filepath.Join(t.TempDir(), "bootstrap")})
	res := call(t, rt, "ghost", `{}`)
	if res.Error == nil || res.Error.Type != "Runtime.InvalidEntrypoint" {
		t.Fatalf("result = %+v, want Runtime.InvalidEntrypoint", res.Error)
	}
	if s := rt.Stats()["ghost"]; s.Environments != 0 {
		t.Errorf("environments = %d, want 0", s.Environments)
	}
}

func TestLogLines(t *testing.T) {
	t.Parallel()
	rt, logs := newRuntime(t, lambda.Options{}, fn("printer"))
	first := call(t, rt, "printer", `{}`)
	ok(t, first, nil)
	logs.waitFor(t, "REPORT RequestId: "+first.RequestID)
	second := call(t, rt, "printer", `{}`)
	ok(t, second, nil)
	logs.waitFor(t, "REPORT RequestId: "+second.RequestID)

	report := regexp.MustCompile(`^printer \| REPORT RequestId: ([0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: (\d+) ms\t` +
		`Memory Size: 128 MB\tMax Memory Used: [1-9]\d* MB\t(Init Duration: \d+\.\d\d ms\t)?$`)
	var got []string
	for _, l := range logs.lines() {
		if !strings.HasPrefix(l, "printer | ") {
			t.Errorf("line without the function prefix: %q", l)
		}
		if m := report.FindStringSubmatch(l); m != nil {
			cold := m[3] != ""
			if cold != (m[1] == first.RequestID) {
				t.Errorf("REPORT %q: Init Duration present = %v, want it only on the cold start", l, cold)
			}
			l = "printer | REPORT " + m[1]
		}
		got = append(got, l)
	}
	want := []string{
		"printer | init on stdout",
		"printer | START RequestId: " + first.RequestID + " Version: $LATEST",
		"printer | hello from stdout",
		"printer | hello from stderr",
		"printer | two",
		"printer | lines",
		"printer | END RequestId: " + first.RequestID,
		"printer | REPORT " + first.RequestID,
		"printer | START RequestId: " + second.RequestID + " Version: $LATEST",
		"printer | hello from stdout",
		"printer | hello from stderr",
		"printer | two",
		"printer | lines",
		"printer | END RequestId: " + second.RequestID,
		"printer | REPORT " + second.RequestID,
	}
	// stdout and stderr share one pipe, so their order is kept.
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEnvironment checks the variables and invocation context a function
// sees. Not parallel: it sets host environment variables.
func TestEnvironment(t *testing.T) {
	t.Setenv("_LAMBDA_SERVER_PORT", "9999")
	t.Setenv("AWS_LAMBDA_MAX_CONCURRENCY", "4")
	t.Setenv("QUESTLOG_HOST_ONLY", "leak")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAHOST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	f := fn("echo")
	f.Name = "ExtractFunction"
	f.MemoryMB = 256
	f.Timeout = 7 * time.Second
	f.Handler = "bootstrap"
	f.LogFormat, f.LogLevel = "JSON", "DEBUG"
	f.Env = map[string]string{"TABLE_NAME": "quests", "TZ": "Europe/Paris"}
	rt, _ := newRuntime(t, lambda.Options{Region: "eu-west-3"}, f)

	clientContext := `{"Client":{"installation_id":"i-1"},"env":{"platform":"test"},"custom":{"k":"v"}}`
	trace := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	start := time.Now()
	res, err := rt.Invoke(context.Background(), invoke.Request{
		Function:      "ExtractFunction",
		Payload:       []byte(`{"describe":true}`),
		ClientContext: []byte(clientContext),
		TraceID:       trace,
	})
	end := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		RequestID     string `json:"requestId"`
		FunctionARN   string `json:"functionArn"`
		DeadlineMs    int64  `json:"deadlineMs"`
		FunctionName  string `json:"functionName"`
		MemoryMB      int    `json:"memoryMB"`
		Version       string `json:"version"`
		LogGroup      string `json:"logGroup"`
		LogStream     string `json:"logStream"`
		ClientContext struct {
			Client struct {
				InstallationID string `json:"installation_id"`
			}
			Custom map[string]string `json:"custom"`
		} `json:"clientContext"`
		TraceID  string            `json:"traceId"`
		TraceEnv string            `json:"traceEnv"`
		Cwd      string            `json:"cwd"`
		Env      map[string]string `json:"env"`
	}
	ok(t, res, &d)

	if d.RequestID != res.RequestID || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(d.RequestID) {
		t.Errorf("request id = %q (result %q), want the same UUID v4", d.RequestID, res.RequestID)
	}
	if want := "arn:aws:lambda:eu-west-3:123456789012:function:ExtractFunction"; d.FunctionARN != want {
		t.Errorf("function ARN = %q, want %q", d.FunctionARN, want)
	}
	if lo, hi := start.Add(7*time.Second).UnixMilli()-1, end.Add(7*time.Second).UnixMilli()+1; d.DeadlineMs < lo || d.DeadlineMs > hi {
		t.Errorf("deadline = %d, want hand-off + 7s in [%d, %d]", d.DeadlineMs, lo, hi)
	}
	if d.FunctionName != "ExtractFunction" || d.MemoryMB != 256 || d.Version != "$LATEST" ||
		d.LogGroup != "/aws/lambda/ExtractFunction" {
		t.Errorf("lambdacontext = %+v", d)
	}
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(d.LogStream) {
		t.Errorf("log stream = %q", d.LogStream)
	}
	if d.ClientContext.Client.InstallationID != "i-1" || d.ClientContext.Custom["k"] != "v" {
		t.Errorf("client context = %+v, want the decoded JSON", d.ClientContext)
	}
	if d.TraceID != trace || d.TraceEnv != trace {
		t.Errorf("trace id = %q, _X_AMZN_TRACE_ID = %q, want %q", d.TraceID, d.TraceEnv, trace)
	}
	dir := filepath.Dir(fixture("echo"))
	if d.Cwd != dir {
		t.Errorf("working directory = %q, want %q", d.Cwd, dir)
	}

	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "ExtractFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/ExtractFunction",
		"AWS_LAMBDA_LOG_STREAM_NAME":      d.LogStream,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "DEBUG",
		"_HANDLER":                        "bootstrap",
		"AWS_REGION":                      "eu-west-3",
		"AWS_DEFAULT_REGION":              "eu-west-3",
		"LAMBDA_TASK_ROOT":                dir,
		"LAMBDA_RUNTIME_DIR":              dir,
		"TZ":                              "Europe/Paris", // the function's value wins over :UTC
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"AWS_ACCESS_KEY_ID":               "AKIAHOST",
		"AWS_SECRET_ACCESS_KEY":           "host-secret",
		"TABLE_NAME":                      "quests",
	}
	for k, v := range want {
		if got, found := d.Env[k]; !found || got != v {
			t.Errorf("env %s = %q (set %v), want %q", k, got, found, v)
		}
	}
	if api := d.Env["AWS_LAMBDA_RUNTIME_API"]; !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(api) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q, want 127.0.0.1:<port>", api)
	}
	for _, k := range []string{"_LAMBDA_SERVER_PORT", "AWS_LAMBDA_MAX_CONCURRENCY", "QUESTLOG_HOST_ONLY",
		"AWS_EXECUTION_ENV", "AWS_SESSION_TOKEN", "HOME"} {
		if v, found := d.Env[k]; found {
			t.Errorf("env %s = %q, want it unset", k, v)
		}
	}
	// Platform variables plus _X_AMZN_TRACE_ID, which aws-lambda-go sets itself.
	if extra := len(d.Env) - len(want) - 1 - 1; extra != 0 {
		t.Errorf("function sees %d unexpected variables: %v", extra, d.Env)
	}
}

// TestDummyCredentials: without host credentials a function gets dummies,
// and the defaults apply. Not parallel: it sets host environment variables.
func TestDummyCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	rt, _ := newRuntime(t, lambda.Options{}, fn("echo"))
	var d struct {
		Env      map[string]string `json:"env"`
		TraceEnv string            `json:"traceEnv"`
	}
	ok(t, call(t, rt, "echo", `{"describe":true}`), &d)
	// Without a trace header from the caller, Lambda still passes one.
	if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(d.TraceEnv) {
		t.Errorf("_X_AMZN_TRACE_ID = %q, want a generated unsampled trace header", d.TraceEnv)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if d.Env[k] == "" {
			t.Errorf("env %s is empty, want a dummy value", k)
		}
	}
	if d.Env["AWS_REGION"] != "us-east-1" || d.Env["TZ"] != ":UTC" {
		t.Errorf("AWS_REGION = %q, TZ = %q, want us-east-1 and :UTC", d.Env["AWS_REGION"], d.Env["TZ"])
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fns  []lambda.Function
	}{
		{"no name", []lambda.Function{{Bootstrap: "/x/bootstrap"}}},
		{"no bootstrap", []lambda.Function{{Name: "f"}}},
		{"duplicate", []lambda.Function{{Name: "f", Bootstrap: "/x"}, {Name: "f", Bootstrap: "/y"}}},
		{"reserved variable", []lambda.Function{{Name: "f", Bootstrap: "/x", Env: map[string]string{"AWS_REGION": "x"}}}},
		{"rpc port", []lambda.Function{{Name: "f", Bootstrap: "/x", Env: map[string]string{"_LAMBDA_SERVER_PORT": "1"}}}},
		{"bad name", []lambda.Function{{Name: "f", Bootstrap: "/x", Env: map[string]string{"1X": "1"}}}},
	} {
		if _, err := lambda.New(tc.fns, lambda.Options{}); err == nil {
			t.Errorf("%s: New succeeded, want an error", tc.name)
		}
	}
}

// TestCloseDrainsInFlight: Close waits for a running invocation, refuses new
// ones, and leaves no process behind.
func TestCloseDrainsInFlight(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	rt, err := lambda.New([]lambda.Function{fn("sleep"), fn("counter")}, lambda.Options{LogOutput: logs, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var idle pidResult
	ok(t, call(t, rt, "counter", `{}`), &idle)

	running := make(chan *invoke.Result, 1)
	go func() { running <- call(t, rt, "sleep", `{"ms":500}`) }()
	eventually(t, "busy environment", func() bool { return rt.Stats()["sleep"].Busy == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		t.Fatalf("Close = %v", err)
	}
	var slept pidResult
	select {
	case res := <-running:
		ok(t, res, &slept)
	default:
		t.Fatal("Close returned before the in-flight invocation")
	}
	if _, err := rt.Invoke(context.Background(), invoke.Request{Function: "counter", Payload: []byte(`{}`)}); !errors.Is(err, lambda.ErrClosed) {
		t.Errorf("Invoke after Close = %v, want ErrClosed", err)
	}
	for _, pid := range []int{idle.PID, slept.PID} {
		if processAlive(pid) {
			t.Errorf("process %d alive after Close", pid)
		}
	}
}

// TestCloseRightAfterInvokeReportsSuccess: a one-shot invoke closes the
// runtime as soon as the function answered, before the runtime polled
// again. The invocation succeeded, so its REPORT says so: no "Status:
// error" (it used to say Runtime.ExitError, from the shutdown kill).
func TestCloseRightAfterInvokeReportsSuccess(t *testing.T) {
	t.Parallel()
	for range 5 { // the race it guards against is lost in microseconds
		logs := &logBuffer{}
		rt, err := lambda.New([]lambda.Function{fn("echo")}, lambda.Options{LogOutput: logs, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		res := call(t, rt, "echo", `{"hello":1}`)
		ok(t, res, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = rt.Close(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Close = %v", err)
		}
		report := findLine(t, logs, "REPORT RequestId: "+res.RequestID)
		if strings.Contains(report, "Status:") || strings.Contains(report, "Error Type") {
			t.Fatalf("REPORT of a successful invocation = %q, want no status", report)
		}
	}
}

// TestCloseKillsWhenContextEnds: an invocation that outlives Close's context
// is killed and fails; Close reports the context error.
func TestCloseKillsWhenContextEnds(t *testing.T) {
	t.Parallel()
	f := fn("sleep")
	f.Timeout = time.Minute
	rt, err := lambda.New([]lambda.Function{f}, lambda.Options{Logger: discardLogger(), LogOutput: &logBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	running := make(chan *invoke.Result, 1)
	go func() { running <- call(t, rt, "sleep", `{"ms":60000}`) }()
	eventually(t, "busy environment", func() bool { return rt.Stats()["sleep"].Busy == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := rt.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want DeadlineExceeded", err)
	}
	res := <-running
	if res.Error == nil || res.Error.Type != "Runtime.ExitError" {
		t.Errorf("killed invocation = %+v, want Runtime.ExitError", res.Error)
	}
}

// TestNoLeaks: after Close, the goroutines of the runtime are gone. Not
// parallel, so other tests' goroutines do not interfere.
func TestNoLeaks(t *testing.T) {
	before := goroutines()
	rt, err := lambda.New([]lambda.Function{fn("echo"), fn("panic")}, lambda.Options{Logger: discardLogger(), LogOutput: &logBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ok(t, call(t, rt, "echo", `{}`), nil)
	}
	call(t, rt, "panic", `{"panic":true}`)
	ok(t, call(t, rt, "panic", `{}`), nil)
	if err := rt.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "goroutines to end", func() bool { return goroutines() <= before })
}

// TestProcessesDieWithEmulator: function processes die with the emulator
// even when it is SIGKILLed and cannot clean up (Pdeathsig).
func TestProcessesDieWithEmulator(t *testing.T) {
	t.Parallel()
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+fixtureDir)
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var got pidResult
	if err := json.NewDecoder(out).Decode(&got); err != nil {
		_ = helper.Process.Kill()
		t.Fatalf("helper output: %v", err)
	}
	if !processAlive(got.PID) {
		t.Fatalf("function process %d not running", got.PID)
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()
	eventually(t, "function process to die", func() bool { return !processAlive(got.PID) })
}

// assertErrorPayload checks that a platform failure's payload is the error
// document.
func assertErrorPayload(t *testing.T, res *invoke.Result) {
	t.Helper()
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if err := json.Unmarshal(res.Payload, &doc); err != nil || doc.Type != res.Error.Type || doc.Message != res.Error.Message {
		t.Errorf("payload %s, want {errorMessage: %q, errorType: %q}", res.Payload, res.Error.Message, res.Error.Type)
	}
}

// findLine returns the first log line containing s.
func findLine(t *testing.T, logs *logBuffer, s string) string {
	t.Helper()
	for _, l := range logs.lines() {
		if strings.Contains(l, s) {
			return l
		}
	}
	t.Fatalf("no log line contains %q", s)
	return ""
}

// processAlive reports whether pid is running. A zombie counts as dead: an
// orphan is reaped by init, which a container may not run.
func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
