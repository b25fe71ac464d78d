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
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword",`}, "body", "must be a JSON object"},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword","qty":2}`}, "qty", `unknown field "qty"`},
		{apitest.Request{Method: "POST", Path: "/purchase/divya", Body: `{"item_type":"sword","quantity":"2"}`}, "quantity", "quantity must be an integer"},
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

// POST /purchase/{username} reads its JSON strictly: field names exactly as
// documented (encoding/json would take "ITEM_TYPE" for item_type) and each
// once (encoding/json would keep the last of two). The 400 names the field.
func TestPurchaseJSONIsStrict(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	post := api.Handler(api.PurchaseItemJSON, publisher(t, addr, 5*time.Second), quiet)
	for body, want := range map[string]struct{ field, reason string }{
		`{"ITEM_TYPE":"ring"}`:                                    {"ITEM_TYPE", `unknown field "ITEM_TYPE"`},
		`{"item_type":"ring","Quantity":2}`:                       {"Quantity", `unknown field "Quantity"`},
		`{"item_type":"sword","item_type":"ring"}`:                {"item_type", `"item_type" given twice`},
		`{"item_type":"ring","quantity":1,"quantity":99}`:         {"quantity", `"quantity" given twice`},
		`{"item_type":"ring","price_cents":1,"price_cents":null}`: {"price_cents", `"price_cents" given twice`},
		`{"item_type":"sword","quantity":"2"}`:                    {"quantity", "quantity must be an integer"},
		`{"item_type":"sword","quantity":2.5}`:                    {"quantity", "quantity must be an integer"},
		`{"item_type":["ring"]}`:                                  {"item_type", "item_type must be a string"},
		`["item_type","ring"]`:                                    {"body", "must be a JSON object"},
		`{"item_type":"sword"}{"item_type":"ring"}`:               {"body", "exactly one JSON object"},
	} {
		resp := apitest.Invoke(t, post, apitest.Request{Method: "POST", Path: "/purchase/divya", Body: body})
		var got struct{ Message, Field string }
		if resp.StatusCode != 400 || json.Unmarshal([]byte(resp.Body), &got) != nil || got.Field != want.field || !strings.Contains(got.Message, want.reason) {
			t.Errorf("POST %s = %d %s, want 400 on %q with %q", body, resp.StatusCode, resp.Body, want.field, want.reason)
		}
	}
	if msgs := kafkatest.ReadAll(t, addr, 1); len(msgs) != 0 {
		t.Fatalf("loose JSON published %d events", len(msgs))
	}
}
