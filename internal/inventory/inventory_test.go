package inventory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/api/apitest"
	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/kafkapub"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const stateTopic = "player-inventory"

type env struct {
	addr string
	pub  *kafkapub.Publisher
	st   store.Store
}

func setup(t *testing.T) *env {
	addr := kafkatest.Start(t, 3, stateTopic)
	pub, err := kafkapub.New(kafkapub.Config{Brokers: []string{addr}, Topic: kafkatest.Topic})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &env{addr: addr, pub: pub, st: st}
}

func (e *env) buy(t *testing.T, route api.Route, req apitest.Request) {
	t.Helper()
	if resp := apitest.Invoke(t, api.Handler(route, e.pub, quiet), req); resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", req.Method, req.Path, resp.StatusCode, resp.Body)
	}
}

// fold runs a fresh folder (a new execution environment) over every record
// of the topic and returns it.
func (e *env) fold(t *testing.T) *inventory.Folder {
	t.Helper()
	f := &inventory.Folder{Table: inventory.NewTable([]string{e.addr}, stateTopic), Sink: sink.New(e.st, quiet), Dataset: "inventory", Log: quiet}
	t.Cleanup(func() { f.Table.Close() })
	e.refold(t, f)
	return f
}

func (e *env) refold(t *testing.T, f *inventory.Folder) {
	t.Helper()
	batch := kafkatest.Event(t, e.addr, kafkatest.ReadAll(t, e.addr, 3))
	if _, err := f.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

func items(t *testing.T, f *inventory.Folder, user string) map[string]int64 {
	t.Helper()
	p := inventory.PartitionOf(user, 3)
	if err := f.Table.CatchUp(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Table.Get(p, user)
	return st.Items
}

func TestFoldIsExactlyOnce(t *testing.T) {
	e := setup(t)
	e.buy(t, api.PurchaseSword, apitest.Request{Path: "/purchase_a_sword/divya"})
	e.buy(t, api.PurchaseItem, apitest.Request{Path: "/purchase/divya/potion", Query: "quantity=3"})
	e.buy(t, api.PurchaseItemJSON, apitest.Request{Method: "POST", Path: "/purchase/raaga", Body: `{"item_type":"shield","quantity":2,"currency":"gems","price_cents":900}`})
	e.buy(t, api.JoinGuild, apitest.Request{Path: "/join_a_guild/divya/masadons"})

	f := e.fold(t)
	want := map[string]map[string]int64{"divya": {"sword": 1, "potion": 3}, "raaga": {"shield": 2}}
	for user, w := range want {
		if got := items(t, f, user); !maps.Equal(got, w) {
			t.Errorf("%s owns %v, want %v", user, got, w)
		}
	}

	// The whole topic again, in the same process and in a new one (a
	// restart, or a replay): nothing is counted twice.
	e.refold(t, f)
	restarted := e.fold(t)
	for user, w := range want {
		if got := items(t, restarted, user); !maps.Equal(got, w) {
			t.Errorf("after replay and restart %s owns %v, want %v", user, got, w)
		}
	}

	// New purchases after the restart are added to the recovered state.
	e.buy(t, api.PurchaseItem, apitest.Request{Path: "/purchase/divya/potion", Query: "quantity=2"})
	e.refold(t, restarted)
	if got := items(t, restarted, "divya"); got["potion"] != 5 || got["sword"] != 1 {
		t.Errorf("after a new purchase divya owns %v, want 5 potions and a sword", got)
	}

	snaps, err := sink.ReadDataset[inventory.Snapshot](context.Background(), restarted.Sink, "inventory")
	if err != nil {
		t.Fatal(err)
	}
	var divya []int64
	for _, s := range snaps {
		if s.UserName == "divya" {
			divya = append(divya, s.Items["potion"])
		}
	}
	if fmt.Sprint(divya) != "[3 5]" {
		t.Errorf("divya's snapshots hold %v potions, want one snapshot per batch that changed her: [3 5]", divya)
	}
}

func TestInventoryRoute(t *testing.T) {
	e := setup(t)
	e.buy(t, api.PurchaseItem, apitest.Request{Path: "/purchase/divya/bow", Query: "quantity=1&price_cents=6000"})
	e.fold(t)
	h := inventory.Handler(inventory.NewTable([]string{e.addr}, stateTopic), quiet)

	resp := apitest.Invoke(t, h, apitest.Request{Path: "/inventory/divya"})
	var inv inventory.Inventory
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &inv) != nil || inv.Items["bow"] != 1 || inv.SpentCents["gold"] != 6000 || inv.Purchases != 1 {
		t.Fatalf("GET /inventory/divya = %d %s", resp.StatusCode, resp.Body)
	}
	if _, err := time.Parse(time.RFC3339Nano, inv.UpdatedAt); err != nil {
		t.Errorf("updated_at %q: %v", inv.UpdatedAt, err)
	}
	for path, status := range map[string]int{"/inventory/nobody": 404, "/inventory/bad%20name": 400, "/inventory": 404,
		"/inventory/..": 400, "/inventory/.": 400, "/inventory/%2E%2e": 400, "/inventory/%2e": 400} {
		resp := apitest.Invoke(t, h, apitest.Request{Path: path})
		var body struct{ Message string }
		if resp.StatusCode != status || json.Unmarshal([]byte(resp.Body), &body) != nil || body.Message == "" {
			t.Errorf("GET %s = %d %s, want %d with a JSON reason", path, resp.StatusCode, resp.Body, status)
		}
	}
}
