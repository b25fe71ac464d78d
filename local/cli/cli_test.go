package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With this variable set, the test binary is questlog itself, so tests can
// run commands as processes: exit statuses and signals are real.
const mainEnv = "QUESTLOG_CLI_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// A command that only the tests have: it says "ready", waits for Ctrl-C,
// then drains for --drain, or forever with --hang, or fails with ctx's error
// with --give-up.
func init() {
	register(Command{
		Name: "test-wait", Args: "[--drain d | --hang | --give-up]", Summary: "wait for a signal (tests only)",
		Examples: []string{"questlog test-wait --drain 100ms"},
		Setup: func(fs *flag.FlagSet) Run {
			drain := fs.Duration("drain", 0, "how long draining takes")
			hang := fs.Bool("hang", false, "never finish draining")
			giveUp := fs.Bool("give-up", false, "return ctx's error")
			return func(ctx context.Context, _ []string) error {
				fmt.Println("ready")
				<-ctx.Done()
				fmt.Println("draining")
				switch {
				case *hang:
					select {}
				case *giveUp:
					return fmt.Errorf("stopped early: %w", ctx.Err())
				}
				time.Sleep(*drain)
				fmt.Println("drained")
				return nil
			}
		},
	})
}

// questlog runs the test binary as questlog with args and returns its
// output and exit status.
func questlog(t *testing.T, stdin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	cmd.Dir = "../.." // the project, as a user runs questlog
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run questlog %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

func TestUsageErrorsExitTwoAndPrintOnce(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"invoke"}, "name one function"},
		{[]string{"invoke", "Fn", "-e", "x.json", "--replay"}, "give either -e"},
		{[]string{"show", "--log-level", "loud"}, "--log-level"},
		{[]string{"start", "extra"}, `unexpected argument "extra"`},
		{[]string{"generate-event", "mqtt"}, `unknown subcommand "mqtt"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{nil, "Usage: questlog <command>"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, status := questlog(t, "", tc.args...)
			if status != exitUsage {
				t.Errorf("exit status %d, want %d", status, exitUsage)
			}
			if n := strings.Count(stderr, tc.want); n != 1 {
				t.Errorf("stderr has %q %d times, want once:\n%s", tc.want, n, stderr)
			}
			if strings.Count(stderr, "usage:") > 1 {
				t.Errorf("usage printed more than once:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
}

// Every command answers -h (and help <command>) on stdout with its
// synopsis, its flags and at least one example.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{append(strings.Fields(c.Name), "-h"), append([]string{"help"}, strings.Fields(c.Name)...)} {
			var stdout, stderr bytes.Buffer
			if status := run(context.Background(), args, &stdout, &stderr); status != 0 || stderr.Len() > 0 {
				t.Errorf("questlog %s: status %d, stderr %q", strings.Join(args, " "), status, stderr.String())
			}
			help := stdout.String()
			if !strings.HasPrefix(help, "usage: questlog "+c.Name) || !strings.Contains(help, "\nExamples:\n  questlog ") {
				t.Errorf("questlog %s printed:\n%s", strings.Join(args, " "), help)
			}
		}
	}
	var stdout bytes.Buffer
	if status := run(context.Background(), []string{"help"}, &stdout, io.Discard); status != 0 || !strings.Contains(stdout.String(), "  invoke ") {
		t.Errorf("questlog help: status %d\n%s", status, stdout.String())
	}
}

func TestFlagsAfterArgumentsAndDoubleDash(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	e := fs.String("e", "", "")
	pos, err := parseInterleaved(fs, []string{"Fn", "-e", "x.json", "more", "--", "-literal"})
	if err != nil || *e != "x.json" || strings.Join(pos, ",") != "Fn,more,-literal" {
		t.Fatalf("positional %q, -e %q, err %v", pos, *e, err)
	}
}

// started runs questlog test-wait and waits for it to be ready.
func started(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"test-wait"}, args...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(out)
	expectLine(t, r, "ready")
	return cmd, r, &stderr
}

func expectLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	line, err := r.ReadString('\n')
	if strings.TrimSpace(line) != want {
		t.Fatalf("read %q (%v), want %q", line, err, want)
	}
}

// waitStatus waits for the process and returns its exit status.
func waitStatus(t *testing.T, cmd *exec.Cmd, r *bufio.Reader) int {
	t.Helper()
	io.Copy(io.Discard, r)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("questlog did not exit")
	}
	return cmd.ProcessState.ExitCode()
}

func TestInterruptDrainsAndExitsZero(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, r, stderr := started(t, "--drain", "200ms")
		cmd.Process.Signal(sig)
		expectLine(t, r, "draining")
		expectLine(t, r, "drained")
		if status := waitStatus(t, cmd, r); status != 0 {
			t.Errorf("after %v: exit status %d, want 0; stderr:\n%s", sig, status, stderr)
		}
		if !strings.Contains(stderr.String(), "press Ctrl-C again to stop at once") {
			t.Errorf("after %v, stderr does not say how to force:\n%s", sig, stderr)
		}
	}
}

// The second Ctrl-C is not swallowed: it ends a drain that would never end.
func TestSecondInterruptForcesExit(t *testing.T) {
	cmd, r, stderr := started(t, "--hang")
	cmd.Process.Signal(syscall.SIGINT)
	expectLine(t, r, "draining")
	cmd.Process.Signal(syscall.SIGINT)
	if status := waitStatus(t, cmd, r); status != 128+int(syscall.SIGINT) {
		t.Errorf("exit status %d, want %d; stderr:\n%s", status, 128+int(syscall.SIGINT), stderr)
	}
}

// A command that stops short because of Ctrl-C says so and exits 130, as
// an interrupted program does in a shell.
func TestInterruptedCommandExits130(t *testing.T) {
	cmd, r, stderr := started(t, "--give-up")
	cmd.Process.Signal(syscall.SIGINT)
	expectLine(t, r, "draining")
	if status := waitStatus(t, cmd, r); status != 130 || !strings.Contains(stderr.String(), "questlog test-wait: interrupted") {
		t.Errorf("exit status %d, want 130; stderr:\n%s", status, stderr)
	}
}
