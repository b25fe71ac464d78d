package lambda

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"time"
)

// Defaults applied to a Function's zero fields.
const (
	DefaultMemoryMB       = 128
	DefaultTimeout        = 3 * time.Second
	DefaultMaxConcurrency = 16
	DefaultHandler        = "bootstrap"
)

// Function is the configuration of one function, usually resolved from an
// AWS::Serverless::Function in template.yaml.
type Function struct {
	// Name is the logical ID (or FunctionName); it is the name Invoke looks
	// up, AWS_LAMBDA_FUNCTION_NAME, and the prefix of the function's log lines.
	Name string
	// Bootstrap is the path of the function's bootstrap executable. Its
	// directory is the working directory and LAMBDA_TASK_ROOT.
	Bootstrap string
	// Handler is the template's Handler, exported as _HANDLER (Go ignores it).
	// Default: "bootstrap".
	Handler string
	// Env holds the function's resolved environment variables. Lambda's
	// reserved names (AWS_REGION, AWS_LAMBDA_*, _HANDLER, …) are rejected by
	// New, as Lambda rejects them at deploy time.
	Env map[string]string
	// MemoryMB is the configured memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE and
	// "Memory Size" in REPORT lines); it is not enforced. Default: 128.
	MemoryMB int
	// Timeout is the function timeout; at expiry the process is killed.
	// Default: 3s.
	Timeout time.Duration
	// MaxConcurrency caps the number of execution environments (processes)
	// of this function: the template's ReservedConcurrentExecutions when set.
	// Values <= 0 mean the default. Default: 16.
	MaxConcurrency int
	// LogFormat and LogLevel are the template's LoggingConfig LogFormat
	// ("Text" or "JSON") and ApplicationLogLevel, exported as
	// AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL when set.
	LogFormat, LogLevel string
	// Architecture is "x86_64" or "arm64" (template Architectures). It is
	// not emulated: New logs a warning when it differs from the host's.
	Architecture string
}

func (f *Function) memoryMB() int {
	if f.MemoryMB > 0 {
		return f.MemoryMB
	}
	return DefaultMemoryMB
}

func (f *Function) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultTimeout
}

func (f *Function) maxConcurrency() int {
	if f.MaxConcurrency > 0 {
		return f.MaxConcurrency
	}
	return DefaultMaxConcurrency
}

func (f *Function) handler() string {
	if f.Handler != "" {
		return f.Handler
	}
	return DefaultHandler
}

var envKeyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// validate checks f and returns a copy with an absolute Bootstrap path.
func (f Function) validate() (Function, error) {
	if f.Name == "" {
		return f, errors.New("function without a name")
	}
	if f.Bootstrap == "" {
		return f, fmt.Errorf("function %s: no bootstrap path", f.Name)
	}
	abs, err := filepath.Abs(f.Bootstrap)
	if err != nil {
		return f, fmt.Errorf("function %s: bootstrap path: %w", f.Name, err)
	}
	f.Bootstrap = abs
	for k := range f.Env {
		if !envKeyPattern.MatchString(k) {
			return f, fmt.Errorf("function %s: environment variable %q: invalid name", f.Name, k)
		}
		if reservedEnv(k) {
			return f, fmt.Errorf("function %s: environment variable %q: reserved by lambda", f.Name, k)
		}
	}
	return f, nil
}

// hostArchitecture maps GOARCH to Lambda's architecture names.
func hostArchitecture() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	default:
		return runtime.GOARCH
	}
}
