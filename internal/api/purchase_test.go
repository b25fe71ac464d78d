package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/api/apitest"
	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/kafkatest"
)

func TestPurchaseRoutes(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	pub := publisher(t, addr, 5*time.Second)
	get := api.Handler(api.PurchaseItem, pub, quiet)
	post := api.Handler(api.PurchaseItemJSON, pub, quiet)

	for _, tc := range []struct {
		name string
		req  apitest.Request
		h    *api.Route
		want event.Event
	}{
		{"GET with defaults", apitest.Request{Path: "/purchase/divya/shield"}, &api.PurchaseItem,
			event.Event{UserName: "divya", ItemType: "shield", ItemName: "Oak Shield", ItemRarity: "common", Quantity: 1, PriceCents: 1200, Currency: "gold"}},
		{"GET with parameters", apitest.Request{Path: "/purchase/raaga/potion", Query: "quantity=5&price_cents=1000&currency=gems&store_id=north&cart_id=c-9"}, &api.PurchaseItem,
			event.Event{UserName: "raaga", ItemType: "potion", ItemName: "Healing Potion", ItemRarity: "common", Quantity: 5, PriceCents: 1000, Currency: "gems", StoreID: "north", CartID: "c-9"}},
		{"POST JSON", apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword","quantity":2,"price_cents":0,"currency":"usd"}`}, &api.PurchaseItemJSON,
			event.Event{UserName: "divya", ItemType: "sword", ItemName: "Iron Sword", ItemRarity: "common", Quantity: 2, PriceCents: 0, Currency: "usd"}},
	} {
		h := get
		if tc.h == &api.PurchaseItemJSON {
			h = post
		}
		resp := apitest.Invoke(t, h, tc.req)
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, "successfully") {
			t.Fatalf("%s = %d %s", tc.name, resp.StatusCode, resp.Body)
		}
		msgs := kafkatest.ReadAll(t, addr, 1)
		e, err := event.Decode(msgs[len(msgs)-1].Value)
		if err != nil {
			t.Fatal(err)
		}
		w := tc.want
		if e.EventType != event.TypePurchaseItem || e.UserName != w.UserName || e.ItemType != w.ItemType || e.ItemName != w.ItemName ||
			e.ItemRarity != w.ItemRarity || e.Quantity != w.Quantity || e.PriceCents != w.PriceCents || e.Currency != w.Currency ||
			e.StoreID != w.StoreID || e.CartID != w.CartID {
			t.Errorf("%s published %+v, want %+v", tc.name, e, w)
		}
	}
}

func TestPurchaseValidation(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	pub := publisher(t, addr, 5*time.Second)
	get := api.Handler(api.PurchaseItem, pub, quiet)
	post := api.Handler(api.PurchaseItemJSON, pub, quiet)
	for _, tc := range []struct {
		req    apitest.Request
		field  string
		reason string
	}{
		{apitest.Request{Path: "/purchase/divya/laser"}, "item_type", `unknown item_type "laser"`},
		{apitest.Request{Path: "/purchase/divya/sword", Query: "quantity=0"}, "quantity", "quantity 0 must be 1-99"},
		{apitest.Request{Path: "/purchase/divya/sword", Query: "quantity=100"}, "quantity", "quantity 100 must be 1-99"},
		{apitest.Request{Path: "/purchase/divya/sword", Query: "quantity=two"}, "quantity", "not an integer"},
		{apitest.Request{Path: "/purchase/divya/sword", Query: "price_cents=-1"}, "price_cents", "must not be negative"},
		{apitest.Request{Path: "/purchase/divya/sword", Query: "currency=doubloons"}, "currency", "must be one of"},
		{apitest.Request{Path: "/purchase/divya/sword", Query: "store_id=a/b"}, "store_id", "must be 1-64"},
		{apitest.Request{Path: "/purchase/bad%20user/sword"}, "username", "must be 1-64"},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword",`}, "body", "must be a JSON purchase object"},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword","qty":2}`}, "body", `unknown field "qty"`},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword","quantity":"2"}`}, "body", "cannot unmarshal string"},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword"} {}`}, "body", "exactly one JSON object"},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword","price_cents":-5}`}, "price_cents", "must not be negative"},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"quantity":1}`}, "item_type", `unknown item_type ""`},
	} {
		h := get
		if tc.req.Method == "POST" {
			h = post
		}
		resp := apitest.Invoke(t, h, tc.req)
		var body struct{ Message, Field string }
		if resp.StatusCode != 400 || json.Unmarshal([]byte(resp.Body), &body) != nil || body.Field != tc.field || !strings.Contains(body.Message, tc.reason) {
			t.Errorf("%s %s?%s %s = %d %s, want 400 on %s with %q", tc.req.Method, tc.req.Path, tc.req.Query, tc.req.Body, resp.StatusCode, resp.Body, tc.field, tc.reason)
		}
	}
	if msgs := kafkatest.ReadAll(t, addr, 1); len(msgs) != 0 {
		t.Fatalf("invalid purchases published %d events", len(msgs))
	}
}
