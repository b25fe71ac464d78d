package inventory_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// raw is a purchase event with any field values, as a hostile producer
// could write it straight to Kafka.
func raw(user string, fields map[string]any) []byte {
	e := map[string]any{
		"schema_version": 1, "event_id": user + "-" + time.Now().Format(time.RFC3339Nano), "event_type": "purchase_item",
		"event_time": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "user_name": user,
		"item_type": "sword", "quantity": 1, "price_cents": 1500, "currency": "gold",
	}
	for k, v := range fields {
		e[k] = v
	}
	b, _ := json.Marshal(e)
	return b
}

// murmur2 places a record as the API's publisher would.
func murmur2(user string, value []byte) *kgo.Record {
	return &kgo.Record{Key: []byte(user), Partition: int32(inventory.PartitionOf(user, 3)), Value: value}
}

func deadLetters(t *testing.T, st store.Store) []job.Rejected {
	t.Helper()
	dead, err := sink.ReadDataset[job.Rejected](context.Background(), sink.New(st, quiet), sink.RejectedDataset("inventory"))
	if err != nil {
		t.Fatal(err)
	}
	return dead
}

// The poison: two valid-looking purchases with a 600 KB item_type
// made the player's state exceed Kafka's 1 MB record limit, and the fold
// failed on every retry, stalling every other player of the partition.
// The fold now folds only what is valid (catalog item types, quantity,
// price and currency bounds); the rest goes to the dead letters with the
// reason, and the partition moves on.
func TestPoisonPurchasesAreDeadLettersNotStalls(t *testing.T) {
	e := setup(t)
	hugeX, hugeY := strings.Repeat("x", 600<<10), strings.Repeat("y", 600<<10)
	var records []*kgo.Record
	invalid := []map[string]any{
		{"item_type": hugeX}, {"item_type": hugeY}, // the poison: over 1 MB together
		{"item_type": "laser"},
		{"quantity": 100},
		{"price_cents": 9223372036854775807},
		{"currency": "doubloons"},
		{"currency": nil, "price_cents": 500},
	}
	for _, fields := range invalid {
		records = append(records, murmur2("poison", raw("poison", fields)))
	}
	records = append(records, murmur2("poison", raw("poison", nil))) // one valid sword
	for _, user := range []string{"divya", "raaga", "player-1", "player-2"} {
		records = append(records, murmur2(user, raw(user, map[string]any{"item_type": "potion", "quantity": 3, "price_cents": 750})))
	}
	produce(t, e.addr, records...)

	f := e.fold(t) // fails the test if the fold fails
	for _, user := range []string{"divya", "raaga", "player-1", "player-2"} {
		if status, inv := e.inventoryOf(t, user); status != 200 || inv.Items["potion"] != 3 {
			t.Errorf("GET /inventory/%s = %d %+v, want 3 potions", user, status, inv)
		}
	}
	if status, inv := e.inventoryOf(t, "poison"); status != 200 || len(inv.Items) != 1 || inv.Items["sword"] != 1 || inv.SpentCents["gold"] != 1500 || inv.Purchases != 1 {
		t.Errorf("GET /inventory/poison = %d: %d item types, %d swords, spent %v in %d purchases; want the one valid sword",
			status, len(inv.Items), inv.Items["sword"], inv.SpentCents, inv.Purchases)
	}
	dead := deadLetters(t, e.st)
	if len(dead) != len(invalid) {
		t.Fatalf("%d dead letters, want %d: %+v", len(dead), len(invalid), dead)
	}
	for _, d := range dead {
		if !strings.Contains(d.Reason, "not folded") || len(d.Value) == 0 {
			t.Errorf("dead letter at offset %d: reason %q", d.KafkaOffset, d.Reason)
		}
	}
	// A redelivery lands no dead letter twice.
	e.refold(t, f)
	if n := len(deadLetters(t, e.st)); n != len(invalid) {
		t.Errorf("after a redelivery: %d dead letters, want %d", n, len(invalid))
	}
}

// A state record the inventory topic refuses as too large is a permanent
// error for that player's purchases: they become dead letters (decided
// from the topic's max.message.bytes before anything is written, so a
// redelivery decides the same), and every other player's state is
// written. Here the topic takes 400-byte records: a player with a
// 64-character name who owns one of everything does not fit.
func TestStateTooLargeForTheTopicIsADeadLetter(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, kafkatest.Topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	limit := "400"
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 3, 1, map[string]*string{"max.message.bytes": &limit, "cleanup.policy": new("compact")}, stateTopic); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{addr: addr, st: st}

	hoarder := strings.Repeat("h", 64)
	var records []*kgo.Record
	for _, item := range []string{"sword", "shield", "armor", "helmet", "boots", "bow", "arrows", "potion", "staff", "ring"} {
		for _, currency := range []string{"gold", "gems", "usd", "eur"} {
			records = append(records, murmur2(hoarder, raw(hoarder, map[string]any{"item_type": item, "currency": currency})))
		}
	}
	players := []string{"p1", "p2", "p3", "p4", "p5", "p6"}
	for _, user := range players {
		records = append(records, murmur2(user, raw(user, nil)))
	}
	produce(t, addr, records...)
	f := e.fold(t)
	for _, user := range players {
		if status, inv := e.inventoryOf(t, user); status != 200 || inv.Items["sword"] != 1 {
			t.Errorf("GET /inventory/%s = %d %+v, want a sword", user, status, inv)
		}
	}
	if status, _ := e.inventoryOf(t, hoarder); status != 404 {
		t.Errorf("the hoarder's state was written (%d) although the topic cannot hold it", status)
	}
	dead := deadLetters(t, st)
	if len(dead) != 40 || !strings.Contains(dead[0].Reason, "max.message.bytes") {
		t.Fatalf("%d dead letters (want the hoarder's 40), first reason %q", len(dead), dead[0].Reason)
	}
	e.refold(t, f)
	if n := len(deadLetters(t, st)); n != 40 {
		t.Errorf("after a redelivery: %d dead letters, want 40", n)
	}
}

var _ = event.SchemaVersion
