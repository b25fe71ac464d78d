package chaos

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
)

// logPump receives the emulator's output (its own log lines and its
// functions' output): it keeps it in a file and watches it, line by line,
// for function processes that exited and for the secrets the corpus sent.
type logPump struct {
	path    string
	secrets *secrets

	mu      sync.Mutex
	file    *os.File
	w       *bufio.Writer
	partial []byte
	exits   []procExit
	found   map[string]bool // secret → seen in the logs
	lines   int
}

// procExit is an "environment exited" line of the emulator's Lambda runtime.
type procExit struct {
	function, status, reason string
	pid                      int
}

func newLogPump(path string, s *secrets) (*logPump, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &logPump{path: path, secrets: s, file: f, w: bufio.NewWriterSize(f, 1<<20), found: map[string]bool{}}, nil
}

func (p *logPump) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.w.Write(b)
	data := b
	if len(p.partial) > 0 {
		data = append(p.partial, b...)
		p.partial = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		p.line(data[:i])
		data = data[i+1:]
	}
	if len(data) > 0 {
		p.partial = append([]byte(nil), data...)
	}
	return len(b), nil
}

var exitedMsg = []byte(`msg="environment exited"`)

func (p *logPump) line(l []byte) {
	p.lines++
	for _, s := range p.secrets.in(l) {
		p.found[s] = true
	}
	// The emulator's own lines are slog text; function output is prefixed
	// with the function's name, so it cannot pass for one.
	if bytes.HasPrefix(l, []byte("time=")) && bytes.Contains(l, exitedMsg) {
		f := logfmt(string(l))
		pid, _ := strconv.Atoi(f["pid"])
		p.exits = append(p.exits, procExit{function: f["function"], status: f["status"], reason: f["reason"], pid: pid})
	}
}

// close flushes the file; call it once the emulator has exited. Closing
// again does nothing.
func (p *logPump) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file == nil {
		return nil
	}
	defer func() { p.file = nil }()
	if len(p.partial) > 0 {
		p.line(p.partial)
		p.partial = nil
	}
	p.w.Flush()
	return p.file.Close()
}

func (p *logPump) results() (exits []procExit, found map[string]bool, lines int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]procExit(nil), p.exits...), p.found, p.lines
}

// logfmt parses a slog text line: key=value pairs, values quoted when they
// hold spaces or quotes.
func logfmt(line string) map[string]string {
	out := map[string]string{}
	for len(line) > 0 {
		for len(line) > 0 && line[0] == ' ' {
			line = line[1:]
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			break
		}
		key := line[:eq]
		line = line[eq+1:]
		var value string
		if len(line) > 0 && line[0] == '"' {
			end := 1
			for end < len(line) && line[end] != '"' {
				if line[end] == '\\' {
					end++
				}
				end++
			}
			end = min(end+1, len(line))
			if v, err := strconv.Unquote(line[:end]); err == nil {
				value = v
			} else {
				value = line[1 : end-1]
			}
			line = line[end:]
		} else {
			sp := strings.IndexByte(line, ' ')
			if sp < 0 {
				sp = len(line)
			}
			value, line = line[:sp], line[sp:]
		}
		out[key] = value
	}
	return out
}
