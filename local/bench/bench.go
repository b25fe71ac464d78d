// Package bench holds what questlog's benchmarks share: CPU accounting per
// process (steadier than wall time on a shared machine), driving wrk, and
// the summary `make bench` prints (see cmd/benchreport).
package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SelfCPU is the CPU time (user + system) this process has used.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// ProcCPU is the CPU time (user + system) process pid has used, 0 if it is
// gone.
func ProcCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after it. utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(user+sys) * clockTick
}

// ProcsCPU sums ProcCPU over pids.
func ProcsCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		total += ProcCPU(pid)
	}
	return total
}

// WrkResult is one wrk run.
type WrkResult struct {
	Requests  int
	PerSecond float64
	P50, P99  time.Duration
	CPU       time.Duration // wrk's own CPU time
}

// Wrk runs Debian's wrk (2 threads, --latency) against url.
func Wrk(url string, connections int, d time.Duration) (WrkResult, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return WrkResult{}, errors.New("wrk is not installed: apt-get install wrk")
	}
	cmd := exec.Command("wrk", "-t", "2", "-c", strconv.Itoa(connections), "-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second)/time.Second))), "--latency", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(out, cmd.ProcessState)
}

var (
	wrkFailed   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkErrors   = regexp.MustCompile(`Socket errors: .*`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkLatency  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
)

func parseWrk(out []byte, ps *os.ProcessState) (WrkResult, error) {
	if m := wrkFailed.FindSubmatch(out); m != nil {
		return WrkResult{}, fmt.Errorf("wrk saw %s failed responses:\n%s", m[1], out)
	}
	if m := wrkErrors.Find(out); m != nil {
		return WrkResult{}, fmt.Errorf("wrk: %s:\n%s", m, out)
	}
	var r WrkResult
	m := wrkRate.FindSubmatch(out)
	n := wrkRequests.FindSubmatch(out)
	if m == nil || n == nil {
		return r, fmt.Errorf("no rate in wrk's output:\n%s", out)
	}
	r.PerSecond, _ = strconv.ParseFloat(string(m[1]), 64)
	r.Requests, _ = strconv.Atoi(string(n[1]))
	for _, l := range wrkLatency.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(l[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(l[3])]
		d := time.Duration(v * float64(unit))
		if string(l[1]) == "50" {
			r.P50 = d
		} else {
			r.P99 = d
		}
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return r, nil
}

// PerOp is d divided by n, in microseconds.
func PerOp(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(n)
}
