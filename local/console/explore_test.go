package console_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"fmt"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
	"sort"

	"github.com/questlog/questlog/local/loadgen"
)

func procType(pid int) string {
	b, _ := os.ReadFile("/proc/" + itoa(pid) + "/cmdline")
	for _, a := range strings.Split(string(b), "\x00") {
		if t, ok := strings.CutPrefix(a, "--type="); ok {
			return t
		}
	}
	return "browser"
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }
func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for i > 0 {
		s = string(rune('0'+i%10)) + s
		i /= 10
	}
	return s
}

func byType(p procCPU, root int) map[string]time.Duration {
	children := map[int][]int{}
	for pid, e := range p {
		children[e.parent] = append(children[e.parent], pid)
	}
	out := map[string]time.Duration{}
	var walk func(int)
	walk = func(pid int) {
		out[procType(pid)] += p[pid].cpu
		for _, c := range children[pid] {
			walk(c)
		}
	}
	walk(root)
	return out
}

func metrics(t *testing.T, ctx context.Context) map[string]float64 {
	r, err := chromedp.Call(ctx, performance.GetMetrics, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, m := range r.Metrics {
		out[m.Name] = m.Value
	}
	return out
}

func TestExploreCost(t *testing.T) {
	br := newBrowser(t)
	e := startEmulator(t)
	br.do("start", chromedp.Navigate("about:blank"))
	chromium := chromedp.FromContext(br.ctx).Browser.Process().Pid
	if _, err := chromedp.Call(br.ctx, performance.Enable, performance.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	rate := 400.0
	if v := os.Getenv("EXPLORE_RATE"); v != "" {
		rate = 0
	}
	pages := []string{"about:blank", "#/pipeline", "#/functions", "#/functions/ExtractFunction", "#/topics/game-events", "#/datasets/extracted_events"}
	if v := os.Getenv("EXPLORE_PAGES"); v != "" {
		pages = strings.Split(v, ",")
	}
	per := 15 * time.Second
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go loadgen.Run(ctx, loadgen.Config{Population: loadgen.Population{Players: 500, Guilds: 20}, Duration: time.Hour, Rate: rate, Concurrency: 16, Seed: 3, BaseURL: e.APIURL})
	time.Sleep(5 * time.Second)
	for _, p := range pages {
		url := p
		if strings.HasPrefix(p, "#") {
			url = e.ConsoleURL + "/" + p
		}
		l0 := readProcCPU()
		lt := time.Now()
		br.do("open", chromedp.Navigate(url))
		time.Sleep(3 * time.Second)
		if v := os.Getenv("EXPLORE_EXP"); v != "" {
			chromedp.Do(br.ctx, chromedp.Evaluate[chromedp.Void]("window.__exp = "+strconv.Quote(v)))
		}
		l1 := readProcCPU()
		t.Logf("%-30s open: browser %.3f cpu-s in %.1f s, pipeline %.2f cpu-s/s", p, (l1.tree(chromium) - l0.tree(chromium)).Seconds(), time.Since(lt).Seconds(),
			(l1.tree(os.Getpid(), chromium)-l0.tree(os.Getpid(), chromium)).Seconds()/time.Since(lt).Seconds())
		prof := os.Getenv("EXPLORE_PROFILE") != ""
		if prof {
			chromedp.Call(br.ctx, profiler.Enable, cdp.Empty{})
			chromedp.Call(br.ctx, profiler.Start, cdp.Empty{})
		}
		b0, m0, self0 := readProcCPU(), metrics(t, br.ctx), time.Now()
		time.Sleep(per)
		b1, m1 := readProcCPU(), metrics(t, br.ctx)
		if prof {
			r, err := chromedp.Call(br.ctx, profiler.Stop, cdp.Empty{})
			if err != nil {
				t.Fatal(err)
			}
			report(t, r.Profile)
		}
		el := time.Since(self0).Seconds()
		if n, err := chromedp.Run(br.ctx, chromedp.Evaluate[string]("JSON.stringify([window.__edges, window.__drawMs, Object.keys(state.history.at(-1).topics), Object.keys(state.history.at(-1).lag).length])")); err == nil {
			t.Logf("edges drawn: %v", n)
		}
		bt0, bt1 := byType(b0, chromium), byType(b1, chromium)
		var parts []string
		for k, v := range bt1 {
			parts = append(parts, k+"="+ftoa((v-bt0[k]).Seconds()/el))
		}
		pipe := (b1.tree(os.Getpid(), chromium) - b0.tree(os.Getpid(), chromium)).Seconds() / el
		t.Logf("%-30s browser %.3f cpu-s/s [%s] task %.3f script %.3f layout %.3f style %.3f | pipeline %.2f", p,
			(b1.tree(chromium)-b0.tree(chromium)).Seconds()/el, strings.Join(parts, " "),
			(m1["TaskDuration"]-m0["TaskDuration"])/el, (m1["ScriptDuration"]-m0["ScriptDuration"])/el,
			(m1["LayoutDuration"]-m0["LayoutDuration"])/el, (m1["RecalcStyleDuration"]-m0["RecalcStyleDuration"])/el, pipe)
	}
}

func ftoa(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmtF(f), "0"), ".")
}
func fmtF(f float64) string { return fmtFloat(f) }

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

func report(t *testing.T, p *profiler.Profile) {
	byID := map[int64]*profiler.ProfileNode{}
	for _, n := range p.Nodes {
		byID[n.ID] = n
	}
	dt := map[int64]int64{}
	for i, id := range p.Samples {
		if i < len(p.TimeDeltas) {
			dt[id] += p.TimeDeltas[i]
		}
	}
	name := func(n *profiler.ProfileNode) string {
		u := n.CallFrame.URL
		if i := strings.LastIndexByte(u, '/'); i >= 0 {
			u = u[i+1:]
		}
		return fmt.Sprintf("%s %s:%d", n.CallFrame.FunctionName, u, n.CallFrame.LineNumber+1)
	}
	self := map[string]int64{}
	cum := map[string]int64{}
	var walk func(id int64, seen map[string]bool) int64
	walk = func(id int64, seen map[string]bool) int64 {
		n := byID[id]
		total := dt[id]
		nm := name(n)
		self[nm] += dt[id]
		first := !seen[nm]
		seen[nm] = true
		for _, c := range n.Children {
			total += walk(c, seen)
		}
		if first {
			delete(seen, nm)
			cum[nm] += total
		}
		return total
	}
	walk(p.Nodes[0].ID, map[string]bool{})
	top := func(m map[string]int64, filter string) string {
		var ks []string
		for k := range m {
			if strings.Contains(k, filter) {
				ks = append(ks, k)
			}
		}
		sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] })
		var b strings.Builder
		for i, k := range ks {
			if i == 25 {
				break
			}
			fmt.Fprintf(&b, "\n   %8.1f ms  %s", float64(m[k])/1000, k)
		}
		return b.String()
	}
	t.Logf("self:%s", top(self, ""))
	t.Logf("cumulative app.js:%s", top(cum, "app.js"))
}
