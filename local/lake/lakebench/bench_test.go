package lakebench_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/hdfs"
	"github.com/questlog/questlog/local/lake"
	"github.com/questlog/questlog/local/loadgen"
)

const (
	benchRows   = 1_000_000
	rowsPerFile = 1000 // a full batch of one partition
	groupBy     = "SELECT event_type, item_type, count(*) AS events, sum(quantity) AS quantity, sum(price_cents) AS cents FROM extracted_events GROUP BY ALL ORDER BY ALL"
)

// TestMain doubles as DuckDB's command line for the cold baseline: run
// with DUCKDB_QUERY set, the test binary runs that query in a new DuckDB
// and prints the rows, as `duckdb -c` would.
func TestMain(m *testing.M) {
	if q := os.Getenv("DUCKDB_QUERY"); q != "" {
		db, err := sql.Open("duckdb", "")
		if err == nil {
			var n int
			if n, err = runQuery(db, q); err == nil {
				fmt.Println(n, "rows")
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runQuery(db *sql.DB, q string) (int, error) {
	rows, err := db.Query(q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// BenchmarkGroupBy1M runs a group-by over 1M rows of extracted_events,
// landed as the jobs land them on the embedded HDFS, four ways in turn
// each iteration (the machine is noisy; alternating keeps the comparisons
// fair), each pair a questlog way beside DuckDB's own:
//   - duckdb: DuckDB itself (the Go driver, in process, warm) on the
//     mirror's files, beside
//   - client: the lake client (its engine process stays up), refreshing
//     the mirror from HDFS first, as the console and the prompt run
//     queries;
//   - duckdb-cold: DuckDB in a new process (as `duckdb -c`), beside
//   - cli: the questlog sql command, a new process each time (the mirror
//     warm).
func BenchmarkGroupBy1M(b *testing.B) {
	ctx := context.Background()
	dataDir := b.TempDir()
	srv, err := hdfs.Start(ctx, hdfs.Config{DataDir: b.TempDir(), NameNodeAddr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	root := "hdfs://" + srv.NameNodeAddr() + "/tmp"
	landMillion(b, root)

	projectDir, _ := filepath.Abs("../../..")
	client, err := lake.Open(ctx, lake.Config{ProjectDir: projectDir, DataDir: dataDir, DatasetRoot: root, Progress: os.Stderr, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	want, err := client.Query(ctx, groupBy) // builds the engine, warms the mirror
	if err != nil {
		b.Fatal(err)
	}

	// questlog next to its engine, as an installed questlog.
	binDir := filepath.Join(dataDir, "lake", "bin")
	cli := filepath.Join(binDir, "questlog")
	if out, err := exec.Command("go", "build", "-o", cli, "../..").CombinedOutput(); err != nil {
		b.Fatalf("build questlog: %v\n%s", err, out)
	}
	cliArgs := []string{"sql", "--format", "csv", "--data-dir", dataDir, "--parameter-overrides", "DatasetRoot=" + root, groupBy}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET parquet_metadata_cache = true"); err != nil {
		b.Fatal(err)
	}
	glob := filepath.Join(dataDir, "lake", "mirror", "extracted_events", "dt=*", "*.parquet")
	direct := fmt.Sprintf("WITH extracted_events AS (SELECT * FROM read_parquet('%s', hive_partitioning = true, hive_types = {'dt': 'DATE'})) %s", glob, groupBy)
	runDirect := func() int {
		n, err := runQuery(db, direct)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	if n := runDirect(); n != len(want.Rows) {
		b.Fatalf("DuckDB directly: %d groups, questlog: %d", n, len(want.Rows))
	}

	var direct_, client_, cold_, cli_ []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		runDirect()
		direct_ = append(direct_, time.Since(start))

		start = time.Now()
		if _, err := client.Query(ctx, groupBy); err != nil {
			b.Fatal(err)
		}
		client_ = append(client_, time.Since(start))

		start = time.Now()
		cold := exec.Command(os.Args[0])
		cold.Env = append(os.Environ(), "DUCKDB_QUERY="+direct)
		if out, err := cold.CombinedOutput(); err != nil {
			b.Fatalf("DuckDB in a new process: %v\n%s", err, out)
		}
		cold_ = append(cold_, time.Since(start))

		start = time.Now()
		cmd := exec.Command(cli, cliArgs...)
		cmd.Dir = projectDir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("questlog sql: %v\n%s", err, out)
		}
		cli_ = append(cli_, time.Since(start))
	}
	d, c, dc, q := median(direct_), median(client_), median(cold_), median(cli_)
	b.ReportMetric(ms(d), "ms-duckdb")
	b.ReportMetric(ms(c), "ms-client")
	b.ReportMetric(ms(dc), "ms-duckdb-cold")
	b.ReportMetric(ms(q), "ms-cli")
	b.ReportMetric(float64(c)/float64(d), "client/duckdb")
	b.ReportMetric(float64(q)/float64(dc), "cli/duckdb-cold")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// landMillion lands benchRows events of loadgen's population in
// extracted_events, in files of rowsPerFile, spread over 3 partitions.
func landMillion(b *testing.B, root string) {
	ctx := context.Background()
	st, err := store.Open(ctx, root)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := sink.New(st, quiet())
	gen := loadgen.NewGenerator(loadgen.Population{Players: 5000, Guilds: 40}, 1)
	start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	next := [3]int64{}
	for i := 0; i < benchRows; i += rowsPerFile {
		p := int32((i / rowsPerFile) % 3)
		recs := make([]sink.Record[event.Row], rowsPerFile)
		for j := range recs {
			e := loadgen.EventFor(gen.Next(), start.Add(time.Duration(i+j)*50*time.Millisecond))
			off := next[p]
			next[p]++
			recs[j] = sink.Record[event.Row]{Offset: off, Date: e.EventTime.Time(), Row: event.NewRow(&e, event.Source{Topic: "game-events", Partition: p, Offset: off, Timestamp: int64(e.EventTime)})}
		}
		if _, err := sink.Land(ctx, s, "extracted_events", "game-events", p, recs); err != nil {
			b.Fatal(err)
		}
	}
}
