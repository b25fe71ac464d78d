package runtimeapi

import (
	"errors"
	"testing"
)

// TestStates walks the state machine one transition at a time.
func TestStates(t *testing.T) {
	type transition func(state) (state, error)
	next, invoke := state.next, state.invoke
	response, invErr, initErr := state.response, state.invocationError, state.initError
	steps := []struct {
		comment string
		from    state
		do      transition
		want    string // "" = not allowed
	}{
		{"Started -> Ready: first poll ends init", startedState{}, next, StateReady},
		{"Started -> InitError", startedState{}, initErr, StateInitError},
		{"Started: no invocation to answer", startedState{}, response, ""},
		{"Started: no invocation to fail", startedState{}, invErr, ""},
		{"Started: hand-off needs a poll", startedState{}, invoke, ""},
		{"Ready -> Running: hand-off", readyState{}, invoke, StateRunning},
		{"Ready -> Ready: a broken poll is retried", readyState{}, next, StateReady},
		{"Ready: nothing to answer", readyState{}, response, ""},
		{"Ready: init is over", readyState{}, initErr, ""},
		{"Running -> Responded: response", runningState{}, response, StateResponded},
		{"Running -> Responded: error", runningState{}, invErr, StateResponded},
		{"Running: poll without an answer", runningState{}, next, ""},
		{"Running: one invocation at a time", runningState{}, invoke, ""},
		{"Running: init is over", runningState{}, initErr, ""},
		{"Responded -> Ready: next poll completes the invocation", respondedState{}, next, StateReady},
		{"Responded: answered twice", respondedState{}, response, ""},
		{"Responded: failed after answering", respondedState{}, invErr, ""},
		{"InitError: no poll", initErrorState{}, next, ""},
		{"InitError: no second report", initErrorState{}, initErr, ""},
	}
	for _, s := range steps {
		got, err := s.do(s.from)
		switch {
		case s.want == "" && !errors.Is(err, ErrNotAllowed):
			t.Errorf("%s: got %v, %v; want ErrNotAllowed", s.comment, got, err)
		case s.want != "" && (err != nil || got.name() != s.want):
			t.Errorf("%s: got %v, %v; want %s", s.comment, got, err, s.want)
		}
	}
}
