// Package cli is the questlog emulator's command line, named like SAM CLI's
// local commands: start, start-api, start-lambda, invoke, generate-event,
// plus show, build and loadgen.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/template"
)

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"start", "[flags]", "run everything: API on :3000, Kafka on :9092, HDFS on :8020, the Kafka-triggered jobs", cmdStart},
		{"start-api", "[flags]", "run the API (API Gateway + the route functions), like sam local start-api", cmdStartAPI},
		{"start-lambda", "[flags]", "serve the Lambda Invoke API on :3001, like sam local start-lambda", cmdStartLambda},
		{"invoke", "<LogicalId> (-e event.json | -e - | --replay) [flags]", "run a function once, or replay its topic through it", cmdInvoke},
		{"generate-event", "kafka|http [flags]", "print a sample event: a Kafka batch or an API Gateway request", cmdGenerateEvent},
		{"show", "<dataset> [--where expr] [--limit n] | --list", "print a dataset like Spark's show()", cmdShow},
		{"build", "[LogicalId...] [--force]", "build functions into .aws-sam/build, like sam build", cmdBuild},
		{"loadgen", "[--url U | --kafka] [--count n | --duration d] [flags]", "play a population of players against the API", cmdLoadgen},
		{"sql", "[\"query\"] [--format table|csv|json|jsonl|parquet] [--out FILE] | --tables | --schema NAME", "SQL over every dataset (DuckDB); no query: an interactive prompt, or SQL from stdin", cmdSQL},
		{"report", "[NAME [--since YYYY-MM-DD] [--format F] [--out FILE] | NAME --sql]", "the studio's standard reports; no name lists them", cmdReport},
		{"ddl", "[--dialect hive|trino|spark] [--root hdfs://nn:8020/dir]", "CREATE TABLE statements for the datasets, for Hive, Trino or Spark on a cluster", cmdDDL},
	}
}

// Main runs a command and returns the exit code.
func Main(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(os.Stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err := c.run(ctx, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "questlog %s: %v\n", c.name, err)
				var exit exitCode
				if errors.As(err, &exit) {
					return int(exit)
				}
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "questlog: unknown command %q\n\n", args[0])
	usage(os.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "questlog: run template.yaml's functions on one machine, as AWS would.")
	fmt.Fprintln(w, "\nUsage: questlog <command> [arguments]   (or: go run ./local <command>)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-15s %s\n  %-15s   %s\n", c.name, c.summary, "", c.args)
	}
	fmt.Fprintln(w, "\n`questlog <command> -h` lists a command's flags.")
}

// exitCode is an error that sets the exit status (a failed invocation).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// common are the flags every command that runs functions shares.
type common struct {
	cfg       emulator.Config
	overrides string
	logLevel  string
}

// register adds the flags; logLevel is the default of --log-level.
func (c *common) register(fs *flag.FlagSet, logLevel string) {
	fs.StringVar(&c.cfg.Template, "template", "", "the SAM template (default template.yaml)")
	fs.StringVar(&c.overrides, "parameter-overrides", "", "template parameters, 'Key=Value Key2=Value2' as in SAM CLI; KafkaBootstrapServers=host:port uses a real Kafka, DatasetRoot=file:///dir or hdfs://nn:8020/dir another store")
	fs.StringVar(&c.cfg.EnvVarsFile, "env-vars", "", "a JSON file of environment variables, as SAM CLI's --env-vars")
	fs.StringVar(&c.cfg.DataDir, "data-dir", "", "where the embedded Kafka and HDFS keep their data (default .local)")
	fs.IntVar(&c.cfg.Partitions, "partitions", 3, "partitions of the topics the emulator creates")
	fs.BoolVar(&c.cfg.SkipBuild, "skip-build", false, "run the bootstraps already in .aws-sam/build")
	fs.StringVar(&c.logLevel, "log-level", logLevel, "the emulator's log level: debug, info, warn, error")
}

