// Package emulator runs questlog's template on one machine the way AWS
// would: it builds the functions, starts the embedded Kafka broker and HDFS
// (unless the template's parameters point at real clusters), runs the
// functions' bootstrap binaries behind the Lambda Runtime API, serves API
// Gateway and the Lambda Invoke API, and runs the Kafka event-source
// mappings. The commands of local/ are thin layers over it.
package emulator

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/questlog/questlog/local/apigw"
)

// Config configures an Emulator. The zero value of every field is a
// documented default.
type Config struct {
	// ProjectDir holds template.yaml and the Makefile. Default: ".".
	ProjectDir string
	// Template is the template's path. Default: <ProjectDir>/template.yaml.
	Template string
	// ParameterOverrides are SAM's --parameter-overrides. Overriding
	// KafkaBootstrapServers uses that cluster instead of the embedded broker;
	// overriding DatasetRoot uses that store instead of the embedded HDFS.
	ParameterOverrides map[string]string
	// EnvVarsFile is SAM's --env-vars JSON file.
	EnvVarsFile string
	// DataDir holds the embedded services' state and the lock that says
	// which process owns them. Default: <ProjectDir>/.local.
	DataDir string

	// Listen addresses. Port 0 picks a free port (tests).
	APIAddr    string // API Gateway. Default: 127.0.0.1:3000
	LambdaAddr string // Lambda Invoke API (start-lambda). Default: 127.0.0.1:3001
	KafkaAddr  string // embedded Kafka broker. Default: 127.0.0.1:9092
	HDFSAddr   string // embedded HDFS NameNode. Default: 127.0.0.1:8020

	// APILimits bound the time and memory a client holds of the emulated
	// API Gateway. Default: apigw's (30 s to read a request, 10 KiB of
	// headers, …).
	APILimits apigw.Limits

	// Partitions of the topics the emulator creates. Default: 3.
	Partitions int
	// SkipBuild runs the bootstrap binaries already in .aws-sam/build.
	SkipBuild bool
	// Functions limits which functions run (logical IDs); empty runs all.
	Functions []string

	// Logger receives the emulator's own logs. Default: slog.Default().
	Logger *slog.Logger
	// FunctionLogs receives the functions' output and START/END/REPORT
	// lines. Default: os.Stderr.
	FunctionLogs io.Writer
	// LookupEnv is the shell environment, which overrides functions'
	// declared variables as in SAM CLI. Default: os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.withDefaults()
	return c
}

func (c *Config) withDefaults() {
	if c.ProjectDir == "" {
		c.ProjectDir = "."
	}
	if abs, err := filepath.Abs(c.ProjectDir); err == nil {
		c.ProjectDir = abs
	}
	if c.Template == "" {
		c.Template = filepath.Join(c.ProjectDir, "template.yaml")
	}
	if c.DataDir == "" {
		c.DataDir = filepath.Join(c.ProjectDir, ".local")
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	if c.APIAddr == "" {
		c.APIAddr = "127.0.0.1:3000"
	}
	if c.LambdaAddr == "" {
		c.LambdaAddr = "127.0.0.1:3001"
	}
	if c.KafkaAddr == "" {
		c.KafkaAddr = "127.0.0.1:9092"
	}
	if c.HDFSAddr == "" {
		c.HDFSAddr = "127.0.0.1:8020"
	}
	if c.Partitions <= 0 {
		c.Partitions = 3
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.FunctionLogs == nil {
		c.FunctionLogs = os.Stderr
	}
	if c.LookupEnv == nil {
		c.LookupEnv = os.LookupEnv
	}
}
