package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/questlog/questlog/local/console"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/netns"
)

func init() {
	register(Command{
		Name: "start", Args: "[flags]",
		Summary: "run everything: API on :3000, Kafka on :9092, HDFS on :8020, the Kafka-triggered jobs",
		Examples: []string{
			"questlog start",
			"questlog start --port 8080 --log-level debug",
			`questlog start --parameter-overrides "KafkaBootstrapServers=broker1:9092 DatasetRoot=hdfs://namenode:8020/tmp"`,
		},
		Setup: startSetup(emulator.Serve{API: true, Lambda: true, Mappings: true, Console: true}),
	})
	register(Command{
		Name: "start-api", Args: "[flags]",
		Summary: "run the API (API Gateway + the route functions), like sam local start-api",
		Examples: []string{
			"questlog start-api",
			"curl localhost:3000/purchase_a_sword/divya",
		},
		Setup: startSetup(emulator.Serve{API: true}),
	})
	register(Command{
		Name: "start-lambda", Args: "[flags]",
		Summary: "serve the Lambda Invoke API on :3001, like sam local start-lambda",
		Examples: []string{
			"questlog start-lambda",
			"aws lambda invoke --endpoint-url http://127.0.0.1:3001 --function-name ExtractFunction --payload fileb://events/kafka-event.json out.json",
		},
		Setup: startSetup(emulator.Serve{Lambda: true}),
	})
}

// startSetup is the Setup of the start commands, which differ in what they
// serve.
func startSetup(serve emulator.Serve) func(fs *flag.FlagSet) Run {
	return func(fs *flag.FlagSet) Run {
		var c common
		c.register(fs, "info")
		host := fs.String("host", "127.0.0.1", "the address to listen on (0.0.0.0: every interface)")
		fs.StringVar(&c.cfg.AdvertiseHost, "advertise-host", "", "the address Kafka and HDFS give clients and functions, reachable from containers or other machines (default: --host, 127.0.0.1 for 0.0.0.0)")
		isolate := fs.Bool("isolate-network", false, "run the functions in a network namespace of their own, where 127.0.0.1 is not this machine, as in SAM CLI's containers and on AWS (Linux, root)")
		port := fs.Int("port", 3000, "API Gateway's port")
		lambdaPort := fs.Int("lambda-port", 3001, "the Lambda Invoke API's port")
		kafkaPort := fs.Int("kafka-port", 9092, "the embedded Kafka broker's port")
		hdfsPort := fs.Int("hdfs-port", 8020, "the embedded HDFS NameNode's port")
		consolePort := fs.Int("console-port", console.DefaultPort, "the web console's port (start)")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if err := c.finish(); err != nil {
				return err
			}
			c.cfg.APIAddr = fmt.Sprintf("%s:%d", *host, *port)
			c.cfg.LambdaAddr = fmt.Sprintf("%s:%d", *host, *lambdaPort)
			c.cfg.KafkaAddr = fmt.Sprintf("%s:%d", *host, *kafkaPort)
			c.cfg.HDFSAddr = fmt.Sprintf("%s:%d", *host, *hdfsPort)
			c.cfg.ConsoleAddr = fmt.Sprintf("%s:%d", *host, *consolePort)
			if *isolate {
				c.cfg.Isolation = &netns.Options{}
			}
			return serveUntilDone(ctx, &c, serve)
		}
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
	c.cfg.Logger.Info("stopping: draining in-flight invocations and committing offsets")
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
	if e.ConsoleURL != "" {
		fmt.Fprintf(&b, "  console      %s   (the pipeline live, functions, topics, datasets, SQL)\n", e.ConsoleURL)
	}
	if e.LambdaURL != "" {
		fmt.Fprintf(&b, "  Lambda API   %s   (aws lambda invoke --endpoint-url %s --function-name <LogicalId> out.json)\n", e.LambdaURL, e.LambdaURL)
	}
	fmt.Fprintf(&b, "  Kafka        %s   (try: kcat -C -b %s -t game-events -o beginning -e)\n", strings.Join(e.Brokers, ","), strings.Join(e.Brokers, ","))
	fmt.Fprintf(&b, "  datasets     %s   (try: questlog show extracted_events)\n", e.DatasetRoot)
	b.WriteString("Ctrl-C stops it.\n")
	fmt.Fprint(os.Stderr, b.String())
}
