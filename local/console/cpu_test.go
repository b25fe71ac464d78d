package console_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// every Linux the project runs on).
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (user + system) of the processes in /proc by
// PID, with their parents, read at one moment. A process's time includes
// its ended children's, so that a renderer ending between two readings
// does not take its time out of the sum.
type procCPU map[int]struct {
	parent int
	cpu    time.Duration
}

func readProcCPU() procCPU {
	out := procCPU{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		// The command name may hold spaces: the fields follow its ")".
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(s[:i])[0])
		f := strings.Fields(s[i+1:])
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var ticks int64
		for _, field := range f[11:15] { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(field, 10, 64)
			ticks += n
		}
		out[pid] = struct {
			parent int
			cpu    time.Duration
		}{ppid, time.Duration(ticks) * clockTick}
	}
	return out
}

// tree is the CPU time of root and every process below it, except the
// subtrees of the PIDs in skip.
func (p procCPU) tree(root int, skip ...int) time.Duration {
	children := map[int][]int{}
	for pid, e := range p {
		children[e.parent] = append(children[e.parent], pid)
	}
	var sum time.Duration
	var walk func(int)
	walk = func(pid int) {
		for _, s := range skip {
			if pid == s {
				return
			}
		}
		sum += p[pid].cpu
		for _, c := range children[pid] {
			walk(c)
		}
	}
	walk(root)
	return sum
}
