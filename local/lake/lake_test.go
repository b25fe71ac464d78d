package lake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/local/lake"
)

// Every dataset is a table, datasets no template declares included; the
// dead letters of every job are one table with a dataset column; declared
// datasets without files are typed tables with no rows, with the columns
// their files will have.
func TestEveryDatasetIsATable(t *testing.T) {
	root, st := fileRoot(t)
	events := planEvents(200, 3)
	landEvents(t, st, "extracted_events", events, 64)
	landEvents(t, st, "raaga_events", events[:10], 4) // a filter added after the template was read
	landSnapshots(t, st, []inventory.Snapshot{
		{UserName: "divya", Items: map[string]int64{"sword": 2}, SpentCents: map[string]int64{"gold": 3000}, Purchases: 2, UpdatedAt: day.UnixMilli(), KafkaTopic: "game-events", KafkaOffset: 7},
	})
	landRejected(t, st, "extracted_events", []job.Rejected{{KafkaTopic: "game-events", KafkaOffset: 3, KafkaTimestamp: day.UnixMilli(), Value: []byte("not json"), Reason: "not JSON"}})
	landRejected(t, st, "guild_joins", []job.Rejected{
		{KafkaTopic: "game-events", KafkaOffset: 3, KafkaTimestamp: day.UnixMilli(), Value: []byte("not json"), Reason: "not JSON"},
		{KafkaTopic: "game-events", KafkaOffset: 4, KafkaTimestamp: day.UnixMilli(), Value: []byte(`{"schema_version":9}`), Reason: "unknown schema_version 9"},
	})
	c := open(t, root)

	tables, err := c.Tables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]lake.Table{}
	for _, tb := range tables {
		byName[tb.Name] = tb
	}
	for name, rows := range map[string]int64{
		"extracted_events": 200, "raaga_events": 10, "inventory": 1, "rejected": 3, "all_events": 210,
		"default_hits": 0, "sword_purchases_hits": 0, // declared, nothing landed yet
	} {
		tb, ok := byName[name]
		if !ok {
			t.Errorf("no table %s among %v", name, slices.Collect(maps.Keys(byName)))
			continue
		}
		if tb.Rows != rows {
			t.Errorf("%s has %d rows, want %d", name, tb.Rows, rows)
		}
	}
	if tb := byName["extracted_events"]; tb.Files != 4 || tb.Bytes <= 0 {
		t.Errorf("extracted_events: %d files, %d bytes; want 4 files", tb.Files, tb.Bytes)
	}
	if _, ok := byName["_rejected"]; ok {
		t.Error("_rejected is a table of its own")
	}

	res := query(t, c, "select dataset, reason, count(*) from rejected group by all order by all")
	want := [][]any{{"extracted_events", "not JSON", int64(1)}, {"guild_joins", "not JSON", int64(1)}, {"guild_joins", "unknown schema_version 9", int64(1)}}
	if !rowsEqual(res.Rows, want) {
		t.Errorf("dead letters by dataset and reason = %v, want %v", res.Rows, want)
	}
	res = query(t, c, "select dataset, count(*) from all_events group by all order by all")
	if want := [][]any{{"extracted_events", int64(200)}, {"raaga_events", int64(10)}}; !rowsEqual(res.Rows, want) {
		t.Errorf("all_events by dataset = %v, want %v", res.Rows, want)
	}

	// A declared dataset without files has the columns of one with files.
	empty := query(t, c, "describe default_hits")
	full := query(t, c, "describe extracted_events")
	if !rowsEqual(empty.Rows, full.Rows) {
		t.Errorf("the empty dataset's columns\n%v\ndiffer from the landed one's\n%v", empty.Rows, full.Rows)
	}
	if res := query(t, c, "select count(*) from default_hits"); res.Rows[0][0] != int64(0) {
		t.Errorf("empty dataset: count = %v", res.Rows[0][0])
	}

	// Values come back typed and JSON-friendly.
	res = query(t, c, "select dt, event_time, quantity, headers, kafka_value from extracted_events, (select kafka_value from rejected limit 1) where quantity is not null order by kafka_offset limit 1")
	row := res.Rows[0]
	if row[0] != "2026-11-27" || !strings.HasPrefix(row[1].(string), "2026-11-27T10:") || !strings.HasSuffix(row[1].(string), "Z") {
		t.Errorf("dt, event_time = %q, %q; want a date and an ISO 8601 UTC instant", row[0], row[1])
	}
	if _, ok := row[2].(int64); !ok {
		t.Errorf("quantity is %T, want int64", row[2])
	}
	if h, ok := row[3].(map[string]any); !ok || h["User-Agent"] != "questlog-loadgen/1" {
		t.Errorf("headers = %#v, want a map with the user agent", row[3])
	}
	if row[4] != "not json" {
		t.Errorf("kafka_value = %q, want the raw bytes as text", row[4])
	}
}

