//go:build !unix

package build

import (
	"context"
	"os/exec"
	"time"
)

// runCmd runs cmd and kills it when ctx is done. Without process groups,
// make's children may outlive it.
func runCmd(ctx context.Context, cmd *exec.Cmd) error {
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
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	return cmd.Wait()
}
