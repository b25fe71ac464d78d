package job_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/internal/testenv"
)

// duckdb runs a query in DuckDB (from npm, installed by `make testdeps`)
// and returns the rows.
func duckdb(t *testing.T, sql string) []map[string]any {
	t.Helper()
	dir, _ := filepath.Abs("../sink/testdata/duckdb")
	node := testenv.Need(t, "node", "apt-get install nodejs npm")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		testenv.Missing(t, "DuckDB (npm @duckdb/node-api)", "make testdeps")
	}
	out, err := exec.Command(node, filepath.Join(dir, "query.mjs"), sql).CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb %q: %v\n%s", sql, err, out)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("duckdb output %s: %v", out, err)
	}
	return rows
}

// The Parquet files are standard: DuckDB reads them with the logical types
// the README documents, and the values parquet-go wrote.
func TestDuckDBReadsTheDatasets(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	e := event.Event{
		SchemaVersion: 1, EventID: "019a6b1e-7c2d-7f00-8000-000000000001", EventType: event.TypePurchaseItem,
		EventTime: event.MillisOf(time.Date(2026, 11, 26, 23, 44, 55, 123e6, time.UTC)),
		UserName:  "divya", ItemType: "shield", ItemName: "Aegis", ItemRarity: "epic", Quantity: 2, PriceCents: 2500, Currency: "gold",
		StoreID: "main", CartID: "c-1", RemoteIP: "203.0.113.7", UserAgent: "curl/8.5.0", Host: "localhost:3000",
		Headers: map[string]string{"Accept": "*/*", "X-Forwarded-For": "198.51.100.1"},
	}
	def := event.Event{SchemaVersion: 1, EventID: "019a6b1e-7c2d-7f00-8000-000000000002", EventType: event.TypeDefault, EventTime: e.EventTime}
	kafkatest.Produce(t, addr, kafka.Message{Key: []byte("divya"), Value: mustJSON(t, e)}, kafka.Message{Value: mustJSON(t, def)},
		kafka.Message{Value: []byte("not json")})
	dir := t.TempDir()
	st, _ := store.Open(context.Background(), dir)
	j := &job.Job{Dataset: "extracted_events", Transform: job.Extract, Sink: sink.New(st, quiet), Log: quiet}
	if _, err := j.Handle(context.Background(), kafkatest.Event(t, addr, kafkatest.ReadAll(t, addr, 1))); err != nil {
		t.Fatal(err)
	}
	glob := filepath.Join(dir, "extracted_events", "*", "*.parquet")

	types := map[string]any{}
	for _, row := range duckdb(t, fmt.Sprintf("DESCRIBE SELECT * FROM read_parquet('%s', hive_partitioning = true)", glob)) {
		types[row["column_name"].(string)] = row["column_type"]
	}
	for col, want := range map[string]string{
		"event_id": "VARCHAR", "event_type": "VARCHAR", "event_time": "TIMESTAMP WITH TIME ZONE", "schema_version": "INTEGER",
		"user_name": "VARCHAR", "quantity": "BIGINT", "price_cents": "BIGINT", "headers": "MAP(VARCHAR, VARCHAR)",
		"kafka_partition": "INTEGER", "kafka_offset": "BIGINT", "kafka_timestamp": "TIMESTAMP WITH TIME ZONE", "dt": "DATE",
	} {
		if types[col] != want {
			t.Errorf("column %s has DuckDB type %v, want %s", col, types[col], want)
		}
	}

	rows := duckdb(t, fmt.Sprintf(`SELECT event_type, user_name, item_name, quantity, price_cents, headers['X-Forwarded-For'] AS xff,
		epoch_ms(event_time) AS ms, CAST(dt AS VARCHAR) AS dt, kafka_offset
		FROM read_parquet('%s', hive_partitioning = true) ORDER BY kafka_offset`, glob))
	want := []map[string]any{
		{"event_type": "purchase_item", "user_name": "divya", "item_name": "Aegis", "quantity": "2", "price_cents": "2500",
			"xff": "198.51.100.1", "ms": fmt.Sprint(int64(e.EventTime)), "dt": "2026-11-26", "kafka_offset": "0"},
		{"event_type": "default", "user_name": nil, "item_name": nil, "quantity": nil, "price_cents": nil,
			"xff": nil, "ms": fmt.Sprint(int64(e.EventTime)), "dt": "2026-11-26", "kafka_offset": "1"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("DuckDB rows =\n%v\nwant\n%v", rows, want)
	}

	dead := duckdb(t, fmt.Sprintf(`SELECT dataset, kafka_offset, CAST(kafka_value AS VARCHAR) AS value, reason
		FROM read_parquet('%s', hive_partitioning = true)`, filepath.Join(dir, "_rejected", "*", "*", "*.parquet")))
	if len(dead) != 1 || dead[0]["dataset"] != "extracted_events" || dead[0]["value"] != "not json" || dead[0]["kafka_offset"] != "2" {
		t.Errorf("DuckDB dead letters = %v", dead)
	}
}

// Every optional column is NULL where the event has no value, whatever
// the rows around it: parquet-go (v0.32) wrote the NULLs after a short
// non-null run as values (empty strings and zeros): a default hit, a
// purchase, then two default hits left the last two with an empty
// item_type, so "where guild_name is null" missed rows. DuckDB reads what
// is written.
func TestAbsentOptionalColumnsAreNull(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	at := event.MillisOf(time.Date(2026, 11, 26, 23, 44, 55, 123e6, time.UTC))
	empty := func(id string) event.Event {
		return event.Event{SchemaVersion: 1, EventID: id, EventType: event.TypeDefault, EventTime: at}
	}
	full := event.Event{
		SchemaVersion: 1, EventID: "full", EventType: event.TypePurchaseItem, EventTime: at,
		UserName: "divya", GuildName: "masadons", ItemType: "shield", ItemName: "Oak Shield", ItemRarity: "common", Quantity: 2, PriceCents: 2400,
		Currency: "gold", StoreID: "web", CartID: "c-1", RemoteIP: "203.0.113.7", UserAgent: "curl/8.5.0", Host: "localhost:3000",
	}
	free := full
	free.EventID, free.PriceCents = "free", 0 // a price of 0 is a price, not NULL
	var msgs []kafka.Message
	for _, e := range []event.Event{empty("e0"), full, empty("e2"), empty("e3"), free, empty("e4")} {
		msgs = append(msgs, kafka.Message{Value: mustJSON(t, e)})
	}
	// Dead letters: a key, then none (NULL kafka_key).
	for _, key := range []string{"", "k", "", "", ""} {
		m := kafka.Message{Value: []byte("not json")}
		if key != "" {
			m.Key = []byte(key)
		}
		msgs = append(msgs, m)
	}
	kafkatest.Produce(t, addr, msgs...)
	dir := t.TempDir()
	st, _ := store.Open(context.Background(), dir)
	j := &job.Job{Dataset: "extracted_events", Transform: job.Extract, Sink: sink.New(st, quiet), Log: quiet}
	if _, err := j.Handle(context.Background(), kafkatest.Event(t, addr, kafkatest.ReadAll(t, addr, 1))); err != nil {
		t.Fatal(err)
	}

	columns := []string{"user_name", "guild_name", "item_type", "item_name", "item_rarity", "quantity", "price_cents", "currency", "store_id", "cart_id", "remote_ip", "user_agent", "host"}
	var counts []string
	for _, c := range columns {
		counts = append(counts, fmt.Sprintf("count(*) FILTER (WHERE %s IS NULL) AS %s", c, c))
	}
	got := duckdb(t, fmt.Sprintf("SELECT %s FROM read_parquet('%s')", strings.Join(counts, ", "), filepath.Join(dir, "extracted_events", "*", "*.parquet")))
	for _, c := range columns {
		if got[0][c] != "4" {
			t.Errorf("%s is NULL in %v of the 4 rows without it", c, got[0][c])
		}
	}
	prices := duckdb(t, fmt.Sprintf("SELECT event_id, price_cents FROM read_parquet('%s') WHERE price_cents IS NOT NULL ORDER BY event_id", filepath.Join(dir, "extracted_events", "*", "*.parquet")))
	if fmt.Sprint(prices) != "[map[event_id:free price_cents:0] map[event_id:full price_cents:2400]]" {
		t.Errorf("prices = %v, want free at 0 and full at 2400", prices)
	}
	dead := duckdb(t, fmt.Sprintf("SELECT count(*) FILTER (WHERE kafka_key IS NULL) AS keyless FROM read_parquet('%s')", filepath.Join(dir, "_rejected", "*", "*", "*.parquet")))
	if dead[0]["keyless"] != "4" {
		t.Errorf("kafka_key is NULL in %v of the 4 dead letters without a key", dead[0]["keyless"])
	}
}
