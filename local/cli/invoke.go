package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/esm"
	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/scratch"
)

func init() {
	register(Command{
		Name: "invoke", Args: "<LogicalId> (-e event.json | -e - | --replay) [flags]",
		Summary: "run a function once, or replay its topic through it",
		Examples: []string{
			"questlog invoke DefaultHitsFilter -e events/kafka-event.json",
			"questlog generate-event kafka --from-topic --count 10 | questlog invoke ExtractFunction -e -",
			"questlog invoke SwordPurchasesFilter --replay",
		},
		Setup: setupInvoke,
	})
}

func setupInvoke(fs *flag.FlagSet) Run {
	var c common
	c.register(fs, "warn")
	eventFile := fs.String("e", "", "the event: a JSON file, or - for standard input")
	fs.StringVar(eventFile, "event", "", "same as -e")
	replay := fs.Bool("replay", false, "run the function over its Kafka topic, from the earliest to the latest offset, in batches")
	return func(ctx context.Context, args []string) error {
		if err := c.finish(); err != nil {
			return err
		}
		if len(args) != 1 {
			return usagef("name one function")
		}
		if (*eventFile == "") == !*replay {
			return usagef("give either -e <event.json|-> or --replay")
		}
		var payload []byte
		if !*replay {
			var err error
			if payload, err = readEvent(*eventFile); err != nil {
				return err
			}
		}
		c.cfg.Functions = args
		c.cfg.APIAddr, c.cfg.LambdaAddr = "127.0.0.1:0", "127.0.0.1:0"
		if !*replay {
			// Records that are not in the live topic must not reach the
			// live datasets: they run on a scratch stack.
			var note string
			var err error
			if c.cfg, note, err = scratch.For(ctx, c.cfg, payload); err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintln(os.Stderr, note)
			}
		}
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
			return replayFunction(ctx, e, args[0], c.cfg.Logger)
		}
		res, err := e.Runtime.Invoke(ctx, invoke.Request{Function: args[0], Payload: payload})
		if err != nil {
			return err
		}
		os.Stdout.Write(res.Payload)
		fmt.Println()
		switch {
		case res.Error != nil && res.Error.Init:
			return initFailure{args[0], res.Error}
		case res.Error != nil:
			return fmt.Errorf("the function failed: %w", res.Error)
		}
		return nil
	}
}

// readEvent reads the event of a one-shot invocation, which must be JSON,
// as the Lambda Invoke API requires.
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
	switch {
	case err != nil:
		return nil, fmt.Errorf("read the event: %w", err)
	case len(bytes.TrimSpace(data)) == 0 && name == "-":
		return nil, errors.New("the event is empty: -e - reads it from standard input, e.g. questlog generate-event kafka | questlog invoke ExtractFunction -e -")
	case len(bytes.TrimSpace(data)) == 0:
		return nil, fmt.Errorf("the event is empty: %s holds nothing", name)
	case len(data) > invoke.MaxPayloadBytes:
		return nil, fmt.Errorf("the event is over Lambda's 6 MB limit (%w)", invoke.ErrRequestTooLarge)
	case !json.Valid(data):
		var v any
		return nil, fmt.Errorf("the event is not JSON: %v", json.Unmarshal(data, &v))
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
	ctx, giveUp := context.WithCancelCause(ctx)
	defer giveUp(nil)
	inv := giveUpOnInitFailure{e.Runtime, giveUp}
	for _, ev := range fn.KafkaEvents {
		m := e.Mapping(fn, ev)
		// A backfill, not the live stream: the largest batches Lambda
		// allows (cut at the 6 MB payload limit) cost the least per record,
		// a third of batches of 1,000 (make bench's batch path breakdown).
		m.BatchSize = esm.MaxBatchSize
		fmt.Fprintf(os.Stderr, "replaying %s from the beginning through %s (batches of up to %d records, 6 MB)\n", m.Topic, id, m.BatchSize)
		bar := newProgressBar(progressOutput())
		sum, err := esm.Replay(ctx, m, inv, esm.ReplayOptions{Options: esm.Options{Logger: logger}, Progress: func(p esm.ReplayProgress) {
			bar.update(p.RecordsDone, p.RecordsTotal, fmt.Sprintf("%d batches, %d errors", p.Batches, p.Errors))
		}})
		bar.done()
		var initErr initFailure
		if errors.As(context.Cause(ctx), &initErr) {
			return initErr
		}
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

// giveUpOnInitFailure stops a one-shot command whose function cannot
// initialize. A live mapping retries such a batch forever, as Lambda does,
// since a deploy may fix the function; a command would only spin.
type giveUpOnInitFailure struct {
	invoke.Invoker
	giveUp context.CancelCauseFunc
}

func (g giveUpOnInitFailure) Invoke(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
	res, err := g.Invoker.Invoke(ctx, req)
	if err == nil && res.Error != nil && res.Error.Init {
		g.giveUp(initFailure{req.Function, res.Error})
	}
	return res, err
}

// initFailure is a function that failed to initialize.
type initFailure struct {
	function string
	err      *invoke.FunctionError
}

func (f initFailure) Error() string {
	return fmt.Sprintf("%s failed to initialize (its log above says why): %v", f.function, f.err)
}
