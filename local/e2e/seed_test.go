package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/testenv"
)

// The reference pipeline's walkthrough, run for real: curl the routes,
// read the topic with kcat, and find each dataset on the embedded HDFS.
func TestSeedWalkthrough(t *testing.T) {
	e := start(t, config(t), everything)
	for path, text := range map[string]string{
		"/":                              "This is the default response!\n",
		"/purchase_a_sword/divya":        "Hello divya!! You purchased a Sword successfully!\n",
		"/purchase_a_sword/raaga":        "Hello raaga!! You purchased a Sword successfully!\n",
		"/join_a_guild/divya/masadons":   "Hey divya!! You joined the guild masadons successfully!\n",
		"/join_a_guild/raaga/wildhorses": "Hey raaga!! You joined the guild wildhorses successfully!\n",
		"/purchase/raaga/shield?quantity=2&currency=gems&price_cents=900": "Hello raaga!! You purchased 2 × Oak Shield for 9.00 gems successfully!\n",
	} {
		r := request(t, "GET", e.APIURL+path, "", "Authorization", "Bearer s3cret", "Cookie", "sid=c00kie", "X-Api-Key", "k3y")
		if r.status != 200 || r.body != text {
			t.Errorf("GET %s = %d %q, want 200 %q", path, r.status, r.body, text)
		}
	}
	if r := request(t, "POST", e.APIURL+"/purchase/divya", `{"item_type":"potion","quantity":3}`, "Content-Type", "application/json"); r.status != 200 {
		t.Errorf("POST /purchase/divya = %d %s", r.status, r.body)
	}
	for path, status := range map[string]int{
		"/purchase_a_sword/" + strings.Repeat("x", 65): 400,
		"/join_a_guild/divya/bad%21guild":              400,
		"/purchase/divya/laser":                        400,
		"/no/such/route":                               404,
	} {
		r := request(t, "GET", e.APIURL+path, "")
		var body struct{ Message string }
		if r.status != status || json.Unmarshal([]byte(r.body), &body) != nil || body.Message == "" {
			t.Errorf("GET %s = %d %s, want %d with a JSON reason", path, r.status, r.body, status)
		}
	}
	garbage(t, e.Brokers, "\x00not an event")

	// The events are on the topic, credentials are not.
	topic := strings.Join(topicValues(t, e.Brokers, "game-events"), "\n")
	if n := strings.Count(topic, `"event_type":"purchase_sword"`); n != 2 {
		t.Errorf("the topic holds %d sword purchases, want 2:\n%s", n, topic)
	}
	for _, secret := range []string{"s3cret", "c00kie", "k3y"} {
		if strings.Contains(topic, secret) {
			t.Errorf("a credential (%s) reached Kafka:\n%s", secret, topic)
		}
	}
	t.Run("kcat", func(t *testing.T) { // as in the reference
		kcat := testenv.Need(t, "kcat", "apt-get install kcat")
		out := cmdOutput(t, nil, kcat, "-C", "-b", e.Brokers[0], "-t", "game-events", "-o", "beginning", "-e", "-q")
		if n := strings.Count(out, `"event_type":"purchase_sword"`); n != 2 {
			t.Errorf("kcat shows %d sword purchases, want 2:\n%s", n, out)
		}
	})

	st := openStore(t, e.DatasetRoot)
	want := map[string][]string{
		"extracted_events":           {"default  ", "join_a_guild divya masadons", "join_a_guild raaga wildhorses", "purchase_item divya ", "purchase_item raaga ", "purchase_sword divya ", "purchase_sword raaga "},
		"extracted_events_munged":    {"default  ", "join_a_guild divya masadons", "join_a_guild raaga wildhorses", "purchase_item divya ", "purchase_item raaga ", "purchase_sword divya ", "purchase_sword raaga "},
		"default_hits":               {"default  "},
		"sword_purchases_hits":       {"purchase_sword divya ", "purchase_sword raaga "},
		"guild_joins":                {"join_a_guild divya masadons", "join_a_guild raaga wildhorses"},
		"sword_purchases_hits_divya": {"join_a_guild divya masadons", "purchase_item divya ", "purchase_sword divya "},
		"joined_guilds_user":         {"join_a_guild divya masadons"},
		"shield_purchases":           {"purchase_item raaga "},
	}
	for dataset, w := range want {
		got := waitRows(t, st, dataset, len(w), 90*time.Second)
		exactlyOnce(t, dataset, got)
		var summary []string
		for _, r := range got {
			summary = append(summary, strings.Join([]string{r.EventType, r.UserName, r.GuildName}, " "))
			if r.RemoteIP != "127.0.0.1" || r.Host == "" || r.KafkaTopic != "game-events" {
				t.Errorf("%s: row %+v", dataset, r)
			}
			for _, h := range []string{"Authorization", "Cookie", "X-Api-Key"} {
				if _, leaked := r.Headers[h]; leaked {
					t.Errorf("%s: %s recorded", dataset, h)
				}
			}
		}
		slices.Sort(summary)
		if !slices.Equal(summary, w) {
			t.Errorf("%s = %q, want %q", dataset, summary, w)
		}
	}
	for _, r := range rows(t, st, "shield_purchases") {
		if r.ItemName != "Oak Shield" || r.Quantity != 2 || r.PriceCents == nil || *r.PriceCents != 900 || r.Currency != "gems" {
			t.Errorf("shield purchase row %+v", r)
		}
	}

	eventually(t, 60*time.Second, "the garbage record in _rejected", func() (bool, string) {
		dead, err := sink.ReadDataset[job.Rejected](context.Background(), sink.New(st, nil), sink.RejectedDataset("extracted_events"))
		return err == nil && len(dead) == 1 && string(dead[0].Value) == "\x00not an event", fmt.Sprint(dead, err)
	})

	t.Run("hdfs ls", func(t *testing.T) { // the reference's `hadoop fs -ls`, with Debian's hdfs CLI
		hdfs := testenv.Need(t, "hdfs", "apt-get install hdfs-cli")
		nn := strings.TrimPrefix(strings.TrimSuffix(e.DatasetRoot, "/tmp"), "hdfs://")
		ls := cmdOutput(t, []string{"HADOOP_NAMENODE=" + nn}, hdfs, "ls", "/tmp/default_hits/*")
		if !strings.Contains(ls, ".parquet") {
			t.Errorf("hdfs ls /tmp/default_hits:\n%s", ls)
		}
	})

	// The inventory reflects the purchases within a few seconds.
	eventually(t, 30*time.Second, "divya's inventory", func() (bool, string) {
		r := request(t, "GET", e.APIURL+"/inventory/divya", "")
		var inv struct{ Items map[string]int64 }
		json.Unmarshal([]byte(r.body), &inv)
		return r.status == 200 && inv.Items["sword"] == 1 && inv.Items["potion"] == 3, r.body
	})
	if r := request(t, "GET", e.APIURL+"/inventory/nobody", ""); r.status != 404 {
		t.Errorf("unknown player's inventory = %d %s", r.status, r.body)
	}
}

func garbage(t *testing.T, brokers []string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("game-events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Value: []byte(v)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
