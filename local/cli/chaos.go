package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/questlog/questlog/local/chaos"
)

func init() {
	register(Command{
		Name: "chaos", Args: "[--duration 10m] [--seed n] [flags]",
		Summary: "break the whole stack on purpose and check that nothing was lost, duplicated or leaked",
		Examples: []string{
			"questlog chaos --duration 1m",
			"questlog chaos --duration 10m --seed 7 --dir /tmp/chaos-run",
			"make chaos DURATION=10m",
		},
		Setup: setupChaos,
	})
}

func setupChaos(fs *flag.FlagSet) Run {
	var cfg chaos.Config
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long the load and the chaos last, e.g. 10m (default 1m)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the load, the corpora and the schedule")
	fs.Float64Var(&cfg.Rate, "rate", 0, "load generator requests per second (default 100)")
	fs.IntVar(&cfg.Players, "players", 0, "load generator players (default 500)")
	fs.IntVar(&cfg.FunctionKills, "function-kills", 0, "function processes to SIGKILL (default one per 12 s)")
	fs.IntVar(&cfg.StackKills, "stack-kills", 0, "times to SIGKILL and restart the whole emulator (default one per 150 s, at least 1)")
	fs.StringVar(&cfg.Dir, "dir", "", "keep the stack's data and output here (default: a temporary directory, removed if the run passes)")
	fs.StringVar(&cfg.ProjectDir, "project-dir", ".", "the project: template.yaml and the Makefile")
	fs.DurationVar(&cfg.Drain, "drain", 0, "longest wait, after the load, for the jobs to catch up (default 3m)")
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		var logOut io.Writer = os.Stderr
		if status := progressOutput(); status != nil {
			cfg.Status = status
			logOut = clearLine{status} // log lines replace the status line
		}
		cfg.Log = slog.New(slog.NewTextHandler(logOut, nil))
		rep, err := chaos.Run(ctx, cfg)
		if err != nil {
			return err
		}
		rep.WriteTable(os.Stdout)
		if failures := rep.Failures(); len(failures) > 0 {
			return fmt.Errorf("%d checks failed (see the table): %v", len(failures), failures)
		}
		return nil
	}
}

// clearLine erases the status line before each write.
type clearLine struct{ w io.Writer }

func (c clearLine) Write(p []byte) (int, error) {
	io.WriteString(c.w, "\r\x1b[K")
	return c.w.Write(p)
}
