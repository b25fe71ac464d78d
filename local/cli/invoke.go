package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/esm"
	"github.com/questlog/questlog/local/invoke"
)

func cmdInvoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	var c common
	c.register(fs, "warn")
	eventFile := fs.String("e", "", "the event: a JSON file, or - for standard input")
	fs.StringVar(eventFile, "event", "", "same as -e")
	replay := fs.Bool("replay", false, "run the function over its Kafka topic, from the earliest to the latest offset, in batches")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := c.finish(); err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("name one function: questlog invoke <LogicalId> -e event.json")
	}
	if (*eventFile == "") == !*replay {
		return fmt.Errorf("give either -e <event.json|-> or --replay")
	}
	c.cfg.Functions = pos
	c.cfg.APIAddr, c.cfg.LambdaAddr = "127.0.0.1:0", "127.0.0.1:0"
	e, err := emulator.Start(ctx, c.cfg, emulator.Serve{}, false)
	if err != nil {
		return err
	}
	defer func() {
		drain, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.Close(drain)
	}()
	if *replay {
		return replayFunction(ctx, e, pos[0], c.cfg.Logger)
	}
	payload, err := readEvent(*eventFile)
	if err != nil {
		return err
	}
	res, err := e.Runtime.Invoke(ctx, invoke.Request{Function: pos[0], Payload: payload})
	if err != nil {
		return err
	}
	os.Stdout.Write(res.Payload)
	fmt.Println()
	if res.Error != nil {
		return fmt.Errorf("the function failed: %w", res.Error)
	}
	return nil
}

func readEvent(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read the event: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, invoke.MaxPayloadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the event: %w", err)
	}
	return data, nil
}

// replayFunction is the reference pipeline's batch job: the function's
// topic from the earliest to the latest offset, in batches, through the
// function, with a progress bar. The sink's exactly-once landing makes it
// safe beside the live mapping.
func replayFunction(ctx context.Context, e *emulator.Emulator, id string, logger *slog.Logger) error {
	fn := e.Template.Function(id)
	if len(fn.KafkaEvents) == 0 {
		return fmt.Errorf("%s has no SelfManagedKafka event to replay", id)
	}
	for _, ev := range fn.KafkaEvents {
		m := e.Mapping(fn, ev)
		// A backfill, not the live stream: the largest batches Lambda
		// allows (cut at the 6 MB payload limit) cost the least per record,
		// a third of batches of 1,000 (make bench's batch path breakdown).
		m.BatchSize = esm.MaxBatchSize
		fmt.Fprintf(os.Stderr, "replaying %s from the beginning through %s (batches of up to %d records, 6 MB)\n", m.Topic, id, m.BatchSize)
		bar := newProgressBar(os.Stderr)
		sum, err := esm.Replay(ctx, m, e.Runtime, esm.ReplayOptions{Options: esm.Options{Logger: logger}, Progress: func(p esm.ReplayProgress) {
			bar.update(p.RecordsDone, p.RecordsTotal, fmt.Sprintf("%d batches, %d errors", p.Batches, p.Errors))
		}})
		bar.done()
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		fmt.Fprintf(os.Stderr, "replay of %s: %d records in %s: %d invoked in %d batches, %d filtered by FilterCriteria, %d failed attempts (retried)\n",
			m.Topic, sum.Records, sum.Duration.Round(time.Millisecond), sum.Invoked, sum.Batches, sum.Filtered, sum.Errors)
		if err != nil {
			return err
		}
	}
	return nil
}

// progressBar draws a one-line bar on a terminal.
type progressBar struct {
	w    io.Writer
	last time.Time
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

func (b *progressBar) update(done, total int64, note string) {
	if time.Since(b.last) < 100*time.Millisecond && done < total {
		return
	}
	b.last = time.Now()
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  %d/%d records  %s   ", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, done, total, note)
}

func (b *progressBar) done() { fmt.Fprintln(b.w) }
