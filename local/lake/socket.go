package lake

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// A running emulator answers `questlog sql` and `questlog report` with
// its console's Client, whose engine is up and whose mirror is warm: a
// one-shot command then costs its own start and a round trip, not a
// second process and a connection to HDFS.
//
// The way in is a unix socket in the data directory, in a directory only
// its owner may enter: the command line always runs on the emulator's
// machine, as its user, while the console's TCP port may listen on every
// interface. The protocol is HTTP: POST /v1/query, /v1/tables or
// /v1/schema with a socketRequest. The answer is frames: the result
// exactly as Write, WriteTables or WriteSchema write it, as it streams,
// then how it ended (an error may come after part of the result, and be
// longer than an HTTP trailer may be). The server sends its headers
// before it runs the query, so that an asker can tell a hung emulator
// from a long query.

const (
	socketName       = "sql.sock"
	maxSocketPath    = 107 // a unix socket's address, without its NUL
	maxSocketRequest = 16 << 20
	answeredBy       = "Questlog-Answered-By" // the answering process's ID
	// answerTimeout is how long an asker waits for the headers, which the
	// server sends before the query runs.
	answerTimeout = 5 * time.Second
)

// An answer's frames: a kind, the payload's length (4 bytes, big-endian),
// the payload. Result frames carry the result; the last frame is done, or
// failed with a socketError.
const (
	frameResult = 'r'
	frameDone   = 'd'
	frameFailed = 'f'
)

// socketRequest is a question to a SocketServer.
type socketRequest struct {
	SQL    string `json:"sql,omitempty"`
	Table  string `json:"table,omitempty"`
	Output Output `json:"output"`
}

// socketError is how an answer failed.
type socketError struct {
	Message        string      `json:"message"`
	Query          *QueryError `json:"query,omitempty"`
	ChangesSession bool        `json:"changes_session,omitempty"`
}

// SocketServer answers a Client's questions on a unix socket.
type SocketServer struct {
	path   string
	tmpDir string // the socket's directory, to remove, if not the data directory's
	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
}

// ServeSocket answers Remote's questions with c on a socket under
// dataDir that only this user can open. Its questions may only read (see
// Output.ReadOnly): c's session is shared. The caller must own dataDir
// (hold the emulator's lock): a socket left there by a killed process is
// replaced.
func ServeSocket(c *Client, dataDir string, logger *slog.Logger) (*SocketServer, error) {
	path, tmpDir, err := socketPath(dataDir)
	if err != nil {
		return nil, fmt.Errorf("the SQL socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		if tmpDir != "" {
			os.RemoveAll(tmpDir)
		}
		return nil, fmt.Errorf("the SQL socket: %w", err)
	}
	base, cancel := context.WithCancel(context.Background())
	s := &SocketServer{path: path, tmpDir: tmpDir, cancel: cancel, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/query", answer(func(ctx context.Context, w io.Writer, req socketRequest) error {
		return c.Write(ctx, w, req.SQL, req.Output)
	}))
	mux.HandleFunc("POST /v1/tables", answer(func(ctx context.Context, w io.Writer, req socketRequest) error {
		return c.WriteTables(ctx, w, req.Output)
	}))
	mux.HandleFunc("POST /v1/schema", answer(func(ctx context.Context, w io.Writer, req socketRequest) error {
		return c.WriteSchema(ctx, w, req.Table, req.Output)
	}))
	s.srv = &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base },
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("the SQL socket stopped", "socket", path, "err", err)
		}
	}()
	return s, nil
}

// socketPath is where ServeSocket listens: in a directory of dataDir that
// only this user may enter, or, where that path is too long for a unix
// socket's address, in a private temporary directory (tmpDir).
func socketPath(dataDir string) (path, tmpDir string, err error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "lake", "run"))
	if err != nil {
		return "", "", err
	}
	if len(filepath.Join(dir, socketName)) > maxSocketPath {
		if tmpDir, err = os.MkdirTemp("", "questlog-sql-"); err != nil { // 0700
			return "", "", err
		}
		return filepath.Join(tmpDir, socketName), tmpDir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", "", err
	}
	if err := os.Chmod(dir, 0o700); err != nil { // made before, or by another umask
		return "", "", err
	}
	path = filepath.Join(dir, socketName)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	return path, "", nil
}

// answer serves one kind of question: it sends the headers at once, then
// the answer as ask writes it, then how it ended.
func answer(ask func(ctx context.Context, w io.Writer, req socketRequest) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req socketRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, maxSocketRequest)).Decode(&req); err != nil {
			http.Error(w, "unreadable question: "+err.Error(), http.StatusBadRequest)
			return
		}
		req.Output.ReadOnly = true // the session is shared: leave no trace in it
		w.Header().Set("Content-Type", "application/x-questlog-frames")
		w.Header().Set(answeredBy, strconv.Itoa(os.Getpid()))
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		if err := ask(r.Context(), resultFrames{w}, req); err != nil {
			e := socketError{Message: err.Error(), ChangesSession: errors.Is(err, ErrChangesSession)}
			errors.As(err, &e.Query)
			data, _ := json.Marshal(e)
			writeFrame(w, frameFailed, data)
			return
		}
		writeFrame(w, frameDone, nil)
	}
}

