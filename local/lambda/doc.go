// Package lambda is the emulator's Lambda runtime: it runs each function's
// real bootstrap binary (aws-lambda-go, provided.al2023, built with
// -tags lambda.norpc) the way Lambda does, and implements invoke.Invoker.
//
// # Execution environments
//
// An execution environment is one bootstrap process plus its own Runtime API
// server (package runtimeapi) on 127.0.0.1 with a random port, bound before
// the process starts and passed as AWS_LAMBDA_RUNTIME_API. With
// Options.Network (a network namespace, see local/netns) both live in that
// network: the server on its loopback, as Lambda's Runtime API is local to
// the sandbox, so functions reach nothing of the host at 127.0.0.1. The server is
// persistent for the life of the process, and invocations reach its waiting
// GET /next through a channel, so a warm invocation costs two loopback HTTP
// exchanges and no goroutine or server churn.
//
// An environment runs one invocation at a time. Each function has a pool
// that reuses the most recently used idle environment, starts a new one when
// all are busy, up to Function.MaxConcurrency (DefaultMaxConcurrency, 16,
// when the template sets no ReservedConcurrentExecutions), and retires
// environments idle for Options.IdleTimeout (DefaultIdleTimeout, 10 min).
//
// When every environment is busy and the limit is reached, a request waits
// for a free environment, first come first served, until its context is
// done; it then fails with invoke.ErrThrottled. This is a deliberate
// difference from AWS, which throttles at once with 429
// TooManyRequestsException: locally the limit protects the machine, it is
// not a quota, so queueing is more useful. A caller that wants AWS's
// behaviour can pass a context that is already near its deadline.
//
// # Lifecycle
//
// Init lasts from process start to the runtime's first GET /next and is
// limited by Options.InitTimeout (10 s). The function timeout starts when an
// invocation is handed to the runtime; Lambda-Runtime-Deadline-Ms is that
// moment plus Function.Timeout. At the deadline the process group is
// SIGKILLed and the environment discarded; the caller gets
// Sandbox.Timedout ("<ts> <id> Task timed out after 3.00 seconds").
//
// A process that exits during init or during an invocation fails it with
// Runtime.ExitError ("RequestId: <id> Error: Runtime exited with error: exit
// status 1"). An error posted to /error is returned as is (errorType from the
// JSON body, the body as Payload) and the environment is reused, except
// after a panic, where aws-lambda-go exits on purpose: the next invocation
// starts a new process. A response over 6 MB is refused with 413 and the
// caller gets Function.ResponseSizeTooLarge; aws-lambda-go then exits. A
// bootstrap that cannot be executed gives Runtime.InvalidEntrypoint.
//
// Invoke returns as soon as the runtime has answered; the invocation ends,
// and END and REPORT are written, when the runtime polls GET /next again.
// A caller that invokes again at once waits for that environment rather than
// starting another. Each invocation gets a UUID request id, the ARN
// arn:aws:lambda:<region>:123456789012:function:<name>, the caller's client
// context (decoded JSON) and trace header, or a generated unsampled trace
// header, as Lambda always passes one.
//
// # Logs
//
// Function output and platform lines go to Options.LogOutput, one Write per
// line, each prefixed with "<function> | ". A process's stdout and stderr
// share one pipe; platform lines wait until the output the function wrote
// before its Runtime API call has been copied, so lines appear in the order
// they happened. Platform lines are START, END and REPORT (tab
// separated: Duration with two decimals, Billed Duration rounded up and
// including Init Duration on a cold start as for provided.* runtimes, Memory
// Size, Max Memory Used from VmHWM, Init Duration on a cold start,
// "Status: timeout" or "Status: error\tError Type: …" for platform
// failures). Platform events (environment started, initialized, killed,
// reaped, exited) go to Options.Logger.
//
// # Environment variables
//
// A process gets only Lambda's variables (AWS_LAMBDA_FUNCTION_NAME,
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_VERSION=$LATEST,
// AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, _HANDLER,
// AWS_REGION, AWS_DEFAULT_REGION, AWS_LAMBDA_INITIALIZATION_TYPE=on-demand,
// LAMBDA_TASK_ROOT and LAMBDA_RUNTIME_DIR set to the bootstrap's directory,
// TZ=:UTC, LANG, PATH, AWS_LAMBDA_LOG_FORMAT/LEVEL when configured), the AWS
// credentials of the host (or dummies), and Function.Env. Nothing else of the
// host environment leaks in; in particular _LAMBDA_SERVER_PORT and
// AWS_LAMBDA_MAX_CONCURRENCY are never set.
//
// # Shutdown
//
// Close refuses new invocations (ErrClosed), fails requests still queued for
// an environment, waits for invocations that have one until its context is
// done (including the runtime's next poll, which ends an answered invocation
// with its END and REPORT lines), then sends SIGTERM to every process group and SIGKILL after
// Options.ShutdownGrace. Processes are started with Pdeathsig SIGKILL, so
// they also die if the emulator itself is killed.
//
// # Gaps
//
// Not emulated: memory limits and CPU scaling, the Extensions, Telemetry and
// Logs APIs, response streaming to the caller (responses are buffered),
// provisioned concurrency and SnapStart, the "suppressed init" retry after an
// init timeout, architecture (arm64 binaries need binfmt on an x86 host),
// asynchronous invocation (256 KB limit, retries), the 4 KB limit on
// environment variables, INIT_START lines, Cognito identity and tenant ids.
package lambda
