package console_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/questlog/questlog/local/loadgen"
)

// What the console costs the pipeline: loadgen at full speed against the
// whole emulator, alternately with no page open (the baseline) and with the
// console open in Chromium, live, moving to another page every three
// seconds (Pipeline, Functions, a function, Topics, Datasets), each page
// loading its data as it opens. Same emulator, same run; rounds alternate
// so that drift hits both alike.
//
//	go test ./local/console -run '^$' -bench ConsoleCost -benchtime 1x
func BenchmarkConsoleCost(b *testing.B) {
	br := newBrowser(b)
	e := startEmulator(b)
	round := func(seed uint64) float64 {
		res, err := loadgen.Run(context.Background(), loadgen.Config{
			Population: loadgen.Population{Players: 500, Guilds: 20}, Duration: 8 * time.Second, Concurrency: 16, Seed: seed, BaseURL: e.APIURL,
		})
		if err != nil {
			b.Fatal(err)
		}
		return res.AcceptedPerSec
	}
	withConsole := func(seed uint64) float64 {
		ctx, stop := context.WithCancel(br.ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			pages := []string{"#/pipeline", "#/functions", "#/functions/ExtractFunction", "#/topics/game-events", "#/datasets/extracted_events"}
			chromedp.Do(ctx, chromedp.Navigate(e.ConsoleURL+"/"))
			for i := 0; ctx.Err() == nil; i++ {
				chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("location.hash = "+strconv.Quote(pages[i%len(pages)])))
				select {
				case <-ctx.Done():
				case <-time.After(3 * time.Second):
				}
			}
		})
		r := round(seed)
		stop()
		wg.Wait()
		br.do("close the console", chromedp.Navigate("about:blank"))
		return r
	}
	round(1) // warm up: environments, topics, the first files
	var base, console []float64
	for i := range 4 {
		time.Sleep(11 * time.Second) // past the console's watch grace: no scanning for the baseline
		base = append(base, round(uint64(10+i)))
		console = append(console, withConsole(uint64(20+i)))
	}
	var sb, sc float64
	for i := range base {
		sb += base[i]
		sc += console[i]
		b.Logf("round %d: baseline %.0f accepted/s, console open %.0f accepted/s (%.3f)", i+1, base[i], console[i], console[i]/base[i])
	}
	b.ReportMetric(sb/float64(len(base)), "baseline-accepted/s")
	b.ReportMetric(sc/float64(len(console)), "console-accepted/s")
	b.ReportMetric(sc/sb, "ratio")
}
