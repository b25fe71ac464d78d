package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// interrupted is the cause of a context cancelled by a signal.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// interruptible returns a context that the first SIGINT or SIGTERM cancels,
// so the command drains (finishes in-flight invocations, commits offsets).
// A second signal exits the process at once with 128+signal: the function
// processes die with it (Pdeathsig). stop stops listening.
func interruptible(stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "\nquestlog: %v: finishing what is in flight (press Ctrl-C again to stop at once)\n", sig)
			cancel(interrupted{sig})
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "\nquestlog: %v again: stopping now\n", sig)
			os.Exit(exitStatus(sig))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interruptedBy reports the signal that cancelled ctx, if one did.
func interruptedBy(ctx context.Context) (os.Signal, bool) {
	var i interrupted
	if errors.As(context.Cause(ctx), &i) {
		return i.sig, true
	}
	return nil, false
}

// exitStatus is the shell's status for a process a signal stopped.
func exitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
