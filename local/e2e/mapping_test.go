package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/esm"
	"github.com/questlog/questlog/local/loadgen"
)

// produce writes n generated events straight to the topic and returns how
// many were acknowledged.
func produce(t testing.TB, brokers []string, n int, seed uint64) *loadgen.Result {
	t.Helper()
	res, err := loadgen.Run(context.Background(), loadgen.Config{Count: n, Seed: seed, Brokers: brokers, Topic: "game-events"})
	if err != nil || res.Accepted != n {
		t.Fatalf("produce %d events: %+v %v", n, res, err)
	}
	return res
}

// A job that fails gets the same batch again, with backoff, until it
// succeeds; nothing is skipped and nothing lands twice.
func TestFailingJobIsRetriedUntilItSucceeds(t *testing.T) {
	cfg := config(t)
	root := t.TempDir()
	// A file where the dataset's directory should be: every landing fails.
	blocker := filepath.Join(root, "extracted_events")
	if err := os.WriteFile(blocker, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.ParameterOverrides = map[string]string{emulator.ParamDatasetRoot: "file://" + root}
	cfg.Functions = []string{"ExtractFunction"}
	e := start(t, cfg, everything)
	produce(t, e.Brokers, 50, 1)

	eventually(t, 60*time.Second, "failed attempts of ExtractFunction", func() (bool, string) {
		s := e.Stats()[0]
		return s.Errors >= 2 && s.Records == 0, fmt.Sprintf("%+v", s.StatsSnapshot)
	})
	os.Remove(blocker) // the outage ends
	st := openStore(t, "file://"+root)
	got := waitRows(t, st, "extracted_events", 50, 90*time.Second)
	if ids := exactlyOnce(t, "extracted_events", got); len(ids) != 50 {
		t.Fatalf("extracted_events holds %d events, want 50", len(ids))
	}
}

// Killing a function's process in the middle of its batches loses no
// record and duplicates none: the batch is retried, the store's lock (an
// HDFS lease) is recovered, the half-written file is discarded.
func TestKilledFunctionLosesNothing(t *testing.T) {
	cfg := config(t)
	cfg.Functions = []string{"ExtractFunction"}
	e := start(t, cfg, everything)
	const n = 20_000
	produce(t, e.Brokers, n, 2)

	kills := 0
	eventually(t, 2*time.Minute, "three kills of a busy ExtractFunction", func() (bool, string) {
		if e.Runtime.Stats()["ExtractFunction"].Busy == 0 {
			return false, fmt.Sprintf("%d kills, function idle", kills) // kill it only in the middle of a batch
		}
		for _, pid := range e.Runtime.PIDs("ExtractFunction") { // only processes this emulator started
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				kills++
			}
		}
		time.Sleep(300 * time.Millisecond)
		return kills >= 3, fmt.Sprintf("%d kills", kills)
	})
	st := openStore(t, e.DatasetRoot)
	got := waitRows(t, st, "extracted_events", n, 3*time.Minute)
	if ids := exactlyOnce(t, "extracted_events", got); len(ids) != n {
		t.Fatalf("extracted_events holds %d events, want %d", len(ids), n)
	}
	if s := e.Stats()[0]; s.Errors == 0 {
		t.Errorf("no invocation failed although the function was killed %d times: %+v", kills, s.StatsSnapshot)
	}
}

// A replay of the whole topic through a job, beside the live mapping of
// the same job, adds no duplicate.
func TestReplayBesideTheLiveMapping(t *testing.T) {
	cfg := config(t)
	cfg.Functions = []string{"ExtractFunction", "GuildJoinsFilter"}
	e := start(t, cfg, everything)
	const n = 5000
	res := produce(t, e.Brokers, n, 3)

	fn := e.Template.Function("ExtractFunction")
	var wg sync.WaitGroup
	var sum esm.ReplaySummary
	var replayErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sum, replayErr = esm.Replay(context.Background(), e.Mapping(fn, fn.KafkaEvents[0]), e.Runtime, esm.ReplayOptions{})
	}()
	st := openStore(t, e.DatasetRoot)
	got := waitRows(t, st, "extracted_events", n, 3*time.Minute)
	wg.Wait()
	if replayErr != nil || sum.Records != n {
		t.Fatalf("replay = %+v, %v", sum, replayErr)
	}
	if ids := exactlyOnce(t, "extracted_events", rows(t, st, "extracted_events")); len(ids) != n || len(got) < n {
		t.Fatalf("extracted_events holds %d events, want %d", len(ids), n)
	}

	// FilterCriteria: GuildJoinsFilter only ever received joins, and the
	// offsets of everything else were committed all the same.
	joins := waitRows(t, st, "guild_joins", res.ByType["join_a_guild"], time.Minute)
	for _, r := range joins {
		if r.EventType != "join_a_guild" {
			t.Fatalf("guild_joins holds a %s", r.EventType)
		}
	}
	eventually(t, 30*time.Second, "GuildJoinsFilter's group committed to the end of the topic", func() (bool, string) {
		committed, ends := groupOffsets(t, e.Brokers, "questlog-guild-joins")
		return committed == ends, fmt.Sprintf("committed %d of %d", committed, ends)
	})
	if s := statsOf(e, "GuildJoinsFilter"); s.Filtered != int64(n-res.ByType["join_a_guild"]) {
		t.Errorf("GuildJoinsFilter filtered %d records, want %d", s.Filtered, n-res.ByType["join_a_guild"])
	}
}

func statsOf(e *emulator.Emulator, function string) emulator.MappingStats {
	for _, s := range e.Stats() {
		if s.Function == function {
			return s
		}
	}
	return emulator.MappingStats{}
}

// groupOffsets sums a group's committed offsets and the topic's end offsets.
func groupOffsets(t *testing.T, brokers []string, group string) (committed, ends int64) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.OffsetResponse) { committed += o.At })
	end, err := adm.ListEndOffsets(ctx, "game-events")
	if err != nil {
		t.Fatal(err)
	}
	end.Each(func(o kadm.ListedOffset) { ends += o.Offset })
	return committed, ends
}
