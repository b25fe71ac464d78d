// Package fnenv is the start-up of every questlog function: configuration
// from environment variables (as template.yaml sets them), a logger, and
// failing init with a message that says what to fix.
package fnenv

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Env reads configuration variables and collects what is missing, so init
// reports every problem at once.
type Env struct {
	missing []string
}

// Required returns the variable's value, noting it if unset.
func (e *Env) Required(name string) string {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		e.missing = append(e.missing, name)
	}
	return v
}

// Optional returns the variable's value, or def if unset.
func (e *Env) Optional(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Err reports the missing variables.
func (e *Env) Err() error {
	if len(e.missing) == 0 {
		return nil
	}
	return fmt.Errorf("environment variables %s must be set (template.yaml sets them for every function)", strings.Join(e.missing, ", "))
}

// Logger logs through Lambda's structured log handler, which honours the
// function's LoggingConfig (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL) and
// adds the request id.
func Logger() *slog.Logger {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	return log
}

// Fatal ends a failed init. Lambda reports the exit as Runtime.ExitError and
// the message is in the function's log.
func Fatal(log *slog.Logger, what string, err error) {
	log.Error("init failed: "+what, "err", err)
	os.Exit(1)
}
