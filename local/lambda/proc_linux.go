//go:build linux

package lambda

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the function process in its own process group (so a kill
// reaches anything it spawned) and has the kernel SIGKILL it if the emulator
// dies. Pdeathsig fires when the OS thread that started the child exits; the
// Go runtime only retires threads whose goroutine exits while locked to them,
// which this package never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid. Callers only do so
// before the leader is reaped, so the group id cannot have been reused.
func signalGroup(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// waitExited blocks until pid has exited but leaves it unreaped (a zombie),
// so the rest of its process group can still be killed safely.
func waitExited(pid int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

// memoryProbe reads the peak resident set size of a process.
type memoryProbe struct {
	f *os.File

	mu     sync.Mutex
	buf    []byte
	kb     int64     // the last value read
	readAt time.Time // when
}

// peakRefresh is how often peakKB reads the kernel's figure again. The
// kernel builds the whole of /proc/<pid>/status for it (about 20 µs, a tenth
// of the emulator's CPU time per API request); under load a REPORT line's
// Max Memory Used may lag the true peak by this much.
const peakRefresh = 100 * time.Millisecond

func openMemoryProbe(pid int) *memoryProbe {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	return &memoryProbe{f: f, buf: make([]byte, 4096)}
}

var vmHWM = []byte("VmHWM:")

// peakKB returns VmHWM in kB, read at most peakRefresh ago, or 0 when
// unknown (e.g. the process exited before the first read).
func (p *memoryProbe) peakKB() int64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.kb > 0 && time.Since(p.readAt) < peakRefresh {
		return p.kb
	}
	if kb := p.read(); kb > 0 {
		p.kb, p.readAt = kb, time.Now()
	}
	return p.kb
}

// read parses VmHWM. Re-reading the open file from offset 0 regenerates
// it, which saves an open and close per read.
func (p *memoryProbe) read() int64 {
	n, err := p.f.ReadAt(p.buf, 0)
	if n == 0 && err != nil {
		return 0
	}
	data := p.buf[:n]
	i := bytes.Index(data, vmHWM)
	if i < 0 {
		return 0
	}
	data = data[i+len(vmHWM):]
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	fields := bytes.Fields(data)
	if len(fields) == 0 {
		return 0
	}
	kb, err := strconv.ParseInt(string(fields[0]), 10, 64)
	if err != nil {
		return 0
	}
	return kb
}

func (p *memoryProbe) close() {
	if p != nil {
		_ = p.f.Close()
	}
}

// maxRSSKB returns the peak RSS of an exited process from its rusage.
func maxRSSKB(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// pipeBytes returns the number of unread bytes in a pipe (FIONREAD, which
// x/sys/unix names TIOCINQ on Linux).
func pipeBytes(fd uintptr) int {
	n, err := unix.IoctlGetInt(int(fd), unix.TIOCINQ) // TIOCINQ is FIONREAD
	if err != nil {
		return 0
	}
	return n
}