// writeFrame writes one frame.
func writeFrame(w io.Writer, kind byte, payload []byte) error {
	head := [5]byte{kind}
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// resultFrames writes what it is given as result frames of at most 1 MiB.
type resultFrames struct{ w io.Writer }

func (f resultFrames) Write(p []byte) (int, error) {
	for n := 0; n < len(p); n += 1 << 20 {
		if err := writeFrame(f.w, frameResult, p[n:min(len(p), n+1<<20)]); err != nil {
			return n, err
		}
	}
	return len(p), nil
}

// Path is the socket's path.
func (s *SocketServer) Path() string { return s.path }

// Close cancels the questions being answered and stops listening.
func (s *SocketServer) Close() error {
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
	return err
}

// failure is the error a failed frame says, saying the same: a
// *QueryError stays one.
func failure(payload []byte) error {
	var e socketError
	switch err := json.Unmarshal(payload, &e); {
	case err != nil:
		return fmt.Errorf("the running emulator's answer failed, saying %q", payload)
	case e.ChangesSession:
		return fmt.Errorf("%w: %w: %s", ErrNotAnswered, ErrChangesSession, e.Message)
	case e.Query != nil:
		return e.Query
	}
	return errors.New(e.Message)
}

// ErrNotAnswered is a question a Remote could not have answered, nor any
// of its answer written: the emulator is gone, hung or of another
// version, or the question would change the shared session
// (ErrChangesSession). Another engine should be asked.
var ErrNotAnswered = errors.New("the running emulator's SQL engine did not answer")

// Remote asks the engine of a running emulator, through the socket its
// SocketServer listens on. Its methods write what the Client's of the
// same name write, byte for byte, and fail with the same errors.
type Remote struct {
	socket string
	http   *http.Client
	// AnsweredBy, if set, is called with the ID of the process that
	// answers each question.
	AnsweredBy func(pid string)
}

// NewRemote returns a Remote of the socket at path. It connects with the
// first question.
func NewRemote(path string) *Remote {
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		ResponseHeaderTimeout: answerTimeout,
		DisableCompression:    true,
	}
	return &Remote{socket: path, http: &http.Client{Transport: transport}}
}

// Socket is the socket's path.
func (r *Remote) Socket() string { return r.socket }

// Write runs sql and writes its result to w, as Client.Write does. Only
// queries that read are answered: one that would change the session
// fails with ErrNotAnswered (and ErrChangesSession), having written
// nothing.
func (r *Remote) Write(ctx context.Context, w io.Writer, sql string, out Output) error {
	return r.ask(ctx, "/v1/query", socketRequest{SQL: sql, Output: out}, w)
}

// WriteTables writes the table list, as Client.WriteTables does.
func (r *Remote) WriteTables(ctx context.Context, w io.Writer, out Output) error {
	return r.ask(ctx, "/v1/tables", socketRequest{Output: out}, w)
}

// WriteSchema writes a table's columns, as Client.WriteSchema does.
func (r *Remote) WriteSchema(ctx context.Context, w io.Writer, table string, out Output) error {
	return r.ask(ctx, "/v1/schema", socketRequest{Table: table, Output: out}, w)
}

// Close closes the idle connection.
func (r *Remote) Close() error {
	r.http.CloseIdleConnections()
	return nil
}

func (r *Remote) ask(ctx context.Context, path string, q socketRequest, w io.Writer) error {
	body, err := json.Marshal(q)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://questlog"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrNotAnswered, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%w: %s: %s", ErrNotAnswered, resp.Status, bytes.TrimSpace(msg))
	}
	if r.AnsweredBy != nil {
		r.AnsweredBy(resp.Header.Get(answeredBy))
	}
	written := false
	for {
		var head [5]byte
		_, err := io.ReadFull(resp.Body, head[:])
		size := int64(binary.BigEndian.Uint32(head[1:]))
		switch {
		case err != nil:
		case head[0] == frameResult:
			written = true
			sink := &errWriter{w: w}
			if _, err = io.CopyN(sink, resp.Body, size); sink.err != nil {
				return sink.err
			}
		case head[0] == frameDone:
			return nil
		case head[0] == frameFailed:
			var payload []byte
			if payload, err = io.ReadAll(io.LimitReader(resp.Body, size)); err == nil && int64(len(payload)) == size {
				return failure(payload)
			} else if err == nil {
				err = io.ErrUnexpectedEOF
			}
		default:
			err = fmt.Errorf("a frame of unknown kind %q", head[0])
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case !written:
			return fmt.Errorf("%w: its answer broke off: %w", ErrNotAnswered, err)
		default:
			return fmt.Errorf("the running emulator's answer broke off: %w", err)
		}
	}
}

// errWriter keeps its writer's error, to tell a failed write from a
// failed read.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
