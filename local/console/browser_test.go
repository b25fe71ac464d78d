package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/questlog/questlog/internal/testenv"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/loadgen"
)

// browser starts Debian's headless Chromium for the test and collects
// what the pages write to the browser console. Without Chromium the test
// is skipped when run by hand, and fails in CI.
type browser struct {
	ctx      context.Context
	t        testing.TB
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

func newBrowser(t testing.TB) *browser {
	t.Helper()
	path := testenv.Need(t, "chromium", "apt-get install chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("headless", "new"), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1600, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx, t: t}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs steps, failing the test with what.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// waitJS waits until the JavaScript expression is truthy.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		b.t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

// screenshot saves the whole page as PNG into the artifacts directory.
func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	// From the top, so that sticky elements sit where a reader sees them.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)")); err != nil {
		b.t.Fatalf("scroll up: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// table returns the text of a table's body cells, row by row.
func (b *browser) table(sel string) [][]string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		"[...document.querySelectorAll("+strconv.Quote(sel+" tbody tr")+")].map(tr => [...tr.cells].map(td => td.textContent.trim()))"))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return rows
}

// attr returns an element's property (an absolute URL for href).
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js(sel)+"."+name))
	if err != nil {
		b.t.Fatalf("read %s.%s: %v", sel, name, err)
	}
	return v
}

func js(sel string) string { return "document.querySelector(" + strconv.Quote(sel) + ")" }

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}

// errors returns the console errors and uncaught exceptions so far.
func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.messages {
		if m.IsException() || m.Type == "error" {
			out = append(out, m.String())
		}
	}
	return out
}

