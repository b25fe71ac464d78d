package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/local/loadgen"
)

// Log lines of questlog sql at --log-level debug.
const (
	answeredByEmulator = `msg="answered by the running emulator's SQL engine"`
	startedOwnEngine   = `msg="started the SQL engine"`
)

// questlog sql and report beside a running `questlog start` ask its
// console's engine and start none of their own; once it is gone, they
// write exactly the same with an engine of their own, byte for byte, in
// every format, errors included. Ctrl-C cancels the emulator's query. A
// question that would change the SQL session gets the command's own
// engine even while the emulator runs.
func TestSQLAsksTheRunningEmulator(t *testing.T) {
	dataDir, lakeDir, outDir := t.TempDir(), t.TempDir(), t.TempDir()
	root := "file://" + lakeDir
	landGenerated(t, root, 600)
	emu := startProcess(t, dataDir, "--parameter-overrides", "DatasetRoot="+root)

	const groupBy = "select event_type, item_type, count(*) as events, sum(quantity) as quantity, min(event_time) as first from extracted_events group by all order by all"
	out := filepath.Join(outDir, "result")
	questions := []question{
		{args: []string{"sql", groupBy}},
		{args: []string{"sql", groupBy, "--max-rows", "3", "--truncate", "6"}},
		{args: []string{"sql", groupBy, "--format", "csv"}},
		{args: []string{"sql", groupBy, "--format", "json"}},
		{args: []string{"sql", groupBy, "--format", "jsonl", "--out", out}},
		{args: []string{"sql", "select * from extracted_events order by event_id", "--format", "parquet", "--out", out}},
		{args: []string{"sql", "--format", "csv"}, stdin: "select user_name, count(*) as n from extracted_events group by 1 order by 2 desc, 1 limit 5;\n"},
		{args: []string{"sql", "--tables"}},
		{args: []string{"sql", "--schema", "rejected", "--format", "csv"}},
		{args: []string{"sql", "--schema", "nope"}},
		{args: []string{"report", "purchases_by_item"}},
		{args: []string{"report", "events_by_type", "--format", "csv", "--since", "2026-11-28"}},
		{args: []string{"sql", "select purchase_user from extracted_events", "--format", "csv", "--out", out}},
		{args: []string{"sql", "copy extracted_events to '/tmp/stolen.csv'"}},
		{args: []string{"sql", "select * from read_text('/etc/passwd')"}},
		{args: []string{"sql", "create temp table big as select * from extracted_events where quantity > 1; select count(*) as n from big"}, ownEngine: true},
	}
	env := []string{"QUESTLOG_PARAMETER_OVERRIDES=DatasetRoot=" + root}
	withEmulator := make([]answer, len(questions))
	for i, q := range questions {
		a := ask(t, dataDir, env, q, out)
		withEmulator[i] = a
		answered := strings.Contains(a.logs, answeredByEmulator+fmt.Sprintf(" pid=%d", emu.cmd.Process.Pid))
		started := strings.Contains(a.logs, startedOwnEngine)
		if q.ownEngine != started || !q.ownEngine && !answered {
			t.Errorf("%s: answered by the emulator %v, started an engine of its own %v; logs:\n%s", q, answered, started, a.logs)
		}
	}
	for i, want := range []struct {
		code   int
		output string
	}{
		0:  {0, "|purchase_sword|    sword|"},
		1:  {0, "only showing the first 3 of "},
		2:  {0, "event_type,item_type,events,quantity,first\n"},
		5:  {0, "PAR1"},
		7:  {0, "extracted_events| 600|    4|"},
		9:  {1, `no table "nope"; the tables are: all_events,`},
		12: {1, `Binder Error: Referenced column "purchase_user" not found`},
		13: {1, "COPY is refused"},
		14: {1, "Permission Error"},
		15: {0, "|  n|"},
	} {
		if a := withEmulator[i]; want.output != "" && (a.code != want.code || !strings.Contains(a.stdout+a.stderr+a.file, want.output)) {
			t.Errorf("%s: exit %d, want %d with %q in:\n%s%s%s", questions[i], a.code, want.code, want.output, a.stdout, a.stderr, a.file)
		}
	}
	if a := withEmulator[12]; a.stdout != "" || a.file != "" {
		t.Errorf("a failed query wrote %q and --out %q", a.stdout, a.file)
	}

	// Ctrl-C cancels the query in the emulator's engine, which then
	// answers the next question (a query left running would hold it).
	long := exec.Command(questlogBin, "sql", "select count(*) from range(1000000000000) a", "--data-dir", dataDir, "--log-level", "debug")
	long.Dir, long.Env = projectDir(), append(os.Environ(), env...)
	var stderr lockedBuffer
	long.Stderr = &stderr
	if err := long.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the long query reaching the emulator", func() (bool, string) {
		return strings.Contains(stderr.String(), answeredByEmulator), stderr.String()
	})
	long.Process.Signal(syscall.SIGINT)
	if err := long.Wait(); long.ProcessState.ExitCode() != 130 {
		t.Errorf("questlog sql after Ctrl-C: %v, want exit 130\n%s", err, stderr.String())
	}
	if a := ask(t, dataDir, env, question{args: []string{"sql", "select 42 as answer", "--format", "csv"}}, out); a.stdout != "answer\n42\n" || !strings.Contains(a.logs, answeredByEmulator) {
		t.Errorf("after a cancelled query: %q %s\n%s", a.stdout, a.stderr, a.logs)
	}

	promptAsksTheEmulator(t, dataDir, env, emu.cmd.Process.Pid)

	// The emulator gone, the same questions get the same answers from the
	// command's own engine.
	emu.stop(t, syscall.SIGINT)
	for i, q := range questions {
		a := ask(t, dataDir, env, q, out)
		if strings.Contains(a.logs, answeredByEmulator) || !strings.Contains(a.logs, startedOwnEngine) {
			t.Errorf("%s without the emulator: not its own engine; logs:\n%s", q, a.logs)
		}
		if w := withEmulator[i]; a.stdout != w.stdout || a.stderr != w.stderr || a.code != w.code || a.file != w.file {
			t.Errorf("%s: with the emulator exit %d, stdout %q, stderr %q, --out %d bytes;\nwithout it exit %d, stdout %q, stderr %q, --out %d bytes",
				q, w.code, w.stdout, w.stderr, len(w.file), a.code, a.stdout, a.stderr, len(a.file))
		}
	}
}

