package console_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/questlog/questlog/local/loadgen"
)

// What the console costs the pipeline: loadgen at full speed against the
// whole emulator, in rounds alternately with no page open (the baseline:
// the browser on about:blank) and with the console open as a user keeps
// it: live, on one page, then after half the round on the next (Pipeline,
// Functions, a function, Topics, Datasets, in turn), each page loading its
// data as it opens. Same emulator, same run; the rounds alternate, in the
// order ABBA (the lake grows and the pipeline slows with it: a linear
// drift then hits both alike). Opening the console (loading the page,
// before its round) is measured apart.
//
// Beside the rates it reports CPU time, which the machine's other load
// disturbs far less: the browser's (every Chromium process) per second,
// and the pipeline's (this process — the emulator, loadgen, the console's
// server — and the functions' processes) per accepted request, with and
// without the page.
//
//	go test ./local/console -run '^$' -bench ConsoleCost -benchtime 1x -count 3
func BenchmarkConsoleCost(b *testing.B) {
	const rounds, roundLength = 6, 10 * time.Second
	br := newBrowser(b)
	e := startEmulator(b)
	br.do("start the browser", chromedp.Navigate("about:blank"))
	chromium := chromedp.FromContext(br.ctx).Browser.Process().Pid

	type result struct {
		accepted, seconds       float64
		pipelineCPU, browserCPU time.Duration
	}
	round := func(seed uint64) result {
		before := readProcCPU()
		res, err := loadgen.Run(context.Background(), loadgen.Config{
			Population: loadgen.Population{Players: 500, Guilds: 20}, Duration: roundLength, Concurrency: 16, Seed: seed, BaseURL: e.APIURL,
		})
		if err != nil {
			b.Fatal(err)
		}
		after := readProcCPU()
		return result{accepted: float64(res.Accepted), seconds: res.Seconds,
			pipelineCPU: after.tree(os.Getpid(), chromium) - before.tree(os.Getpid(), chromium),
			browserCPU:  after.tree(chromium) - before.tree(chromium)}
	}
	pages := []string{"#/pipeline", "#/functions", "#/functions/ExtractFunction", "#/topics/game-events", "#/datasets/extracted_events"}
	var opening time.Duration
	withConsole := func(i int, seed uint64) result {
		before := readProcCPU()
		br.do("open the console", chromedp.Navigate(e.ConsoleURL+"/"+pages[(2*i)%len(pages)]))
		br.waitJS("the live stream", "document.querySelector('#status.live') !== null")
		opening += readProcCPU().tree(chromium) - before.tree(chromium)
		ctx, stop := context.WithCancel(br.ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			select {
			case <-ctx.Done():
			case <-time.After(roundLength / 2):
				chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("location.hash = "+strconv.Quote(pages[(2*i+1)%len(pages)])))
			}
		})
		r := round(seed)
		stop()
		wg.Wait()
		br.do("close the console", chromedp.Navigate("about:blank"))
		return r
	}

	round(1) // warm up: environments, topics, the first files
	var base, console result
	add := func(sum *result, r result) {
		sum.accepted += r.accepted
		sum.seconds += r.seconds
		sum.pipelineCPU += r.pipelineCPU
		sum.browserCPU += r.browserCPU
	}
	perRequest := func(r result) float64 { return float64(r.pipelineCPU.Microseconds()) / 1000 / r.accepted }
	for i := range rounds {
		var rb, rc result
		if i%2 == 0 {
			time.Sleep(time.Second) // the last page's requests settle
			rb = round(uint64(10 + i))
			rc = withConsole(i, uint64(20+i))
		} else {
			rc = withConsole(i, uint64(20+i))
			time.Sleep(time.Second)
			rb = round(uint64(10 + i))
		}
		b.Logf("round %d: no page %.0f accepted/s (pipeline %.3f CPU ms/request, browser %.3f CPU s/s), console open %.0f accepted/s (%.3f CPU ms/request, browser %.3f CPU s/s): %.3f",
			i+1, rb.accepted/rb.seconds, perRequest(rb), rb.browserCPU.Seconds()/rb.seconds,
			rc.accepted/rc.seconds, perRequest(rc), rc.browserCPU.Seconds()/rc.seconds, (rc.accepted/rc.seconds)/(rb.accepted/rb.seconds))
		add(&base, rb)
		add(&console, rc)
	}
	b.ReportMetric(base.accepted/base.seconds, "baseline-accepted/s")
	b.ReportMetric(console.accepted/console.seconds, "console-accepted/s")
	b.ReportMetric((console.accepted/console.seconds)/(base.accepted/base.seconds), "ratio")
	b.ReportMetric(base.browserCPU.Seconds()/base.seconds, "no-page-browser-CPU-s/s")
	b.ReportMetric(console.browserCPU.Seconds()/console.seconds, "console-browser-CPU-s/s")
	b.ReportMetric(opening.Seconds()/rounds, "opening-browser-CPU-s")
	b.ReportMetric(perRequest(base), "baseline-CPU-ms/req")
	b.ReportMetric(perRequest(console), "console-CPU-ms/req")
}