// artifacts is where the screenshots go: $QUESTLOG_ARTIFACTS, or a
// directory under the test's temporary directory.
func artifacts(t *testing.T) string {
	dir := os.Getenv("QUESTLOG_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

func startEmulator(t testing.TB) *emulator.Emulator {
	t.Helper()
	projectDir, _ := filepath.Abs("../..")
	logs := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logs = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := emulator.Config{
		ProjectDir: projectDir, DataDir: t.TempDir(),
		APIAddr: "127.0.0.1:0", LambdaAddr: "127.0.0.1:0", KafkaAddr: "127.0.0.1:0", HDFSAddr: "127.0.0.1:0", ConsoleAddr: "127.0.0.1:0",
		Logger: logs, FunctionLogs: io.Discard,
		LookupEnv: func(string) (string, bool) { return "", false },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e, err := emulator.Start(ctx, cfg, emulator.Serve{API: true, Lambda: true, Mappings: true, Console: true}, true)
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e.Close(ctx)
	})
	return e
}

func number(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// The console in a real browser, against the whole emulator under load:
// the pipeline's counters grow while loadgen runs and end at loadgen's
// counts; one request's event is followed from its route to its row on
// the Datasets page; a function's invocation logs open; the Topics page
// finds records by key; and the browser console stays free of errors.
func TestConsoleInABrowser(t *testing.T) {
	b := newBrowser(t)
	e := startEmulator(t)
	shots := artifacts(t)

	b.do("open the console", chromedp.Navigate(e.ConsoleURL+"/#/pipeline"))
	b.waitJS("the live stream", js("#status.live")+" !== null")

	// Load: a fixed plan, paced so the page sees it arrive.
	cfg := loadgen.Config{Population: loadgen.Population{Players: 40, Guilds: 6}, Count: 1200, Rate: 150, Concurrency: 8, Seed: 7, BaseURL: e.APIURL}
	done := make(chan *loadgen.Result, 1)
	go func() {
		res, err := loadgen.Run(context.Background(), cfg)
		if err != nil {
			t.Errorf("loadgen: %v", err)
		}
		done <- res
	}()
	records := `[data-k="t/game-events/records"]`
	b.waitJS("records on the topic", "Number(("+js(records)+".textContent||'').replace(/,/g,'')) > 0")
	first := number(t, b.text(records))
	b.waitJS("the topic counter to grow", fmt.Sprintf("Number(%s.textContent.replace(/,/g,'')) > %d", js(records), first))
	b.waitJS("extracted rows to grow", "Number(("+js(`[data-k="d/extracted_events/rows"]`)+".textContent||'').replace(/,/g,'')) > 0")
	b.waitJS("the live charts", js("#c-rates .uplot canvas")+" !== null && "+js("#c-lag .uplot canvas")+" !== null")
	b.screenshot(shots, "pipeline")
	res := <-done
	if res == nil || res.Accepted != cfg.Count {
		t.Fatalf("loadgen accepted %v of %d", res, cfg.Count)
	}

	// The page ends at loadgen's counts: every accepted event is a record
	// on the topic, was invoked through a route, and is a row landed.
	want := strconv.Itoa(res.Accepted)
	b.waitJS("the topic to hold every accepted event", fmt.Sprintf("%s.textContent.replace(/,/g,'') === %q", js(records), want))
	b.waitJS("extracted_events to hold every accepted event", fmt.Sprintf("%s.textContent.replace(/,/g,'') === %q", js(`[data-k="d/extracted_events/rows"]`), want))
	for fn, n := range map[string]int{"ApiDefaultFunction": res.ByType["default"], "ApiJoinGuildFunction": res.ByType["join_a_guild"], "ApiPurchaseSwordFunction": res.ByType["purchase_sword"]} {
		sel := fmt.Sprintf(`[data-k="f/%s/inv"]`, fn)
		b.waitJS(fn+" invocations", fmt.Sprintf("%s.textContent.replace(/,/g,'') === %q", js(sel), strconv.Itoa(n)))
	}
	b.waitJS("guild_joins rows", fmt.Sprintf("%s.textContent.replace(/,/g,'') === %q", js(`[data-k="d/guild_joins/rows"]`), strconv.Itoa(res.ByType["join_a_guild"])))
	b.waitJS("the mappings to catch up", "[...document.querySelectorAll('[data-k^=\"m/\"][data-k$=\"/lag\"]')].every(el => el.textContent === '0')")

	// One request, followed from its route to its row.
	resp, err := http.Get(e.APIURL + "/purchase_a_sword/divya")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Event-Id")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("purchase: %d, X-Event-Id %q", resp.StatusCode, id)
	}
	// Each mapping consumes at its own pace: follow the event until every
	// step has settled, not only the extract.
	landed := `.trace-step[data-function="ExtractFunction"][data-status="landed"]`
	settled := js(landed) + " !== null && " + js(`.trace-step[data-status="pending"]`) + " === null"
	b.do("follow the event", chromedp.SetValue(chromedp.CSS("#trace-id"), id), chromedp.Click(chromedp.CSS("#trace-go")))
	b.waitJS("the trace", js("#trace-steps")+" !== null")
	for deadline := time.Now().Add(time.Minute); ; {
		ok, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](settled))
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trace never showed the event landed and settled: %s", b.text("#trace-result"))
		}
		time.Sleep(500 * time.Millisecond)
		b.do("follow the event again", chromedp.Click(chromedp.CSS("#trace-go")))
		b.waitJS("the trace", js("#trace-steps")+" !== null")
	}
	if got := b.text(`.trace-step[data-function="GuildJoinsFilter"]`); !strings.Contains(got, "filtered") {
		t.Errorf("a sword purchase in the guild joins: %q, want filtered", got)
	}
	if got := b.text("#trace-result"); !strings.Contains(got, "GET /purchase_a_sword/{username}") || !strings.Contains(got, "ApiPurchaseSwordFunction") {
		t.Errorf("the trace does not name the route: %q", got)
	}
	b.screenshot(shots, "trace")
	b.do("open the event's row", chromedp.Click(chromedp.CSS(landed+" a.trace-row")))
	b.waitJS("the highlighted row", js("#rows tr.match")+" !== null")
	if got := b.text("#rows tr.match"); !strings.Contains(got, id) || !strings.Contains(got, "divya") {
		t.Errorf("the highlighted row %q is not event %s", got, id)
	}
	if got := b.text("#event-row"); !strings.Contains(got, "event_id"+id) || !strings.Contains(got, "user_namedivya") || !strings.Contains(got, "item_typesword") {
		t.Errorf("the event's row reads %q", got)
	}
	b.waitJS("the dataset's schema and files", js("#schema tbody tr")+" !== null && "+js("#files tbody tr")+" !== null")
	b.screenshot(shots, "datasets")

	// A function's invocations and their logs.
	b.do("open ExtractFunction", chromedp.Navigate(e.ConsoleURL+"/#/functions/ExtractFunction"))
	b.waitJS("its invocations", js("#invocations tbody tr")+" !== null")
	b.do("open an invocation", chromedp.Click(chromedp.CSS("#invocations tbody tr")))
	b.waitJS("its logs", js("#invocation-log")+" !== null")
	logText := b.text("#invocation-log")
	for _, want := range []string{"START RequestId:", "END RequestId:", "REPORT RequestId:", "Max Memory Used"} {
		if !strings.Contains(logText, want) {
			t.Errorf("the invocation's log lacks %q:\n%s", want, logText)
		}
	}
	if tail := b.text("#log-tail"); !strings.Contains(tail, "REPORT RequestId:") {
		t.Errorf("the log tail has no REPORT line:\n%.500s", tail)
	}
	b.screenshot(shots, "functions")

	// The Topics page: newest records, and a search by key.
	b.do("open the topic", chromedp.Navigate(e.ConsoleURL+"/#/topics/game-events"))
	b.waitJS("its records", js("#records tbody tr")+" !== null")
	b.do("search by key", chromedp.SetValue(chromedp.CSS("#key"), "divya"), chromedp.Click(chromedp.CSS("#search")))
	b.waitJS("the key's records", "[...document.querySelectorAll('#records tbody tr')].length > 0 && [...document.querySelectorAll('#records tbody tr td:nth-child(4)')].every(td => td.textContent === 'divya')")
	if got := b.text("#records"); !strings.Contains(got, id) {
		t.Errorf("searching key divya did not find event %s", id)
	}
	b.waitJS("the partitions table", js("#partitions tbody tr")+" !== null")
	b.screenshot(shots, "topics")

	// Query: SQL over the lake, as a table and a chart, agreeing with
	// loadgen (plus the one purchase above); a report one click away; CSV.
	sql := "SELECT event_type, count(*) AS events FROM extracted_events GROUP BY event_type ORDER BY event_type"
	b.do("open the query page", chromedp.Navigate(e.ConsoleURL+"/#/query"))
	b.waitJS("the reports", js("#reports a[data-report]")+" !== null")
	b.do("run a query", chromedp.SetValue(chromedp.CSS("#sql"), sql), chromedp.Click(chromedp.CSS("#run")))
	b.waitJS("the result and its bar chart", js("#result-table tbody tr")+" !== null && "+js(`#result-table-chart[data-kind="bar"] canvas`)+" !== null")
	got := b.table("#result-table")
	wantByType := map[string]int{}
	for k, v := range res.ByType {
		wantByType[k] = v
	}
	wantByType["purchase_sword"]++
	if len(got) != len(wantByType) {
		t.Errorf("the query shows %v, loadgen accepted %v", got, wantByType)
	}
	for _, row := range got {
		if len(row) != 2 || number(t, row[1]) != wantByType[row[0]] {
			t.Errorf("the query shows %v, loadgen accepted %v", row, wantByType)
		}
	}
	csvURL := b.attr("#csv", "href")
	csvBody := get(t, csvURL)
	if lines := strings.Split(strings.TrimSpace(csvBody), "\n"); lines[0] != "event_type,events" || len(lines) != len(wantByType)+1 {
		t.Errorf("the CSV download is %q", csvBody)
	}
	b.do("run a report", chromedp.Click(chromedp.CSS(`#reports a[data-report="daily_active_players"]`)))
	b.waitJS("the report's chart", js(`#result-table-chart canvas`)+" !== null")
	b.screenshot(shots, "query")

	// Game: the dashboard's numbers agree with loadgen; a player's lookup.
	b.do("open the game page", chromedp.Navigate(e.ConsoleURL+"/#/game"))
	b.waitJS("the dashboard", js("#game-guild_joins tbody tr")+" !== null && "+js("#game-events_per_minute-chart canvas")+" !== null && "+js("#game-top_spenders tbody tr")+" !== null")
	joins := 0
	for _, row := range b.table("#game-guild_joins") {
		joins += number(t, row[1])
	}
	if joins != res.ByType["join_a_guild"] {
		t.Errorf("the dashboard counts %d guild joins, loadgen %d", joins, res.ByType["join_a_guild"])
	}
	b.do("look up a player", chromedp.SetValue(chromedp.CSS("#player"), "divya"), chromedp.Click(chromedp.CSS("#lookup")))
	b.waitJS("the player's inventory and events", js("#inventory tbody tr")+" !== null && "+js("#player-events tbody tr")+" !== null")
	if got := b.text("#inventory"); !strings.Contains(got, "sword") {
		t.Errorf("divya's inventory %q has no sword", got)
	}
	b.screenshot(shots, "game")

	// Read-only, and user input never reaches a path unchecked.
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/api/pipeline", 405}, {"DELETE", "/api/datasets/extracted_events", 405},
		{"GET", "/api/datasets/..%2f..%2fetc", 404}, {"GET", "/api/rows/extracted_events?file=../../etc/passwd", 404},
		{"GET", "/api/trace/not-an-id!", 400}, {"GET", "/api/player/no%20such", 400},
	} {
		req, _ := http.NewRequest(c.method, e.ConsoleURL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}

	// The engine's session is shared: the console changes nothing in it.
	for _, stmt := range []string{"SET threads = 1", "CREATE VIEW mine AS SELECT 1"} {
		resp, err := http.Post(e.ConsoleURL+"/api/query", "application/json", strings.NewReader(fmt.Sprintf(`{"sql": %q}`, stmt)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "would change the SQL session") {
			t.Errorf("POST /api/query %q: %d %s, want 400 saying it would change the session", stmt, resp.StatusCode, body)
		}
	}

	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("the browser console has errors:\n%s", strings.Join(errs, "\n"))
	}
}