// A query sees every file landed before it started; a new dataset is a
// table at the next query, with no set-up.
func TestQueriesSeeNewFiles(t *testing.T) {
	root, st := fileRoot(t)
	events := planEvents(50, 4)
	landEvents(t, st, "extracted_events", events[:20], 10)
	c := open(t, root)
	if n := count(t, c, "extracted_events"); n != 20 {
		t.Fatalf("count = %d, want 20", n)
	}
	landEvents(t, st, "extracted_events", events, 10) // offsets 20-49 are new
	if n := count(t, c, "extracted_events"); n != 50 {
		t.Errorf("count after landing more = %d, want 50", n)
	}
	landEvents(t, st, "brand_new", events[:5], 5)
	if n := count(t, c, "brand_new"); n != 5 {
		t.Errorf("count of a new dataset = %d, want 5", n)
	}
}

func count(t testing.TB, c *lake.Client, table string) int64 {
	t.Helper()
	return query(t, c, "select count(*) from "+table).Rows[0][0].(int64)
}

// Errors are DuckDB's, plus the tables and the columns of the tables the
// query names.
func TestQueryErrorsNameTablesAndColumns(t *testing.T) {
	root, st := fileRoot(t)
	landEvents(t, st, "extracted_events", planEvents(10, 5), 10)
	c := open(t, root)
	_, err := c.Query(t.Context(), "select purchase_user from extracted_events")
	var qe *lake.QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("err = %v, want a *lake.QueryError", err)
	}
	msg := err.Error()
	for _, want := range []string{"Binder Error", `"purchase_user"`, "tables: all_events, default_hits, extracted_events", "columns of extracted_events: event_id VARCHAR", "user_name VARCHAR"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if qe.Refused || !slices.Equal(qe.Mentioned, []string{"extracted_events"}) {
		t.Errorf("refused = %v, mentioned = %v", qe.Refused, qe.Mentioned)
	}
	_, err = c.Query(t.Context(), "select * from no_such_dataset")
	if !errors.As(err, &qe) || !strings.Contains(err.Error(), "no_such_dataset does not exist") || !strings.Contains(err.Error(), "tables: ") {
		t.Errorf("unknown table: %v", err)
	}
}

// The engine reads the lake and nothing else, and writes nothing.
func TestEngineIsSandboxed(t *testing.T) {
	root, st := fileRoot(t)
	landEvents(t, st, "extracted_events", planEvents(10, 6), 10)
	lakeDir := strings.TrimPrefix(root, "file://")
	outside := t.TempDir()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, root)
	before := tree(t, lakeDir)
	for _, tc := range []struct{ sql, want string }{
		{"select * from read_text('/etc/passwd')", "Permission Error"},
		{"select * from read_text(" + literal(filepath.Join(home, ".bashrc")) + ")", "Permission Error"},
		{"select * from read_parquet(" + literal(filepath.Join(lakeDir, "..", "*", "*.parquet")) + ")", "Permission Error"},
		{"select * from glob('/*')", "Permission Error"},
		{"copy (select 1) to " + literal(filepath.Join(outside, "x.csv")), "COPY is refused"},
		{"copy (select 1) to " + literal(filepath.Join(lakeDir, "x.csv")), "COPY is refused"},
		{"copy extracted_events to " + literal(filepath.Join(lakeDir, "y.parquet")), "COPY is refused"},
		{"select 1; copy (select 1) to " + literal(filepath.Join(lakeDir, "z.csv")), "COPY is refused"},
		{"explain analyze copy (select 1) to " + literal(filepath.Join(lakeDir, "w.csv")), "COPY is refused"},
		{"export database " + literal(filepath.Join(lakeDir, "export")), "EXPORT DATABASE is refused"},
		{"import database " + literal(lakeDir), "IMPORT DATABASE is refused"},
		{"attach " + literal(filepath.Join(lakeDir, "x.duckdb")) + " as x", "ATTACH is refused"},
		{"attach ':memory:' as m", "ATTACH is refused"},
		{"install httpfs", "INSTALL and LOAD are refused"},
		{"load parquet", "INSTALL and LOAD are refused"},
		{"force install httpfs", "INSTALL and LOAD are refused"},
		{"set enable_external_access = true", "the configuration has been locked"},
		{"set allowed_directories = ['/']", "the configuration has been locked"},
		{"create persistent secret s (type s3, key_id 'a', secret 'b')", "Permission Error"},
	} {
		_, err := c.Query(t.Context(), tc.sql)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.sql, err, tc.want)
		}
	}
	if after := tree(t, lakeDir); !slices.Equal(before, after) {
		t.Errorf("the lake changed:\nbefore %v\nafter  %v", before, after)
	}
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Errorf("files written outside: %v", entries)
	}
	// The session's own objects are fine, and the lake's tables survive
	// a user's DROP.
	res := query(t, c, "create temp table t as select 41 as x; select x + 1 from t")
	if res.Rows[0][0] != int64(42) && res.Rows[0][0] != int32(42) {
		t.Errorf("temp table: %v", res.Rows)
	}
	query(t, c, "drop view extracted_events")
	if n := count(t, c, "extracted_events"); n != 10 {
		t.Errorf("after a DROP, extracted_events has %d rows, want 10", n)
	}
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tree lists every file and directory under dir.
func tree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		out = append(out, p)
		return err
	})
	return out
}

