package lambda

import (
	"bytes"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// maxLogLine is the longest line copied from a function's output; longer
// lines are split (CloudWatch splits events at 256 KB).
const maxLogLine = 256 * 1024

// settleLimit bounds how long platform lines wait for output to be copied.
const settleLimit = 50 * time.Millisecond

// outputCopier copies a function process's output (stdout and stderr share
// one pipe, which keeps their relative order) to the sink, line by line.
//
// settle lets the platform write its lines (START, END, REPORT) after all
// output the function wrote before it called the Runtime API, without
// routing platform lines through the pipe: output is either still in the
// pipe (FIONREAD > 0) or was taken by a read that marked the copier busy
// before the read syscall and clears the mark only after the lines are
// written.
type outputCopier struct {
	sink   *logSink
	prefix string
	f      *os.File
	rc     syscall.RawConn
	busy   atomic.Bool
	buf    []byte
	fill   int

	tail *metrics // keeps the last lines for the console
	env  string
}

func newOutputCopier(f *os.File, sink *logSink, prefix string) (*outputCopier, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &outputCopier{sink: sink, prefix: prefix, f: f, rc: rc, buf: make([]byte, 16*1024)}, nil
}

// run copies until every write end of the pipe is closed, then closes it.
func (o *outputCopier) run() {
	defer o.f.Close()
	for {
		var n int
		var rerr error
		err := o.rc.Read(func(fd uintptr) bool {
			o.busy.Store(true)
			for {
				n, rerr = syscall.Read(int(fd), o.buf[o.fill:])
				if rerr != syscall.EINTR {
					break
				}
			}
			if rerr == syscall.EAGAIN {
				o.busy.Store(false)
				return false // wait until readable
			}
			return true
		})
		if err != nil || rerr != nil || n <= 0 {
			o.flush()
			o.busy.Store(false)
			return
		}
		o.fill += n
		o.lines()
		o.busy.Store(false)
	}
}

// lines writes the complete lines in the buffer and keeps the rest. A
// partial line that fills the buffer grows it up to maxLogLine, then is
// written as a line of its own.
func (o *outputCopier) lines() {
	data := o.buf[:o.fill]
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		o.write(data[:i])
		data = data[i+1:]
	}
	o.fill = copy(o.buf, data)
	if o.fill == len(o.buf) {
		if len(o.buf) < maxLogLine {
			o.buf = append(o.buf, make([]byte, len(o.buf))...)
		} else {
			o.flush()
		}
	}
}

// flush writes a pending partial line.
func (o *outputCopier) flush() {
	if o.fill > 0 {
		o.write(o.buf[:o.fill])
		o.fill = 0
	}
}

func (o *outputCopier) write(line []byte) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	o.sink.writeLine(o.prefix, string(line))
	if o.tail != nil {
		logLine(o.tail, o.env, line, time.Now())
	}
}

// settle waits until the output written to the pipe so far has been copied
// (up to settleLimit; a partial line without a newline is not waited for).
// Checking the pipe before the busy mark makes it race-free: bytes that
// left the pipe were read by a call that set the mark first.
func (o *outputCopier) settle() {
	var deadline time.Time
	for i := 0; ; i++ {
		pending := 0
		if err := o.rc.Control(func(fd uintptr) { pending = pipeBytes(fd) }); err != nil {
			return // the copier is done and closed the pipe
		}
		if pending == 0 && !o.busy.Load() {
			return
		}
		if i == 0 {
			deadline = time.Now().Add(settleLimit)
		} else if time.Now().After(deadline) {
			return
		}
		if i < 10 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// abort stops run even if the pipe is not at EOF.
func (o *outputCopier) abort() { _ = o.f.Close() }
