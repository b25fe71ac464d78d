package job_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/api/apitest"
	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/filter"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/kafkapub"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// The reference pipeline's walkthrough: its requests, then its datasets.
var seedRequests = []struct {
	route api.Route
	path  string
}{
	{api.Default, "/"},
	{api.PurchaseSword, "/purchase_a_sword/divya"},
	{api.PurchaseSword, "/purchase_a_sword/raaga"},
	{api.JoinGuild, "/join_a_guild/divya/masadons"},
	{api.JoinGuild, "/join_a_guild/raaga/wildhorses"},
}

// The template's jobs: dataset → transform.
func seedJobs(t *testing.T) map[string]job.Transform {
	jobs := map[string]job.Transform{"extracted_events": job.Extract, "extracted_events_munged": job.Munge}
	for dataset, expr := range map[string]string{
		"default_hits":               `event_type == "default"`,
		"sword_purchases_hits":       `event_type == "purchase_sword"`,
		"guild_joins":                `event_type == "join_a_guild"`,
		"sword_purchases_hits_divya": `user_name == "divya"`,
		"joined_guilds_user":         `guild_name == "masadons"`,
	} {
		p, err := filter.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		jobs[dataset] = job.Filter(p)
	}
	return jobs
}

func TestSeedPipeline(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	pub, err := kafkapub.New(kafkapub.Config{Brokers: []string{addr}, Topic: kafkatest.Topic})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	headers := map[string]string{"user-agent": "Mozilla/5.0", "accept": "text/html", "cache-control": "max-age=0", "cookie": "sid=1"}
	for _, r := range seedRequests {
		if resp := apitest.Invoke(t, api.Handler(r.route, pub, quiet), apitest.Request{Path: r.path, Headers: headers}); resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d %s", r.path, resp.StatusCode, resp.Body)
		}
	}
	kafkatest.Produce(t, addr,
		kafka.Message{Key: []byte("x"), Value: []byte("\x00garbage\xff")},
		kafka.Message{Key: []byte("x"), Value: []byte(`{"schema_version":9,"event_id":"e","event_type":"default","event_time":"2026-11-26T00:00:00.000Z"}`)},
	)
	msgs := kafkatest.ReadAll(t, addr, 3)
	batch := kafkatest.Event(t, addr, msgs)

	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := sink.New(st, quiet)
	for dataset, transform := range seedJobs(t) {
		j := &job.Job{Dataset: dataset, Transform: transform, Sink: s, Log: quiet}
		sum, err := j.Handle(context.Background(), batch)
		if err != nil {
			t.Fatalf("%s: %v", dataset, err)
		}
		if sum.Records != 7 || sum.Rejected != 2 || sum.Landed+sum.Filtered != 5 {
			t.Errorf("%s summary = %+v, want 7 records, 2 rejected", dataset, sum)
		}
		again, err := j.Handle(context.Background(), batch) // redelivered
		if err != nil || again.Landed != 0 || len(again.Files) != 0 {
			t.Errorf("%s redelivery = %+v, %v; want nothing landed", dataset, again, err)
		}
	}

	want := map[string][]string{ // dataset → "type user guild" rows
		"extracted_events":           {"default  ", "join_a_guild divya masadons", "join_a_guild raaga wildhorses", "purchase_sword divya ", "purchase_sword raaga "},
		"extracted_events_munged":    {"default  ", "join_a_guild divya masadons", "join_a_guild raaga wildhorses", "purchase_sword divya ", "purchase_sword raaga "},
		"default_hits":               {"default  "},
		"sword_purchases_hits":       {"purchase_sword divya ", "purchase_sword raaga "},
		"guild_joins":                {"join_a_guild divya masadons", "join_a_guild raaga wildhorses"},
		"sword_purchases_hits_divya": {"join_a_guild divya masadons", "purchase_sword divya "},
		"joined_guilds_user":         {"join_a_guild divya masadons"},
	}
	for dataset, rows := range want {
		got, err := sink.ReadDataset[event.Row](context.Background(), s, dataset)
		if err != nil {
			t.Fatal(err)
		}
		var summary []string
		for _, r := range got {
			summary = append(summary, strings.Join([]string{r.EventType, r.UserName, r.GuildName}, " "))
			checkRow(t, dataset, r)
		}
		slices.Sort(summary)
		if !slices.Equal(summary, rows) {
			t.Errorf("%s rows = %q, want %q", dataset, summary, rows)
		}
	}

	dead, err := sink.ReadDataset[job.Rejected](context.Background(), s, sink.RejectedDataset("extracted_events"))
	if err != nil || len(dead) != 2 {
		t.Fatalf("dead letters = %v, %v; want 2", dead, err)
	}
	slices.SortFunc(dead, func(a, b job.Rejected) int { return strings.Compare(a.Reason, b.Reason) })
	if string(dead[0].Value) != "\x00garbage\xff" || !strings.Contains(dead[0].Reason, "invalid event") ||
		!strings.Contains(dead[1].Reason, "unsupported schema_version 9") || dead[0].KafkaTopic != kafkatest.Topic {
		t.Errorf("dead letters = %+v", dead)
	}
}

func checkRow(t *testing.T, dataset string, r event.Row) {
	t.Helper()
	if r.EventID == "" || r.EventTime == 0 || r.KafkaTopic != kafkatest.Topic || r.KafkaTimestamp == 0 || r.SchemaVersion != 1 {
		t.Errorf("%s: incomplete row %+v", dataset, r)
	}
	if r.RemoteIP != "203.0.113.7" || r.UserAgent != "Mozilla/5.0" || r.Host != "localhost:3000" {
		t.Errorf("%s: client columns %q %q %q", dataset, r.RemoteIP, r.UserAgent, r.Host)
	}
	if _, leaked := r.Headers["Cookie"]; leaked {
		t.Errorf("%s: cookie recorded", dataset)
	}
	munged := dataset != "extracted_events"
	if _, hasUA := r.Headers["User-Agent"]; hasUA == munged {
		t.Errorf("%s: User-Agent in the headers map = %v, want %v", dataset, hasUA, !munged)
	}
	if r.Headers["Cache-Control"] != "max-age=0" {
		t.Errorf("%s: headers = %v", dataset, r.Headers)
	}
}

// A batch whose records overlap an earlier one, with other boundaries,
// lands each record once.
func TestOverlappingBatches(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	var msgs []kafka.Message
	for i := range 30 {
		e := event.Event{SchemaVersion: 1, EventID: "e" + string(rune('a'+i%26)) + string(rune('0'+i/26)), EventType: event.TypeDefault, EventTime: event.MillisOf(time.Now())}
		msgs = append(msgs, kafka.Message{Value: mustJSON(t, e)})
	}
	kafkatest.Produce(t, addr, msgs...)
	all := kafkatest.ReadAll(t, addr, 1)
	st, _ := store.Open(context.Background(), t.TempDir())
	j := &job.Job{Dataset: "extracted_events", Transform: job.Extract, Sink: sink.New(st, quiet), Log: quiet}
	for _, window := range [][2]int{{0, 10}, {5, 20}, {0, 30}, {12, 18}, {25, 30}} {
		if _, err := j.Handle(context.Background(), kafkatest.Event(t, addr, all[window[0]:window[1]])); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := sink.ReadDataset[event.Row](context.Background(), j.Sink, "extracted_events")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for _, r := range rows {
		seen[r.KafkaOffset]++
	}
	for off := range int64(30) {
		if seen[off] != 1 {
			t.Errorf("offset %d landed %d times", off, seen[off])
		}
	}
}
