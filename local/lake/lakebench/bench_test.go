package lakebench_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/emulator"
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
//     warm), with no emulator running: it starts its own engine; and
//   - cli-emulator: the same command beside a running emulator (`questlog
//     start` on another data directory, its console's engine warm), which
//     answers it.
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
	emuDir := startEmulator(b, cli, projectDir, root)
	emuArgs := []string{"sql", "--format", "csv", "--data-dir", emuDir, groupBy}
	checkAnsweredByEmulator(b, cli, projectDir, emuArgs)

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

	var direct_, client_, cold_, cli_, emu_ []time.Duration
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

		cli_ = append(cli_, runCLI(b, cli, projectDir, cliArgs))
		emu_ = append(emu_, runCLI(b, cli, projectDir, emuArgs))
	}
	d, c, dc, q, qe := median(direct_), median(client_), median(cold_), median(cli_), median(emu_)
	b.ReportMetric(ms(d), "ms-duckdb")
	b.ReportMetric(ms(c), "ms-client")
	b.ReportMetric(ms(dc), "ms-duckdb-cold")
	b.ReportMetric(ms(q), "ms-cli")
	b.ReportMetric(ms(qe), "ms-cli-emulator")
	b.ReportMetric(float64(c)/float64(d), "client/duckdb")
	b.ReportMetric(float64(q)/float64(dc), "cli/duckdb-cold")
	b.ReportMetric(float64(qe)/float64(dc), "cli-emulator/duckdb-cold")
}

// runCLI runs questlog and returns how long it took.
func runCLI(b *testing.B, cli, projectDir string, args []string) time.Duration {
	start := time.Now()
	cmd := exec.Command(cli, args...)
	cmd.Dir = projectDir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("questlog %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Since(start)
}

// startEmulator runs `questlog start` on free ports and a data directory
// of its own, reading root, until the benchmark ends; it returns the data
// directory once the emulator published its SQL socket.
func startEmulator(b *testing.B, cli, projectDir, root string) string {
	dir := b.TempDir()
	cmd := exec.Command(cli, "start", "--data-dir", dir, "--port", "0", "--lambda-port", "0", "--kafka-port", "0",
		"--hdfs-port", "0", "--console-port", "0", "--log-level", "warn", "--parameter-overrides", "DatasetRoot="+root)
	cmd.Dir = projectDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var st emulator.State
		data, err := os.ReadFile(filepath.Join(dir, "emulator.json"))
		if err == nil && json.Unmarshal(data, &st) == nil && st.SQLSocket != "" {
			return dir
		}
		select {
		case err := <-exited:
			b.Fatalf("questlog start exited: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("questlog start published no SQL socket in 5 minutes:\n%s", out.String())
		}
	}
}

// checkAnsweredByEmulator runs the command once, warming the emulator's
// engine and mirror, and fails unless the emulator answered it.
func checkAnsweredByEmulator(b *testing.B, cli, projectDir string, args []string) {
	cmd := exec.Command(cli, append(args, "--log-level", "debug")...)
	cmd.Dir = projectDir
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("answered by the running emulator's SQL engine")) || bytes.Contains(out, []byte(`msg="started the SQL engine"`)) {
		b.Fatalf("questlog sql beside the emulator did not ask it: %v\n%s", err, out)
	}
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
