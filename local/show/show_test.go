package show_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/show"
)

func landSeed(t *testing.T, n int) store.Store {
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 20, 41, 0, 0, time.UTC)
	var recs []sink.Record[event.Row]
	for i := range n {
		e := event.Event{SchemaVersion: 1, EventID: fmt.Sprintf("id-%02d", i), EventType: event.TypePurchaseSword,
			EventTime: event.MillisOf(at), UserName: []string{"divya", "raaga"}[i%2], ItemType: "sword",
			UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6)", Headers: map[string]string{"Accept": "*/*"}}
		recs = append(recs, sink.Record[event.Row]{Offset: int64(i), Date: at, Row: event.NewRow(&e, event.Source{Topic: "game-events", Offset: int64(i), Timestamp: at.UnixMilli()})})
	}
	if _, err := sink.Land(context.Background(), sink.New(st, nil), "sword_purchases_hits", "game-events", 0, recs); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestShowPrintsLikeSpark(t *testing.T) {
	st := landSeed(t, 25)
	var out bytes.Buffer
	if err := show.Show(context.Background(), st, "sword_purchases_hits", show.Options{}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+1+1+20+1+1 {
		t.Fatalf("got %d lines, want a header, 20 rows and a footer:\n%s", len(lines), out.String())
	}
	if !strings.HasPrefix(lines[0], "+") || !strings.Contains(lines[1], "|event_id|") || !strings.Contains(lines[1], "|user_name|") {
		t.Errorf("header:\n%s\n%s", lines[0], lines[1])
	}
	row := lines[3]
	for _, want := range []string{"|   id-00|", "|purchase_sword|", "|2026-11-26 20:41:...|", "|Mozilla/5.0 (Maci...|", "|{Accept -> */*}|", "|2026-11-26|", "|     null|"} {
		if !strings.Contains(row, want) {
			t.Errorf("first row lacks %q:\n%s", want, row)
		}
	}
	if lines[len(lines)-1] != "only showing top 20 rows" {
		t.Errorf("footer = %q", lines[len(lines)-1])
	}
}

func TestShowWhereAndLimit(t *testing.T) {
	st := landSeed(t, 10)
	var out bytes.Buffer
	err := show.Show(context.Background(), st, "sword_purchases_hits", show.Options{Where: `user_name == "raaga" && guild_name == ""`, Limit: 3, JSON: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"user_name":"raaga"`) || !strings.Contains(lines[0], `"event_id":"id-01"`) {
		t.Fatalf("--where/--limit/--json output:\n%s", out.String())
	}
	if err := show.Show(context.Background(), st, "sword_purchases_hits", show.Options{Where: `nope ==`}, &out); err == nil {
		t.Error("a bad --where expression was accepted")
	}
	if err := show.Show(context.Background(), st, "no_such_dataset", show.Options{}, &out); err == nil || !strings.Contains(err.Error(), "has no files") {
		t.Errorf("missing dataset: %v", err)
	}
}
