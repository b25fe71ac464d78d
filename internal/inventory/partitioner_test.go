package inventory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/api/apitest"
	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/internal/sink"
)

// purchase is a purchase event as the API would publish it.
func purchase(user, item string, quantity int64) []byte {
	value, _ := json.Marshal(event.Event{
		SchemaVersion: event.SchemaVersion, EventID: fmt.Sprintf("%s-%s-%d-%d", user, item, quantity, time.Now().UnixNano()),
		EventType: event.TypePurchaseItem, EventTime: event.MillisOf(time.Now()),
		UserName: user, ItemType: item, Quantity: quantity, PriceCents: 100 * quantity, Currency: "gold",
	})
	return value
}

// produce writes records to explicit partitions of the events topic, as
// another client's partitioner would have placed them.
func produce(t *testing.T, addr string, records ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(kafkatest.Topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// librdkafka's default partitioner (kcat -k, confluent-kafka-go, Python,
// Node): consistent_random, CRC32 of the key.
func librdkafkaPartition(key string, partitions int) int32 {
	return int32(crc32.ChecksumIEEE([]byte(key)) % uint32(partitions))
}

// foldEachPartition runs one folder per event partition, concurrently, as
// separate Lambda invocations (separate processes, each with its own
// table) would, and returns a fresh table to read the result.
func (e *env) foldEachPartition(t *testing.T) {
	t.Helper()
	all := kafkatest.ReadAll(t, e.addr, 3)
	var wg sync.WaitGroup
	for p := range 3 {
		var msgs []kafka.Message
		for _, m := range all {
			if m.Partition == p {
				msgs = append(msgs, m)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		f := &inventory.Folder{Table: inventory.NewTable([]string{e.addr}, stateTopic), Sink: sink.New(e.st, quiet), Dataset: "inventory", Log: quiet}
		t.Cleanup(func() { f.Table.Close() })
		batch := kafkatest.Event(t, e.addr, msgs)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Handle(context.Background(), batch); err != nil {
				t.Errorf("fold of partition %d: %v", p, err)
			}
		}()
	}
	wg.Wait()
}

func (e *env) inventoryOf(t *testing.T, user string) (int, inventory.Inventory) {
	t.Helper()
	table := inventory.NewTable([]string{e.addr}, stateTopic)
	defer table.Close()
	resp := apitest.Invoke(t, inventory.Handler(table, quiet), apitest.Request{Path: "/inventory/" + user})
	var inv inventory.Inventory
	json.Unmarshal([]byte(resp.Body), &inv)
	return resp.StatusCode, inv
}

// A player's events may be on any event partition: produced by another
// client's partitioner (kcat -k user), or spread by a producer that
// ignores keys. The inventory is right anyway, and concurrent folds of
// different event partitions touching the same player lose no update.
func TestInventoryWhateverThePartitioner(t *testing.T) {
	e := setup(t)
	var records []*kgo.Record
	players := []string{"divya", "raaga", "player-1", "player-2", "player-3", "x", "yy", "zed", "kcat-user"}
	moved := 0
	for _, user := range players {
		p := librdkafkaPartition(user, 3)
		if p != int32(inventory.PartitionOf(user, 3)) {
			moved++
		}
		records = append(records,
			&kgo.Record{Key: []byte(user), Partition: p, Value: purchase(user, "sword", 1)},
			&kgo.Record{Key: []byte(user), Partition: p, Value: purchase(user, "potion", 2)})
	}
	if moved == 0 {
		t.Fatal("every player is in murmur2's partition: the test proves nothing")
	}
	// One player whose purchases arrive on every partition, many of them.
	for i := range 60 {
		records = append(records, &kgo.Record{Key: []byte("nomad"), Partition: int32(i % 3), Value: purchase("nomad", "arrows", 1)})
	}
	produce(t, e.addr, records...)
	e.foldEachPartition(t)

	for _, user := range players {
		status, inv := e.inventoryOf(t, user)
		if status != 200 || inv.Items["sword"] != 1 || inv.Items["potion"] != 2 || inv.Purchases != 2 {
			t.Errorf("GET /inventory/%s = %d %+v, want a sword and 2 potions", user, status, inv)
		}
	}
	if status, inv := e.inventoryOf(t, "nomad"); status != 200 || inv.Items["arrows"] != 60 || inv.Purchases != 60 || inv.SpentCents["gold"] != 6000 {
		t.Errorf("GET /inventory/nomad = %d %+v, want 60 arrows from 60 purchases on 3 partitions", status, inv)
	}

	// Folding everything again, per partition and concurrently, counts nothing twice.
	e.foldEachPartition(t)
	if _, inv := e.inventoryOf(t, "nomad"); inv.Items["arrows"] != 60 {
		t.Errorf("after a replay nomad owns %d arrows, want 60", inv.Items["arrows"])
	}
}
