package lake_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/local/lake"
)

// serve answers c's questions on a socket under dataDir.
func serve(t *testing.T, c *lake.Client, dataDir string) *lake.SocketServer {
	t.Helper()
	srv, err := lake.ServeSocket(c, dataDir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// A Remote writes what a Client of its own writes, byte for byte, in
// every format, and fails the same way; its questions leave no trace in
// the engine it shares.
func TestRemoteAnswersAsTheClient(t *testing.T) {
	root, st := fileRoot(t)
	landEvents(t, st, "extracted_events", planEvents(40, 3), 15)
	landRejected(t, st, "extracted_events", []job.Rejected{{Reason: "not JSON", KafkaTopic: "game-events", KafkaOffset: 41, KafkaTimestamp: day.UnixMilli()}})
	shared, own := open(t, root), open(t, root)
	dataDir := t.TempDir()
	srv := serve(t, shared, dataDir)
	remote := lake.NewRemote(srv.Path())
	defer remote.Close()
	var answeredBy string
	remote.AnsweredBy = func(pid string) { answeredBy = pid }

	if st, err := os.Stat(filepath.Dir(srv.Path())); err != nil || st.Mode().Perm() != 0o700 || !strings.HasPrefix(srv.Path(), dataDir) {
		t.Errorf("the socket %s is not in a directory of the data directory only its owner may enter: %v %v", srv.Path(), st.Mode(), err)
	}

	// Both ways of asking, each writing into its own buffer.
	type answer struct {
		out string
		err error
	}
	both := func(name string, remoteQ, ownQ func(*bytes.Buffer) error) (answer, answer) {
		t.Helper()
		var r, o bytes.Buffer
		answeredBy = ""
		rerr, oerr := remoteQ(&r), ownQ(&o)
		if answeredBy != strconv.Itoa(os.Getpid()) && !errors.Is(rerr, lake.ErrNotAnswered) {
			t.Errorf("%s: answered by %q, want this process", name, answeredBy)
		}
		return answer{r.String(), rerr}, answer{o.String(), oerr}
	}
	same := func(name string, remoteQ, ownQ func(*bytes.Buffer) error) {
		t.Helper()
		r, o := both(name, remoteQ, ownQ)
		if r.out != o.out || errText(r.err) != errText(o.err) {
			t.Errorf("%s: through the socket %q, %v;\nits own engine %q, %v", name, r.out, r.err, o.out, o.err)
		}
		if o.err != nil && r.out != "" {
			t.Errorf("%s: a failed answer wrote %q", name, r.out)
		}
		var rq, oq *lake.QueryError
		if errors.As(r.err, &rq) != errors.As(o.err, &oq) || rq != nil && rq.Refused != oq.Refused {
			t.Errorf("%s: errors of different kinds: %#v, %#v", name, r.err, o.err)
		}
	}
	query := func(sql string, out lake.Output) {
		t.Helper()
		same(sql+" as "+out.Format,
			func(b *bytes.Buffer) error { return remote.Write(t.Context(), b, sql, out) },
			func(b *bytes.Buffer) error { return own.Write(t.Context(), b, sql, out) })
	}

	const groupBy = "select event_type, count(*) as n, min(event_time) as first, max(user_agent) as agent from extracted_events group by 1 order by 1"
	query(groupBy, lake.Output{Format: "table", MaxRows: 2, Truncate: 5})
	for _, format := range lake.Formats {
		query(groupBy, lake.Output{Format: format})
	}
	query("select * from extracted_events order by event_id", lake.Output{Format: "csv"})
	query("select dataset, reason, 'é\x7f' as odd from rejected", lake.Output{Format: "json"})
	query("select getvariable('since') as since", lake.Output{Format: "csv", Variables: lake.ReportVariables(day)})
	query("select getvariable('since') as since", lake.Output{Format: "csv"}) // not the last question's
	query("select nope from extracted_events", lake.Output{Format: "csv"})
	query("select 'é\x7f' || nope from extracted_events", lake.Output{Format: "table"})
	query("copy extracted_events to '/tmp/stolen.csv'", lake.Output{Format: "csv"})
	query("select * from read_text('/etc/passwd')", lake.Output{Format: "csv"})
	for _, format := range []string{"table", "csv"} {
		same("tables as "+format,
			func(b *bytes.Buffer) error { return remote.WriteTables(t.Context(), b, lake.Output{Format: format}) },
			func(b *bytes.Buffer) error { return own.WriteTables(t.Context(), b, lake.Output{Format: format}) })
	}
	for _, table := range []string{"extracted_events", "nope"} {
		same("schema of "+table,
			func(b *bytes.Buffer) error { return remote.WriteSchema(t.Context(), b, table, lake.Output{}) },
			func(b *bytes.Buffer) error { return own.WriteSchema(t.Context(), b, table, lake.Output{}) })
	}

	// A question that would change the session is not answered, and
	// nothing of it ran.
	var b bytes.Buffer
	err := remote.Write(t.Context(), &b, "create table t as select 1 as x; select * from t", lake.Output{Format: "csv"})
	if !errors.Is(err, lake.ErrNotAnswered) || !errors.Is(err, lake.ErrChangesSession) || b.Len() > 0 {
		t.Errorf("create table: %v, wrote %q; want ErrNotAnswered and ErrChangesSession, nothing written", err, b.String())
	}
	for _, sql := range []string{"set variable x = 1", "set threads = 1", "create temp table u (x int)", "explain analyze select 1"} {
		if err := remote.Write(t.Context(), &b, sql, lake.Output{}); !errors.Is(err, lake.ErrChangesSession) {
			t.Errorf("%s: %v, want ErrChangesSession", sql, err)
		}
	}
	if res, err := shared.Query(t.Context(), "select count(*) from information_schema.tables where table_name = 't'"); err != nil || res.Rows[0][0] != int64(0) {
		t.Errorf("the refused question left a table t in the shared session: %v %v", res, err)
	}
	query("explain select 1", lake.Output{Format: "csv"})

	// Cancelling interrupts the shared engine's query, which answers the
	// next question.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := remote.Write(ctx, &b, "select count(*) from range(1000000000000) a", lake.Output{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled: %v, want the deadline", err)
	}
	query("select 42 as answer", lake.Output{Format: "csv"})

	// Gone: not answered.
	srv.Close()
	if err := remote.Write(t.Context(), &b, "select 1", lake.Output{}); !errors.Is(err, lake.ErrNotAnswered) {
		t.Errorf("after the server closed: %v, want ErrNotAnswered", err)
	}
	if _, err := os.Stat(srv.Path()); !os.IsNotExist(err) {
		t.Errorf("the socket is still there after Close: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Another program on the socket (an emulator of another version) does
// not answer; a data directory too deep for a socket's address gets one
// in a private temporary directory.
func TestRemoteNotAnswered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	other := &http.Server{Handler: http.NotFoundHandler()}
	go other.Serve(l)
	defer other.Close()
	var b bytes.Buffer
	if err := lake.NewRemote(path).Write(t.Context(), &b, "select 1", lake.Output{}); !errors.Is(err, lake.ErrNotAnswered) || b.Len() > 0 {
		t.Errorf("a server without the API: %v, wrote %q", err, b.String())
	}

	root, _ := fileRoot(t)
	deep := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	srv := serve(t, open(t, root), deep)
	if strings.HasPrefix(srv.Path(), deep) || len(srv.Path()) > 107 {
		t.Errorf("socket path %s", srv.Path())
	}
	if err := lake.NewRemote(srv.Path()).Write(t.Context(), &b, "select 7 as n", lake.Output{Format: "csv"}); err != nil || b.String() != "n\n7\n" {
		t.Errorf("through the temporary socket: %v %q", err, b.String())
	}
	srv.Close()
	if _, err := os.Stat(filepath.Dir(srv.Path())); !os.IsNotExist(err) {
		t.Errorf("the temporary directory is still there: %v", err)
	}
}
