package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/questlog/questlog/internal/kafkaconf"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/loadgen"
)

func init() {
	register(Command{
		Name: "loadgen", Args: "[--url U | --kafka brokers|local] [--count n | --duration d] [flags]",
		Summary: "play a population of players against the API",
		Examples: []string{
			"questlog loadgen --count 10000 --players 500 --seed 7",
			"questlog loadgen --duration 30s --rate 200",
			"questlog loadgen --kafka local --count 100000",
			"questlog loadgen --url https://abc123.execute-api.us-east-1.amazonaws.com --count 1000",
		},
		Setup: setupLoadgen,
	})
}

func setupLoadgen(fs *flag.FlagSet) Run {
	var cfg loadgen.Config
	fs.StringVar(&cfg.BaseURL, "url", "", "the API's base URL (default: the running emulator's, else http://127.0.0.1:3000); an API Gateway URL works too")
	kafkaBrokers := fs.String("kafka", "", "write the events straight to Kafka at these brokers (host:port,…) instead of calling the API; 'local' is the running emulator's broker")
	fs.StringVar(&cfg.Topic, "topic", "game-events", "the topic, in Kafka mode")
	fs.IntVar(&cfg.Count, "count", 0, "number of requests (default 1000 unless --duration is given)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "run for this long instead of a count, e.g. 30s")
	fs.Float64Var(&cfg.Rate, "rate", 0, "target requests per second (default: as fast as possible)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "requests in flight at most")
	fs.IntVar(&cfg.Players, "players", 1000, "number of players")
	fs.IntVar(&cfg.Guilds, "guilds", 20, "number of guilds")
	fs.Float64Var(&cfg.ZipfS, "zipf", 1.1, "Zipf exponent of item and guild popularity")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed: the same seed plays the same requests")
	asJSON := fs.Bool("json", false, "print the result as JSON (with the counts by type, player and item)")
	dataDir := fs.String("data-dir", "", "the emulator's data directory, to find it (default .local)")
	quiet := fs.Bool("quiet", false, "no progress line (there is none when standard error is not a terminal)")
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if cfg.Count == 0 && cfg.Duration == 0 {
			cfg.Count = 1000
		}
		dir := *dataDir
		if dir == "" {
			dir = ".local"
		}
		brokers, _, apiURL, running := emulator.Running(dir)
		switch {
		case *kafkaBrokers == "local":
			if !running {
				return errors.New("--kafka local: no emulator is running (start one with make run)")
			}
			cfg.Brokers = brokers
		case *kafkaBrokers != "":
			cfg.Brokers = kafkaconf.Brokers(*kafkaBrokers)
		case cfg.BaseURL == "" && running && apiURL != "":
			cfg.BaseURL = apiURL
		case cfg.BaseURL == "":
			cfg.BaseURL = "http://127.0.0.1:3000"
		}
		if !*quiet {
			cfg.Progress = progressOutput()
		}
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
		res, err := loadgen.Run(ctx, cfg)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		}
		res.Summary(os.Stdout)
		return nil
	}
}
