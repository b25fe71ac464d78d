package runtimeapi

import "errors"

// ErrNotAllowed is returned when the runtime makes a call that its current
// state does not allow. The HTTP layer answers it with 403.
var ErrNotAllowed = errors.New("state transition is not allowed")

// State names, as reported by Server.State.
const (
	StateStarted   = "Started"   // process started, no GET /next yet (init phase)
	StateReady     = "Ready"     // runtime is waiting in GET /next
	StateRunning   = "Running"   // an invocation was handed to the runtime
	StateResponded = "Responded" // the runtime answered; waiting for its next GET /next
	StateInitError = "InitError" // the runtime reported an init error and should exit
)

// state is one state of the runtime. Each method is a transition; it returns
// the state to move to, or ErrNotAllowed. Methods never mutate anything, so a
// caller can validate a transition first and apply it later.
type state interface {
	name() string
	// next: the runtime asks for an invocation (GET /next).
	next() (state, error)
	// invoke: the platform hands the pending invocation to the waiting runtime.
	invoke() (state, error)
	// response: the runtime posts a result (POST /invocation/{id}/response).
	response() (state, error)
	// invocationError: the runtime posts a failure (POST /invocation/{id}/error).
	invocationError() (state, error)
	// initError: the runtime reports a failed init (POST /init/error).
	initError() (state, error)
}

// disallowEverything is embedded by every state; a state overrides only the
// transitions it allows.
type disallowEverything struct{}

func (disallowEverything) next() (state, error)            { return nil, ErrNotAllowed }
func (disallowEverything) invoke() (state, error)          { return nil, ErrNotAllowed }
func (disallowEverything) response() (state, error)        { return nil, ErrNotAllowed }
func (disallowEverything) invocationError() (state, error) { return nil, ErrNotAllowed }
func (disallowEverything) initError() (state, error)       { return nil, ErrNotAllowed }

// startedState: the process runs its init code. Its first GET /next ends init.
type startedState struct{ disallowEverything }

func (startedState) name() string              { return StateStarted }
func (startedState) next() (state, error)      { return readyState{}, nil }
func (startedState) initError() (state, error) { return initErrorState{}, nil }

// readyState: the runtime waits in GET /next. A repeated GET /next is allowed
// (a poll whose connection broke may be retried); the Server itself rejects
// two concurrent polls.
type readyState struct{ disallowEverything }

func (readyState) name() string           { return StateReady }
func (readyState) next() (state, error)   { return readyState{}, nil }
func (readyState) invoke() (state, error) { return runningState{}, nil }

// runningState: the runtime works on an invocation and must answer it once.
type runningState struct{ disallowEverything }

func (runningState) name() string                    { return StateRunning }
func (runningState) response() (state, error)        { return respondedState{}, nil }
func (runningState) invocationError() (state, error) { return respondedState{}, nil }

// respondedState: the invocation has its answer; it is complete when the
// runtime asks for the next one.
type respondedState struct{ disallowEverything }

func (respondedState) name() string         { return StateResponded }
func (respondedState) next() (state, error) { return readyState{}, nil }

// initErrorState: the runtime reported that it cannot start. Nothing else is
// allowed; the platform tears the environment down.
type initErrorState struct{ disallowEverything }

func (initErrorState) name() string { return StateInitError }
