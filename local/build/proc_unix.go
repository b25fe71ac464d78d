//go:build unix

package build

import (
	"context"
	"os/exec"
	"syscall"
	"time"
)

// runCmd runs cmd in its own process group and, when ctx is done, kills
// the whole group: make's children (go build, the compiler) go too.
func runCmd(ctx context.Context, cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild that outlives make could hold the output pipe open.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		case <-done:
		}
	}()
	return cmd.Wait()
}
