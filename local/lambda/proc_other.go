//go:build !linux

package lambda

import (
	"os"
	"syscall"
)

// On other systems the function process is not grouped and not tied to the
// emulator's lifetime, and memory is not measured: functions built for
// provided.al2023 are Linux binaries anyway.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	if sig == syscall.SIGKILL {
		return p.Kill()
	}
	_ = p.Signal(sig)
	return nil
}

func waitExited(int) error { return nil }

type memoryProbe struct{}

func openMemoryProbe(int) *memoryProbe { return nil }
func (*memoryProbe) peakKB() int64     { return 0 }
func (*memoryProbe) close()            {}
func maxRSSKB(*os.ProcessState) int64  { return 0 }

// pipeBytes is not measured here; platform lines may then precede output
// that is still in the pipe.
func pipeBytes(uintptr) int { return 0 }
