package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/chzyer/readline"
	"golang.org/x/sys/unix"

	"github.com/questlog/questlog/local/lake"
)

const promptHelp = `End a statement with ';' (it may span lines). Ctrl-C cancels the running
query or the line being typed; Ctrl-D or .quit leaves.
  .tables          the tables, their rows, files and bytes
  .schema NAME     the columns of a table
  .format FORMAT   table, csv, json or jsonl
  .maxrows N       rows a table shows (0: all)
  .reports         the standard reports (questlog report NAME runs one)
  .help            this
`

// prompt reads statements from the terminal and prints their results,
// with history (kept in historyFile) and line editing.
func prompt(ctx context.Context, l *sqlLake, out lake.Output, historyFile string) error {
	rl, err := readline.NewEx(&readline.Config{
		Prompt: "sql> ", HistoryFile: historyFile, HistorySearchFold: true, DisableAutoSaveHistory: true,
		InterruptPrompt: "^C",
	})
	if err != nil {
		return err
	}
	defer rl.Close()
	fmt.Fprintf(os.Stderr, "questlog sql: DuckDB over every dataset, each a table (.tables lists them).\n%s\n", promptHelp)

	// Ctrl-C cancels the running query, not the command: take SIGINT
	// over from the command's context for as long as the prompt runs.
	signal.Reset(os.Interrupt)
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	defer signal.Stop(interrupts)
	run := func(f func(context.Context) error) {
		select {
		case <-interrupts: // one that arrived while typing
		default:
		}
		defer keepEOFKey(int(os.Stdin.Fd()))()
		qctx, cancel := context.WithCancel(ctx)
		stop := make(chan struct{})
		go func() {
			select {
			case <-interrupts:
				cancel()
			case <-stop:
			}
		}()
		err := f(qctx)
		close(stop)
		cancel()
		if err != nil {
			if qctx.Err() != nil && ctx.Err() == nil {
				err = errors.New("cancelled")
			}
			fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		}
	}

	var pending strings.Builder
	for {
		if pending.Len() == 0 {
			rl.SetPrompt("sql> ")
		} else {
			rl.SetPrompt("...> ")
		}
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			pending.Reset()
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if pending.Len() == 0 && strings.HasPrefix(strings.TrimSpace(line), ".") {
			rl.SaveHistory(strings.TrimSpace(line))
			if quit := dotCommand(strings.Fields(strings.TrimSpace(line)), l, &out, run); quit {
				return nil
			}
			continue
		}
		pending.WriteString(line)
		pending.WriteByte('\n')
		if !lake.Complete(pending.String()) {
			continue
		}
		text := pending.String()
		pending.Reset()
		rl.SaveHistory(strings.Join(strings.Fields(text), " "))
		for _, stmt := range lake.Statements(text) {
			run(func(ctx context.Context) error { return l.Write(ctx, os.Stdout, stmt, out) })
		}
	}
}

// keepEOFKey makes Ctrl-D typed while a query runs an ordinary key until
// the returned function restores the terminal: the line editor is not
// reading then, and the terminal would turn the key into an end of input
// that the editor cannot recover from at the next prompt. Read there, the
// key ends the prompt as usual.
func keepEOFKey(fd int) (restore func()) {
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}
	}
	t := *saved
	t.Cc[unix.VEOF] = 0 // _POSIX_VDISABLE
	if unix.IoctlSetTermios(fd, unix.TCSETS, &t) != nil {
		return func() {}
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, saved) }
}

// dotCommand runs a prompt command; quit says the prompt should end.
func dotCommand(words []string, l *sqlLake, out *lake.Output, run func(func(context.Context) error)) (quit bool) {
	arg := func() string {
		if len(words) > 1 {
			return words[1]
		}
		return ""
	}
	switch words[0] {
	case ".quit", ".exit", ".q":
		return true
	case ".help":
		fmt.Fprint(os.Stderr, promptHelp)
	case ".tables":
		run(func(ctx context.Context) error { return l.WriteTables(ctx, os.Stdout, lake.Output{Format: out.Format}) })
	case ".schema":
		run(func(ctx context.Context) error {
			return l.WriteSchema(ctx, os.Stdout, arg(), lake.Output{Format: out.Format})
		})
	case ".format":
		if err := lake.CheckFormat(arg()); err != nil || arg() == "" || arg() == "parquet" {
			fmt.Fprintln(os.Stderr, "Error: .format table, csv, json or jsonl (parquet needs a file: questlog sql --format parquet --out FILE)")
			break
		}
		out.Format = arg()
	case ".maxrows":
		n, err := strconv.Atoi(arg())
		if err != nil || n < 0 {
			fmt.Fprintln(os.Stderr, "Error: .maxrows N, N ≥ 0")
			break
		}
		out.MaxRows = n
	case ".reports":
		listReports(os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "Error: unknown command %s (.help lists them)\n", words[0])
	}
	return false
}