// question is one run of questlog.
type question struct {
	args      []string
	stdin     string
	ownEngine bool // even beside an emulator
}

func (q question) String() string { return strings.Join(q.args, " ") }

// answer is what a run of questlog printed: stdout, stderr without the
// log lines, the log lines, its exit code, and the file --out wrote.
type answer struct {
	stdout, stderr, logs, file string
	code                       int
}

// ask runs q with debug logs; out is the file q's --out names, if any.
func ask(t *testing.T, dataDir string, env []string, q question, out string) answer {
	t.Helper()
	os.Remove(out)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, questlogBin, append(q.args, "--data-dir", dataDir, "--log-level", "debug")...)
	cmd.Dir, cmd.Env = projectDir(), append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(q.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("%s: %v", q, err)
	}
	var a answer
	a.stdout, a.code = stdout.String(), cmd.ProcessState.ExitCode()
	for _, line := range strings.SplitAfter(stderr.String(), "\n") {
		if strings.HasPrefix(line, "time=") {
			a.logs += line
		} else {
			a.stderr += line
		}
	}
	if data, err := os.ReadFile(out); err == nil {
		a.file = string(data)
	}
	return a
}

// landGenerated lands n of loadgen's events in extracted_events, and two
// dead letters, as the jobs land them.
func landGenerated(t *testing.T, root string, n int) {
	t.Helper()
	st := openStore(t, root)
	s := sink.New(st, nil)
	gen := loadgen.NewGenerator(loadgen.Population{Players: 40, Guilds: 5}, 9)
	start := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	recs := make([]sink.Record[event.Row], n)
	for i := range recs {
		e := loadgen.EventFor(gen.Next(), start.Add(time.Duration(i)*10*time.Second))
		src := event.Source{Topic: "game-events", Partition: 0, Offset: int64(i), Timestamp: int64(e.EventTime)}
		recs[i] = sink.Record[event.Row]{Offset: int64(i), Date: e.EventTime.Time(), Row: event.NewRow(&e, src)}
	}
	for i := 0; i < n; i += 250 {
		if _, err := sink.Land(t.Context(), s, "extracted_events", "game-events", 0, recs[i:min(i+250, n)]); err != nil {
			t.Fatal(err)
		}
	}
	dead := []sink.Record[job.Rejected]{{Offset: int64(n), Date: start, Row: job.Rejected{Reason: "not JSON", KafkaTopic: "game-events", KafkaOffset: int64(n), KafkaTimestamp: start.UnixMilli()}}}
	if _, err := sink.Land(t.Context(), sink.New(st, nil), sink.RejectedDataset("extracted_events"), "game-events", 0, dead); err != nil {
		t.Fatal(err)
	}
}

