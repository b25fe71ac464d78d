package lake

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/questlog/questlog/local/lake/internal/wire"
)

// engine is a running questlog-sql process: DuckDB, sandboxed on one lake
// directory, answering one request at a time over its stdin and stdout.
// It lives as long as the Client (the console and the interactive prompt
// avoid a process start per query).
type engine struct {
	lakeDir string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	dec     *json.Decoder
	stderr  *tailBuffer
	writeMu sync.Mutex // requests and cancels
	nextID  int64
	dead    error // set once the process is gone
	exited  chan struct{}
}

// startEngine runs bin sandboxed on lakeDir; it may also write into
// outDir (results COPY writes, and spilling).
func startEngine(bin, lakeDir, outDir string) (*engine, error) {
	cmd := exec.Command(bin, "--lake", lakeDir, "--out-dir", outDir, "--temp", outDir)
	cmd.Dir = lakeDir // relative paths in queries name files of the lake
	// Its own process group: a terminal's Ctrl-C is for the client, which
	// cancels the query instead.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	e := &engine{lakeDir: lakeDir, cmd: cmd, stdin: stdin, stderr: &tailBuffer{max: 4 << 10}, exited: make(chan struct{})}
	cmd.Stderr = e.stderr
	e.dec = json.NewDecoder(bufio.NewReaderSize(stdout, 256<<10))
	e.dec.UseNumber()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the SQL engine %s: %w", bin, err)
	}
	go func() { cmd.Wait(); close(e.exited) }()
	return e, nil
}

// run sends req and calls fn with each message of the answer until the
// last. Cancelling ctx interrupts the query; run still reads the answer
// to its end, so the next request starts clean.
func (e *engine) run(ctx context.Context, req wire.Request, fn func(wire.Message) error) error {
	if e.dead != nil {
		return e.dead
	}
	e.nextID++
	req.ID = e.nextID
	if err := e.send(req); err != nil {
		return e.fail(err)
	}
	stop := context.AfterFunc(ctx, func() { e.send(wire.Request{Cancel: req.ID}) })
	defer stop()
	var fnErr error
	for {
		var m wire.Message
		if err := e.dec.Decode(&m); err != nil {
			return e.fail(err)
		}
		if m.ID != req.ID {
			return e.fail(fmt.Errorf("answer to request %d while waiting for %d", m.ID, req.ID))
		}
		if m.Error != "" {
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case m.ChangesSession:
				return fmt.Errorf("%w: %s", ErrChangesSession, m.Error)
			}
			return &QueryError{Message: m.Error, Refused: m.Refused}
		}
		if fnErr == nil && !m.Done {
			fnErr = fn(m)
		}
		if m.Done {
			if fnErr == nil {
				fnErr = fn(m)
			}
			return fnErr
		}
	}
}

func (e *engine) send(req wire.Request) error {
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	_, err = e.stdin.Write(append(data, '\n'))
	return err
}

// fail marks the engine dead, with what it said on its way out.
func (e *engine) fail(err error) error {
	e.close()
	msg := strings.TrimSpace(e.stderr.String())
	if msg == "" {
		msg = err.Error()
	}
	e.dead = fmt.Errorf("the SQL engine stopped: %s", msg)
	return e.dead
}

// close ends the process: closing its stdin ends its request loop (after
// the running request, which the caller cancelled). It does not wait for
// DuckDB to free its memory and exit: nothing is left to read, and a
// command's result should not wait for it. A process that has not ended
// after a while is killed.
func (e *engine) close() error {
	e.stdin.Close()
	go func() {
		select {
		case <-e.exited:
		case <-time.After(10 * time.Second):
			e.cmd.Process.Kill()
		}
	}()
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// errNoEngine says how to get an engine when none can be found or built.
var errNoEngine = errors.New("no SQL engine: build it with `go build -o bin/questlog-sql ./local/lake/cmd/questlog-sql` (needs cgo and a C compiler) next to the questlog binary, or run questlog from its source tree")
