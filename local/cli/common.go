package cli

import (
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/template"
)

// common are the flags every command that runs functions or reads the
// datasets shares. In Setup: var c common; c.register(fs, "warn"); in the
// body, c.finish() before using c.cfg.
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

// finish parses what the flags left as strings. Its errors are usage
// errors.
func (c *common) finish() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return usagef("--log-level: %v", err)
	}
	c.cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if c.overrides == "" {
		c.overrides = os.Getenv("QUESTLOG_PARAMETER_OVERRIDES")
	}
	if c.overrides != "" {
		o, err := template.ParseParameterOverrides(c.overrides)
		if err != nil {
			return usagef("--parameter-overrides: %v", err)
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

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
