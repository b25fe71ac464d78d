package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stack is the whole emulator, `questlog start`, running as a child of this
// process on ports and a data directory of its own. It survives kill -9:
// each incarnation is started on the same ports and data directory.
type stack struct {
	bin, projectDir, dataDir                              string
	apiPort, lambdaPort, kafkaPort, hdfsPort, consolePort int
	out                                                   *logPump
	log                                                   *slog.Logger

	// The addresses the emulator publishes; stable across incarnations.
	apiURL, datasetRoot string
	brokers             []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current incarnation has exited
	killing bool          // this process is stopping the current incarnation
	crashes []string      // incarnations that exited on their own
	lastErr error         // how the last incarnation exited
	peakKB  int64         // the largest peak RSS of an incarnation
	killed  map[int]string
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func newStack(bin, projectDir, dataDir string, out *logPump, log *slog.Logger) (*stack, error) {
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	return &stack{bin: bin, projectDir: projectDir, dataDir: dataDir, out: out, log: log,
		apiPort: ports[0], lambdaPort: ports[1], kafkaPort: ports[2], hdfsPort: ports[3], consolePort: ports[4], killed: map[int]string{}}, nil
}

// start runs a new incarnation and waits until it has published its
// addresses. The first one builds the functions; later ones reuse them.
func (s *stack) start(ctx context.Context, build bool, within time.Duration) error {
	state := filepath.Join(s.dataDir, "emulator.json")
	os.Remove(state) // a killed incarnation leaves its own behind
	args := []string{"start", "--data-dir", s.dataDir, "--log-level", "info",
		"--port", strconv.Itoa(s.apiPort), "--lambda-port", strconv.Itoa(s.lambdaPort),
		"--kafka-port", strconv.Itoa(s.kafkaPort), "--hdfs-port", strconv.Itoa(s.hdfsPort),
		"--console-port", strconv.Itoa(s.consolePort)}
	if !build {
		args = append(args, "--skip-build")
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.projectDir
	cmd.Env = hermeticEnv()
	cmd.Stdout, cmd.Stderr = s.out, s.out
	// Its own process group, so a Ctrl-C meant for the harness reaches the
	// stack only through the harness; and it dies with the harness.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited, s.killing = cmd, exited, false
	s.mu.Unlock()
	go s.wait(cmd, exited)

	deadline := time.Now().Add(within)
	for {
		if pub, ok := readPublished(state); ok && pub.PID == cmd.Process.Pid && pub.APIURL != "" {
			s.apiURL, s.brokers, s.datasetRoot = pub.APIURL, pub.Brokers, pub.DatasetRoot
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("questlog start exited before it was ready (its output is in %s)", s.out.path)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("questlog start was not ready within %s (its output is in %s)", within, s.out.path)
		}
	}
}

// hermeticEnv is this process's environment without the variables that
// would point the stack at someone else's Kafka or store.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "QUESTLOG_") {
			env = append(env, kv)
		}
	}
	return env
}

type published struct {
	PID         int      `json:"pid"`
	Brokers     []string `json:"kafka_bootstrap_servers"`
	DatasetRoot string   `json:"dataset_root"`
	APIURL      string   `json:"api_url"`
}

func readPublished(path string) (published, bool) {
	var p published
	data, err := os.ReadFile(path)
	return p, err == nil && json.Unmarshal(data, &p) == nil
}

// wait reaps an incarnation and tells a crash from an exit this process
// caused.
func (s *stack) wait(cmd *exec.Cmd, exited chan struct{}) {
	err := cmd.Wait()
	s.mu.Lock()
	s.lastErr = err
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.peakKB = max(s.peakKB, ru.Maxrss)
	}
	if !s.killing {
		s.crashes = append(s.crashes, fmt.Sprintf("questlog start (pid %d) exited on its own: %v", cmd.Process.Pid, err))
	}
	s.mu.Unlock()
	close(exited)
}

// pid returns the current incarnation's process id, 0 if it is not running.
func (s *stack) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	select {
	case <-s.exited:
		return 0
	default:
		return s.cmd.Process.Pid
	}
}

// signal sends sig to the current incarnation and waits up to within for
// it to exit; it reports whether it did.
func (s *stack) signal(sig syscall.Signal, within time.Duration) bool {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.killing = true
	s.mu.Unlock()
	if cmd == nil {
		return true
	}
	cmd.Process.Signal(sig)
	select {
	case <-exited:
		return true
	case <-time.After(within):
		return false
	}
}

// crash kills the whole emulator with SIGKILL, as a power cut would, and
// starts it again on the same data directory.
func (s *stack) crash(ctx context.Context) error {
	if !s.signal(syscall.SIGKILL, time.Minute) {
		return errors.New("questlog start did not die within a minute of SIGKILL")
	}
	return s.start(ctx, false, 2*time.Minute)
}

// ensureUp restarts an incarnation that died on its own (the crash is
// already counted).
func (s *stack) ensureUp(ctx context.Context) error {
	if s.pid() != 0 {
		return nil
	}
	s.log.Warn("the emulator is not running; starting it again")
	return s.start(ctx, false, 2*time.Minute)
}

// stop asks the emulator to drain and exit (Ctrl-C); an emulator that does
// not is killed, and that is a failure.
func (s *stack) stop() {
	pid := s.pid()
	if pid == 0 {
		return
	}
	problem := ""
	if !s.signal(syscall.SIGINT, 2*time.Minute) {
		problem = "did not exit within 2 minutes of Ctrl-C"
		s.signal(syscall.SIGKILL, time.Minute)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if problem == "" && s.lastErr != nil {
		problem = fmt.Sprintf("did not exit cleanly on Ctrl-C: %v", s.lastErr)
	}
	if problem != "" {
		s.crashes = append(s.crashes, fmt.Sprintf("questlog start (pid %d) %s", pid, problem))
	}
}

// killFunction SIGKILLs one function process of the current incarnation,
// picked at random among the emulator's children, and returns its name
// and pid (empty if none runs).
func (s *stack) killFunction(rng *rand.Rand) (string, int) {
	pid := s.pid()
	if pid == 0 {
		return "", 0
	}
	children := childrenOf(pid)
	if len(children) == 0 {
		return "", 0
	}
	child := children[rng.IntN(len(children))]
	name := functionName(child)
	s.mu.Lock()
	s.killed[child] = name // before the signal, so its exit is never taken for a crash
	s.mu.Unlock()
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		return "", 0
	}
	return name, child
}

// killedByUs reports whether pid is a function process this harness killed.
func (s *stack) killedByUs(pid int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.killed[pid]
	return ok
}

func (s *stack) crashed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.crashes...)
}

func (s *stack) peakRSSKB() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakKB
}

// childrenOf lists the processes pid started, from every one of its
// threads (/proc/<pid>/task/<tid>/children names the children each thread
// forked). It walks down from a process this harness started, so it can
// only ever name processes of this run.
func childrenOf(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited meanwhile
		}
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// functionName reads the Lambda function name the emulator gave a process,
// for the log; it never decides what is killed.
func functionName(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return "?"
	}
	for _, kv := range strings.Split(string(data), "\x00") {
		if v, ok := strings.CutPrefix(kv, "AWS_LAMBDA_FUNCTION_NAME="); ok {
			return v
		}
	}
	return "?"
}
