//go:build pprof

package fnenv

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// Built with the pprof tag (make bench PROFILE=dir builds the functions
// with FUNCTION_TAGS=,pprof), a function records a CPU profile of its
// whole life in its working directory, <function>-<pid>.cpu.pprof, and
// ends it when the platform stops it (SIGTERM).
func init() {
	name := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	if name == "" {
		return
	}
	f, err := os.Create(fmt.Sprintf("%s-%d.cpu.pprof", name, os.Getpid()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprof:", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "pprof:", err)
		return
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go func() {
		<-stop
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
	}()
}