// Cancelling a query interrupts it, and the engine answers the next one.
func TestCancel(t *testing.T) {
	root, _ := fileRoot(t)
	c := open(t, root)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, "select count(*) from range(1000000000000) a")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if res := query(t, c, "select 42"); res.Rows[0][0] != int64(42) && res.Rows[0][0] != int32(42) {
		t.Errorf("next query: %v", res.Rows)
	}
}

// The engine stops a running query and ends when its client is gone: a
// killed emulator leaves no engine computing for nobody.
func TestEngineEndsWithItsClient(t *testing.T) {
	dir := t.TempDir()
	engine := exec.Command(engineBin, "--lake", dir, "--out-dir", dir)
	stdin, err := engine.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- engine.Wait() }()
	defer engine.Process.Kill()
	io.WriteString(stdin, `{"id": 1, "sql": "select count(*) from range(1000000000000) a"}`+"\n")
	stdin.Close()
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatal("the engine still runs the query of a client that is gone")
	}
}

// Write's formats hold the same rows; a failing query writes nothing.
func TestWriteFormats(t *testing.T) {
	root, st := fileRoot(t)
	landEvents(t, st, "extracted_events", planEvents(30, 7), 30)
	c := open(t, root)
	const sql = "select event_type, count(*) as n, min(event_time) as first from extracted_events group by 1 order by 1"
	want := query(t, c, sql)
	write := func(format string, maxRows int) string {
		var b bytes.Buffer
		if err := c.Write(t.Context(), &b, sql, lake.Output{Format: format, MaxRows: maxRows}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return b.String()
	}
	csvLines := strings.Split(strings.TrimSpace(write("csv", 0)), "\n")
	if len(csvLines) != len(want.Rows)+1 || csvLines[0] != "event_type,n,first" {
		t.Errorf("csv:\n%s", strings.Join(csvLines, "\n"))
	}
	var array []map[string]any
	if err := json.Unmarshal([]byte(write("json", 0)), &array); err != nil || len(array) != len(want.Rows) {
		t.Errorf("json: %v, %d objects", err, len(array))
	}
	if lines := strings.Split(strings.TrimSpace(write("jsonl", 0)), "\n"); len(lines) != len(want.Rows) || !strings.HasPrefix(lines[0], `{"event_type":"default","n":`) {
		t.Errorf("jsonl:\n%s", strings.Join(lines, "\n"))
	}
	table := write("table", 2)
	if !strings.Contains(table, "|  event_type|") && !strings.Contains(table, "|event_type") || !strings.Contains(table, "only showing the first 2 of 4 rows") {
		t.Errorf("table:\n%s", table)
	}
	if p := write("parquet", 0); !strings.HasPrefix(p, "PAR1") || !strings.HasSuffix(p, "PAR1") {
		t.Errorf("parquet output is not a Parquet file (%d bytes)", len(p))
	}
	var b bytes.Buffer
	if err := c.Write(t.Context(), &b, "select nope from extracted_events", lake.Output{Format: "csv"}); err == nil || b.Len() > 0 {
		t.Errorf("failing query: err %v, wrote %q", err, b.String())
	}
}

// The first query builds the engine from the project's source into the
// data directory, saying so; later clients use that build.
func TestEngineBuiltOnFirstUse(t *testing.T) {
	if !strings.Contains(buildOutput.String(), "building the SQL engine") || !strings.Contains(buildOutput.String(), "built the SQL engine in") {
		t.Errorf("the first build said %q", buildOutput.String())
	}
	var again bytes.Buffer
	c, err := lake.Open(t.Context(), lake.Config{ProjectDir: projectDir(), DataDir: sharedDataDir, DatasetRoot: t.TempDir(), Progress: &again, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if res := query(t, c, "select 7"); res.Rows[0][0] != int64(7) {
		t.Errorf("select 7 = %v", res.Rows)
	}
	if again.Len() > 0 {
		t.Errorf("a second client rebuilt the engine: %s", again.String())
	}
}
