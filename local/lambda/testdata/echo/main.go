// Command echo returns its input verbatim. Called with {"describe":true} it
// returns what it sees of its environment and invocation context instead.
package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type description struct {
	PID           int                          `json:"pid"`
	RequestID     string                       `json:"requestId"`
	FunctionARN   string                       `json:"functionArn"`
	DeadlineMs    int64                        `json:"deadlineMs"`
	FunctionName  string                       `json:"functionName"`
	MemoryMB      int                          `json:"memoryMB"`
	Version       string                       `json:"version"`
	LogGroup      string                       `json:"logGroup"`
	LogStream     string                       `json:"logStream"`
	ClientContext *lambdacontext.ClientContext `json:"clientContext"`
	TraceID       string                       `json:"traceId"`
	TraceEnv      string                       `json:"traceEnv"`
	Cwd           string                       `json:"cwd"`
	Env           map[string]string            `json:"env"`
}

func handle(ctx context.Context, in json.RawMessage) (any, error) {
	var req struct {
		Describe bool `json:"describe"`
	}
	if json.Unmarshal(in, &req) != nil || !req.Describe {
		return in, nil
	}
	lc, _ := lambdacontext.FromContext(ctx)
	d := description{
		PID:          os.Getpid(),
		FunctionName: lambdacontext.FunctionName,
		MemoryMB:     lambdacontext.MemoryLimitInMB,
		Version:      lambdacontext.FunctionVersion,
		LogGroup:     lambdacontext.LogGroupName,
		LogStream:    lambdacontext.LogStreamName,
		Env:          map[string]string{},
	}
	if lc != nil {
		d.RequestID = lc.AwsRequestID
		d.FunctionARN = lc.InvokedFunctionArn
		d.ClientContext = &lc.ClientContext
	}
	if dl, ok := ctx.Deadline(); ok {
		d.DeadlineMs = dl.UnixMilli()
	}
	d.TraceID, _ = ctx.Value("x-amzn-trace-id").(string)
	d.TraceEnv = os.Getenv("_X_AMZN_TRACE_ID")
	d.Cwd, _ = os.Getwd()
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		d.Env[k] = v
	}
	return d, nil
}

func main() { lambda.Start(handle) }
