package loadgen_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/kafkapub"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/local/loadgen"
)

func TestPlanIsReproducibleAndSkewed(t *testing.T) {
	pop := loadgen.Population{Players: 200, Guilds: 10}
	a, b := loadgen.Plan(pop, 5000, 7), loadgen.Plan(pop, 5000, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two plans")
	}
	if reflect.DeepEqual(a, loadgen.Plan(pop, 5000, 8)) {
		t.Fatal("two seeds gave one plan")
	}
	items, guilds, types := map[string]int{}, map[string]int{}, map[string]int{}
	for _, act := range a {
		types[act.Type]++
		if act.Item != "" {
			items[act.Item]++
		}
		if act.Guild != "" {
			guilds[act.Guild]++
		}
	}
	first, last := catalog.Items[0].Type, catalog.Items[len(catalog.Items)-1].Type
	if items[first] < 3*items[last] {
		t.Errorf("item popularity is not skewed: %s %d, %s %d", first, items[first], last, items[last])
	}
	if guilds[loadgen.Guild(0)] < 3*guilds[loadgen.Guild(9)] {
		t.Errorf("guild popularity is not skewed: %v", guilds)
	}
	for _, ty := range []string{event.TypeDefault, event.TypePurchaseSword, event.TypePurchaseItem, event.TypeJoinGuild} {
		if types[ty] == 0 {
			t.Errorf("the plan has no %s", ty)
		}
	}
}

// gameAPI serves every event route in one process, publishing to addr.
func gameAPI(t *testing.T, addr string) *httptest.Server {
	pub, err := kafkapub.New(kafkapub.Config{Brokers: []string{addr}, Topic: kafkatest.Topic})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	for _, r := range []api.Route{api.Default, api.PurchaseSword, api.JoinGuild, api.PurchaseItem, api.PurchaseItemJSON} {
		mux.Handle(r.Pattern, api.Handler(r, pub, quiet))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// readTopic counts the events in the topic like the datasets would, and
// returns their ids.
func readTopic(t *testing.T, addr string) (byType map[string]int, byItemQuantity map[string]int64, ids map[string]bool) {
	byType, byItemQuantity, ids = map[string]int{}, map[string]int64{}, map[string]bool{}
	for _, m := range kafkatest.ReadAll(t, addr, 3) {
		e, err := event.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		ids[e.EventID] = true
		byType[e.EventType]++
		if e.ItemType != "" {
			byItemQuantity[e.ItemType] += e.Quantity
		}
	}
	return byType, byItemQuantity, ids
}

// acceptedIDs records the event ids OnAccepted reports.
type acceptedIDs map[string]bool

func (a acceptedIDs) record(_ loadgen.Action, id string) { a[id] = true }

func TestRunAgainstTheAPI(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	srv := gameAPI(t, addr)
	accepted := acceptedIDs{}
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Population: loadgen.Population{Players: 50, Guilds: 5}, Count: 400, Concurrency: 8, Seed: 42, BaseURL: srv.URL,
		OnAccepted: accepted.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 400 || res.Accepted != 400 || res.Errors != 0 {
		var b strings.Builder
		res.Summary(&b)
		t.Fatalf("run:\n%s", b.String())
	}
	byType, byItem, ids := readTopic(t, addr)
	if len(ids) != res.Accepted || !reflect.DeepEqual(byType, res.ByType) || !reflect.DeepEqual(byItem, res.QuantityByItem) {
		t.Errorf("topic holds %d events %v %v; loadgen reports %d %v %v", len(ids), byType, byItem, res.Accepted, res.ByType, res.QuantityByItem)
	}
	if !reflect.DeepEqual(map[string]bool(accepted), ids) {
		t.Errorf("OnAccepted reported %d event ids, the topic holds %d, and they differ", len(accepted), len(ids))
	}
	if res.LatencyMs.P50 <= 0 || res.LatencyMs.Max < res.LatencyMs.P99 {
		t.Errorf("latency = %+v", res.LatencyMs)
	}
}

func TestRunCountsRejectedRequests(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	srv := gameAPI(t, addr)
	// Only the default route is served: every other request is a 404.
	res, err := loadgen.Run(context.Background(), loadgen.Config{Count: 100, Seed: 1, BaseURL: srv.URL + "/nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || res.ErrorsByStatus["404"] != 100 {
		t.Errorf("result = accepted %d, errors %v", res.Accepted, res.ErrorsByStatus)
	}
}

func TestKafkaMode(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	accepted := acceptedIDs{}
	res, err := loadgen.Run(context.Background(), loadgen.Config{Count: 2000, Seed: 3, Brokers: []string{addr}, Topic: kafkatest.Topic, OnAccepted: accepted.record})
	if err != nil {
		t.Fatal(err)
	}
	byType, byItem, ids := readTopic(t, addr)
	if res.Accepted != 2000 || len(ids) != 2000 || !reflect.DeepEqual(byType, res.ByType) || !reflect.DeepEqual(byItem, res.QuantityByItem) {
		t.Errorf("kafka mode: accepted %d, topic %d %v %v vs %v %v", res.Accepted, len(ids), byType, byItem, res.ByType, res.QuantityByItem)
	}
	if !reflect.DeepEqual(map[string]bool(accepted), ids) {
		t.Errorf("OnAccepted reported %d event ids, the topic holds %d, and they differ", len(accepted), len(ids))
	}
	// A player's events are on the partition the API functions (kafka-go's
	// Murmur2Balancer) would have put them on, as the inventory needs.
	for _, m := range kafkatest.ReadAll(t, addr, 3) {
		if m.Key == nil {
			continue
		}
		if want := (&kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: m.Key}, 0, 1, 2); m.Partition != want {
			t.Fatalf("player %s on partition %d, the API would use %d", m.Key, m.Partition, want)
		}
	}
}