// finish parses what the flags left as strings.
func (c *common) finish() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	c.cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if c.overrides == "" {
		c.overrides = os.Getenv("QUESTLOG_PARAMETER_OVERRIDES")
	}
	if c.overrides != "" {
		o, err := template.ParseParameterOverrides(c.overrides)
		if err != nil {
			return fmt.Errorf("--parameter-overrides: %w", err)
		}
		c.cfg.ParameterOverrides = o
	}
	if kafka := os.Getenv("QUESTLOG_KAFKA_BOOTSTRAP_SERVERS"); kafka != "" {
		if c.cfg.ParameterOverrides == nil {
			c.cfg.ParameterOverrides = map[string]string{}
		}
		if _, set := c.cfg.ParameterOverrides[emulator.ParamKafka]; !set {
			c.cfg.ParameterOverrides[emulator.ParamKafka] = kafka
		}
	}
	return nil
}

// parse parses a command's flags, allowing flags after positional
// arguments (questlog invoke Fn -e x.json).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// serveUntilDone runs an emulator until ctx ends (Ctrl-C), then drains it.
func serveUntilDone(ctx context.Context, c *common, serve emulator.Serve) error {
	e, err := emulator.Start(ctx, c.cfg, serve, true)
	if err != nil {
		return err
	}
	printBanner(e)
	go prepareSQLEngine(ctx, c)
	<-ctx.Done()
	c.cfg.Logger.Info("stopping: draining in-flight invocations and committing offsets (Ctrl-C again to force)")
	drain, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e.Close(drain)
}

func printBanner(e *emulator.Emulator) {
	var b strings.Builder
	b.WriteString("\nquestlog is running\n")
	if e.APIURL != "" {
		fmt.Fprintf(&b, "  API          %s   (try: curl %s/purchase_a_sword/divya)\n", e.APIURL, e.APIURL)
	}
	if e.LambdaURL != "" {
		fmt.Fprintf(&b, "  Lambda API   %s   (aws lambda invoke --endpoint-url %s --function-name <LogicalId> out.json)\n", e.LambdaURL, e.LambdaURL)
	}
	fmt.Fprintf(&b, "  Kafka        %s   (try: kcat -C -b %s -t game-events -o beginning -e)\n", strings.Join(e.Brokers, ","), strings.Join(e.Brokers, ","))
	fmt.Fprintf(&b, "  datasets     %s   (try: go run ./local show extracted_events)\n", e.DatasetRoot)
	b.WriteString("Ctrl-C stops it.\n")
	fmt.Fprint(os.Stderr, b.String())
}

func cmdStart(ctx context.Context, args []string) error {
	return startCommand(ctx, "start", args, emulator.Serve{API: true, Lambda: true, Mappings: true})
}

func cmdStartAPI(ctx context.Context, args []string) error {
	return startCommand(ctx, "start-api", args, emulator.Serve{API: true})
}

func cmdStartLambda(ctx context.Context, args []string) error {
	return startCommand(ctx, "start-lambda", args, emulator.Serve{Lambda: true})
}

func startCommand(ctx context.Context, name string, args []string, serve emulator.Serve) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var c common
	c.register(fs, "info")
	host := fs.String("host", "127.0.0.1", "the address to listen on")
	port := fs.Int("port", 3000, "API Gateway's port")
	lambdaPort := fs.Int("lambda-port", 3001, "the Lambda Invoke API's port")
	kafkaPort := fs.Int("kafka-port", 9092, "the embedded Kafka broker's port")
	hdfsPort := fs.Int("hdfs-port", 8020, "the embedded HDFS NameNode's port")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := c.finish(); err != nil {
		return err
	}
	c.cfg.APIAddr = fmt.Sprintf("%s:%d", *host, *port)
	c.cfg.LambdaAddr = fmt.Sprintf("%s:%d", *host, *lambdaPort)
	c.cfg.KafkaAddr = fmt.Sprintf("%s:%d", *host, *kafkaPort)
	c.cfg.HDFSAddr = fmt.Sprintf("%s:%d", *host, *hdfsPort)
	return serveUntilDone(ctx, &c, serve)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
