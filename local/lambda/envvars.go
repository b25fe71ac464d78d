package lambda

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Values of the environment that do not depend on configuration.
const (
	functionVersion    = "$LATEST"
	initializationType = "on-demand"
	lambdaPath         = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
	lambdaLang         = "en_US.UTF-8"
	lambdaTZ           = ":UTC"

	// Dummy credentials exported when the host has none, so AWS SDKs in the
	// function find a complete set and fail only when they call AWS.
	dummyAccessKeyID     = "AKIALOCALEMULATOR000"
	dummySecretAccessKey = "local-emulator-secret-access-key"
	dummySessionToken    = "local-emulator-session-token"
)

// reservedEnvNames are set by Lambda and cannot be set by a function
// (configuration-envvars), plus the two variables that change how
// aws-lambda-go talks to the platform and must never reach a function.
var reservedEnvNames = map[string]bool{
	"_HANDLER":                        true,
	"_X_AMZN_TRACE_ID":                true,
	"AWS_DEFAULT_REGION":              true,
	"AWS_REGION":                      true,
	"AWS_EXECUTION_ENV":               true,
	"AWS_LAMBDA_FUNCTION_NAME":        true,
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION":     true,
	"AWS_LAMBDA_INITIALIZATION_TYPE":  true,
	"AWS_LAMBDA_LOG_GROUP_NAME":       true,
	"AWS_LAMBDA_LOG_STREAM_NAME":      true,
	"AWS_ACCESS_KEY":                  true,
	"AWS_ACCESS_KEY_ID":               true,
	"AWS_SECRET_ACCESS_KEY":           true,
	"AWS_SESSION_TOKEN":               true,
	"AWS_LAMBDA_RUNTIME_API":          true,
	"LAMBDA_TASK_ROOT":                true,
	"LAMBDA_RUNTIME_DIR":              true,
	// Legacy go1.x RPC mode: takes precedence over the Runtime API in
	// binaries built without -tags lambda.norpc.
	"_LAMBDA_SERVER_PORT": true,
	// Lambda Managed Instances: makes aws-lambda-go poll /next concurrently.
	"AWS_LAMBDA_MAX_CONCURRENCY": true,
}

func reservedEnv(name string) bool { return reservedEnvNames[name] }

// baseEnv returns the environment shared by every execution environment of
// f, sorted, without AWS_LAMBDA_RUNTIME_API and AWS_LAMBDA_LOG_STREAM_NAME
// (per environment). Nothing else of the host environment is passed on
// except AWS credentials.
func baseEnv(f *Function, region string) []string {
	dir := filepath.Dir(f.Bootstrap)
	vars := map[string]string{
		// Unreserved: the function's Env may override these.
		"PATH": lambdaPath,
		"LANG": lambdaLang,
		"TZ":   lambdaTZ,
	}
	if f.LogFormat != "" {
		vars["AWS_LAMBDA_LOG_FORMAT"] = f.LogFormat
	}
	if f.LogLevel != "" {
		vars["AWS_LAMBDA_LOG_LEVEL"] = f.LogLevel
	}
	for k, v := range f.Env {
		vars[k] = v
	}
	// Reserved: validate rejected them in f.Env.
	vars["AWS_LAMBDA_FUNCTION_NAME"] = f.Name
	vars["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(f.memoryMB())
	vars["AWS_LAMBDA_FUNCTION_VERSION"] = functionVersion
	vars["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + f.Name
	vars["AWS_LAMBDA_INITIALIZATION_TYPE"] = initializationType
	vars["_HANDLER"] = f.handler()
	vars["AWS_REGION"] = region
	vars["AWS_DEFAULT_REGION"] = region
	vars["LAMBDA_TASK_ROOT"] = dir
	vars["LAMBDA_RUNTIME_DIR"] = dir
	if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		vars["AWS_ACCESS_KEY_ID"] = id
		for _, k := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
			if v := os.Getenv(k); v != "" {
				vars[k] = v
			}
		}
	} else {
		vars["AWS_ACCESS_KEY_ID"] = dummyAccessKeyID
		vars["AWS_SECRET_ACCESS_KEY"] = dummySecretAccessKey
		vars["AWS_SESSION_TOKEN"] = dummySessionToken
	}
	env := make([]string, 0, len(vars)+2)
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}
