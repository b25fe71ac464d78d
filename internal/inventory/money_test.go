package inventory_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/api/apitest"
	"github.com/questlog/questlog/internal/inventory"
)

// The overflow: a purchase priced at the largest int64, then a
// normal one, left the player with negative gold. Prices are bounded at
// the API (400 naming price_cents) and sums are checked in the fold: a
// purchase that would overflow a total is a dead letter, never a wrap.
func TestMoneyIsBoundedAndSumsAreChecked(t *testing.T) {
	e := setup(t)
	post := api.Handler(api.PurchaseItemJSON, e.pub, quiet)
	for _, body := range []string{
		`{"item_type":"shield","price_cents":9223372036854775807}`,
		`{"item_type":"shield","price_cents":10000001}`,
	} {
		resp := apitest.Invoke(t, post, apitest.Request{Method: "POST", Path: "/purchase/u", Body: body})
		var reason struct{ Message, Field string }
		if resp.StatusCode != 400 || json.Unmarshal([]byte(resp.Body), &reason) != nil || reason.Field != "price_cents" {
			t.Errorf("POST %s = %d %s, want 400 naming price_cents", body, resp.StatusCode, resp.Body)
		}
	}
	e.buy(t, api.PurchaseItemJSON, apitest.Request{Method: "POST", Path: "/purchase/u", Body: `{"item_type":"shield","price_cents":10000000}`})
	e.buy(t, api.PurchaseItemJSON, apitest.Request{Method: "POST", Path: "/purchase/u", Body: `{"item_type":"shield"}`})
	e.fold(t)
	if _, inv := e.inventoryOf(t, "u"); inv.SpentCents["gold"] != 10_001_200 || inv.Items["shield"] != 2 {
		t.Errorf("u spent %v on %d shields, want 10001200 gold on 2", inv.SpentCents, inv.Items["shield"])
	}

	// A player whose total is a purchase away from overflowing (as a state
	// written by an older build, or decades of play, could be).
	rich := inventory.State{UserName: "rich", Items: map[string]int64{"ring": math.MaxInt64 - 1}, SpentCents: map[string]int64{"gold": math.MaxInt64 - 100},
		Purchases: 7, Applied: map[string]int64{}}
	value, _ := json.Marshal(rich)
	w := &kafka.Writer{Addr: kafka.TCP(e.addr), Topic: stateTopic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond,
		Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return inventory.PartitionOf("rich", 3) })}
	if err := w.WriteMessages(context.Background(), kafka.Message{Key: []byte("rich"), Value: value}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	e.buy(t, api.PurchaseItem, apitest.Request{Path: "/purchase/rich/sword"})                                   // gold would overflow
	e.buy(t, api.PurchaseItem, apitest.Request{Path: "/purchase/rich/ring", Query: "price_cents=0&quantity=2"}) // rings would
	e.buy(t, api.PurchaseItem, apitest.Request{Path: "/purchase/rich/potion", Query: "price_cents=0"})          // fine
	e.fold(t)
	_, inv := e.inventoryOf(t, "rich")
	if inv.SpentCents["gold"] != math.MaxInt64-100 || inv.Items["ring"] != math.MaxInt64-1 || inv.Items["potion"] != 1 || inv.Purchases != 8 {
		t.Errorf("rich: spent %v, %d rings, %d potions, %d purchases; want the totals unchanged but for the potion", inv.SpentCents, inv.Items["ring"], inv.Items["potion"], inv.Purchases)
	}
	var overflows int
	for _, d := range deadLetters(t, e.st) {
		if strings.Contains(d.Reason, "overflow") {
			overflows++
		}
	}
	if overflows != 2 {
		t.Errorf("%d dead letters say overflow, want 2", overflows)
	}
}
