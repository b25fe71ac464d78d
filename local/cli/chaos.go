package cli

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/questlog/questlog/local/chaos"
)

func cmdChaos(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
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
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var logOut io.Writer = os.Stderr
	if isTerminal(os.Stderr) {
		cfg.Status = os.Stderr
		logOut = clearLine{os.Stderr} // log lines replace the status line
	}
	cfg.Log = slog.New(slog.NewTextHandler(logOut, nil))
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.WriteTable(os.Stdout)
	if len(rep.Failures()) > 0 {
		return exitCode(1)
	}
	return nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// clearLine erases the status line before each write.
type clearLine struct{ w io.Writer }

func (c clearLine) Write(p []byte) (int, error) {
	io.WriteString(c.w, "\r\x1b[K")
	return c.w.Write(p)
}