// promptAsksTheEmulator types into questlog sql's interactive prompt, on
// a terminal of its own, beside the emulator with process ID pid: its
// queries are the emulator's, Ctrl-C cancels one, and a statement that
// changes the session moves the session to an engine of the prompt's own.
func promptAsksTheEmulator(t *testing.T, dataDir string, env []string, pid int) {
	t.Helper()
	terminal, tty := openTerminal(t)
	cmd := exec.Command(questlogBin, "sql", "--data-dir", dataDir, "--log-level", "debug")
	cmd.Dir, cmd.Env = projectDir(), append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	var screen lockedBuffer
	go io.Copy(&screen, terminal)
	answered := answeredByEmulator + fmt.Sprintf(" pid=%d", pid)
	prompts := 0
	// typeLine types a line at the next prompt and waits for want to
	// appear after it.
	typeLine := func(line, want string) {
		t.Helper()
		prompts++
		eventually(t, time.Minute, "the prompt", func() (bool, string) { return strings.Count(screen.String(), "sql> ") >= prompts, screen.String() })
		typed := len(screen.String())
		terminal.WriteString(line + "\r")
		eventually(t, time.Minute, want, func() (bool, string) { return strings.Contains(screen.String()[typed:], want), screen.String() })
	}

	typeLine("select count(*) as n from extracted_events;", "|600|")
	typeLine("select count(*) from range(1000000000000) a;", answered)
	terminal.WriteString("\x03") // Ctrl-C
	eventually(t, time.Minute, "the query cancelled", func() (bool, string) { return strings.Contains(screen.String(), "Error: cancelled"), screen.String() })
	typeLine("select 42 as answer;", "|    42|")
	if n := strings.Count(screen.String(), answered); n != 3 || strings.Contains(screen.String(), startedOwnEngine) {
		t.Errorf("the prompt's queries: %d answered by the emulator, want 3; an engine of its own: %v\n%s", n, strings.Contains(screen.String(), startedOwnEngine), screen.String())
	}
	typeLine("create temp table t as select 7 as x;", startedOwnEngine)
	typeLine("select x * 6 as y from t;", "| 42|")
	typeLine(".quit", "")
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("the prompt ended with %v:\n%s", err, screen.String())
		}
	case <-time.After(time.Minute):
		t.Errorf(".quit did not end the prompt:\n%s", screen.String())
	}
}

// openTerminal opens a pseudo-terminal: the side a test types into and
// reads, and the one a program runs on.
func openTerminal(t *testing.T) (terminal, tty *os.File) {
	t.Helper()
	terminal, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { terminal.Close() })
	fd := int(terminal.Fd())
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err == nil {
		tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	}
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	return terminal, tty
}
