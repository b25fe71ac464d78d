// Package cli is questlog's command line, named like SAM CLI's local
// commands (start, start-api, start-lambda, invoke, generate-event, build)
// plus questlog's own (show, loadgen, …).
//
// # Adding a command
//
// A command is one file that registers itself in an init function; nothing
// else in the package changes:
//
//	func init() {
//		register(Command{
//			Name:    "show",
//			Args:    "<dataset> [flags] | --list",
//			Summary: "print a dataset like Spark's show()",
//			Examples: []string{
//				"questlog show --list",
//				`questlog show extracted_events --where 'user_name == "divya"' --limit 5`,
//			},
//			Setup: setupShow,
//		})
//	}
//
//	// setupShow declares the flags and returns the command's body, which
//	// gets the positional arguments once the flags are parsed.
//	func setupShow(fs *flag.FlagSet) Run {
//		limit := fs.Int("limit", 20, "rows to print")
//		return func(ctx context.Context, args []string) error {
//			if len(args) != 1 {
//				return usagef("name a dataset")
//			}
//			…
//		}
//	}
//
// The framework parses the flags (before or after positional arguments),
// answers -h/--help with the synopsis, summary, flags and examples, and maps
// the outcome to the exit status: 0 on success, including a command that
// drained after Ctrl-C; 1 when the command failed; 2 for a usage error (a
// bad flag, or an error made with usagef), printed once with a hint; 128+n
// when signal n interrupted a command that could not finish. The first
// SIGINT or SIGTERM cancels ctx so the command can drain; a second one exits
// at once. Commands that run functions share the common flags (common.go).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Command is one questlog command.
type Command struct {
	// Name is what the user types: "invoke", or "generate-event kafka" for
	// a subcommand.
	Name string
	// Args is the synopsis after the name, e.g. "<LogicalId> -e event.json [flags]".
	Args string
	// Summary is one line for the command list.
	Summary string
	// Examples are complete command lines; -h prints them.
	Examples []string
	// Setup declares the command's flags on fs and returns its body. It
	// may run more than once (-h builds the flags to print them), so it
	// does nothing else.
	Setup func(fs *flag.FlagSet) Run
}

// Run is a command's body: it gets the positional arguments.
type Run func(ctx context.Context, args []string) error

// Exit statuses other than 0, 1 and 128+signal.
const exitUsage = 2

var commands []Command

// register adds a command; call it from an init function.
func register(c Command) {
	if c.Name == "" || c.Setup == nil || slices.ContainsFunc(commands, func(o Command) bool { return o.Name == c.Name }) {
		panic("cli: bad or duplicate command " + c.Name)
	}
	commands = append(commands, c)
	slices.SortFunc(commands, func(a, b Command) int { return strings.Compare(a.Name, b.Name) })
}

// usageError is a mistake in the command line: exit status 2, with a hint
// to -h.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef reports a usage error.
func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// Main runs the command args name and returns the exit status.
func Main(args []string) int {
	ctx, stop := interruptible(os.Stderr)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, _ := lookup(args[1:]); c != nil {
				c.help(stdout)
				return 0
			}
			fmt.Fprintf(stderr, "questlog help: unknown command %q\n", strings.Join(args[1:], " "))
			return exitUsage
		}
		usage(stdout)
		return 0
	}
	c, rest := lookup(args)
	if c == nil {
		return unknownCommand(args, stdout, stderr)
	}
	return c.run(ctx, rest, stdout, stderr)
}

// lookup finds the command args start with, the longest name first
// ("generate-event kafka" before "generate-event").
func lookup(args []string) (*Command, []string) {
	for n := min(2, len(args)); n > 0; n-- {
		name := strings.Join(args[:n], " ")
		for i := range commands {
			if commands[i].Name == name {
				return &commands[i], args[n:]
			}
		}
	}
	return nil, nil
}

// unknownCommand answers a name that is no command, or a command group
// ("generate-event") without its subcommand.
func unknownCommand(args []string, stdout, stderr io.Writer) int {
	var subs []Command
	for _, c := range commands {
		if strings.HasPrefix(c.Name, args[0]+" ") {
			subs = append(subs, c)
		}
	}
	if len(subs) == 0 {
		fmt.Fprintf(stderr, "questlog: unknown command %q\nRun 'questlog help' for the list of commands.\n", args[0])
		return exitUsage
	}
	w, status := stderr, exitUsage
	if len(args) > 1 && isHelpFlag(args[1]) {
		w, status = stdout, 0
	} else if len(args) > 1 {
		fmt.Fprintf(stderr, "questlog %s: unknown subcommand %q\n", args[0], args[1])
	} else {
		fmt.Fprintf(stderr, "questlog %s: name a subcommand\n", args[0])
	}
	fmt.Fprintf(w, "usage: questlog %s <subcommand> [flags]\n\nSubcommands:\n", args[0])
	for _, c := range subs {
		fmt.Fprintf(w, "  %-22s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun 'questlog %s -h' for a subcommand's flags and examples.\n", subs[0].Name)
	return status
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func usage(w io.Writer) {
	fmt.Fprint(w, `questlog runs template.yaml's functions on one machine, as AWS would.

Usage: questlog <command> [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-22s %s\n", c.Name, c.Summary)
	}
	fmt.Fprint(w, `
Start with 'questlog start' (or 'make run'); 'questlog <command> -h' shows a
command's flags and examples.
`)
}

// run parses the command's flags and runs it.
func (c *Command) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := c.flagSet()
	body := c.Setup(fs)
	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.help(stdout)
		return 0
	}
	if err == nil {
		err = body(ctx, positional)
	}
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(usageError)) || errors.As(err, new(flagError)):
		fmt.Fprintf(stderr, "questlog %s: %v\nusage: %s\nRun 'questlog %s -h' for the flags and examples.\n", c.Name, err, c.synopsis(), c.Name)
		return exitUsage
	}
	if sig, ok := interruptedBy(ctx); ok && errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "questlog %s: interrupted\n", c.Name)
		return exitStatus(sig)
	}
	fmt.Fprintf(stderr, "questlog %s: %v\n", c.Name, err)
	return 1
}

func (c *Command) synopsis() string {
	return strings.TrimSpace("questlog " + c.Name + " " + c.Args)
}

func (c *Command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed once, by run
	fs.Usage = func() {}
	return fs
}

// help prints the synopsis, the summary, the flags and the examples.
func (c *Command) help(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s.\n", c.synopsis(), upperFirst(c.Summary))
	fs := c.flagSet()
	c.Setup(fs)
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", longFlag.ReplaceAllString(flags.String(), "$1--$2"))
	}
	if len(c.Examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range c.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// longFlag matches a flag name of two or more letters in PrintDefaults'
// output, which help shows as --name (Go's flag package takes both forms).
var longFlag = regexp.MustCompile(`(?m)^(  )-(\w[\w-]+)`)

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// flagError is an error of the flag package: a usage error.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// parseInterleaved parses flags that come before, between or after the
// positional arguments (questlog invoke Fn -e x.json), as SAM CLI allows.
// "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, flagError{err}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
