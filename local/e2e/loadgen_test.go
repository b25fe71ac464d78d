package e2e_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/questlog/questlog/local/loadgen"
)

// loadgen against the emulator for a fixed count and seed: every dataset
// holds exactly the events the generator reports as accepted, by type, by
// player and by item, and the inventories add up to the purchases.
func TestLoadgenMatchesTheDatasets(t *testing.T) {
	e := start(t, config(t), everything)
	cfg := loadgen.Config{Population: loadgen.Population{Players: 40, Guilds: 6}, Count: 600, Concurrency: 8, Seed: 7, BaseURL: e.APIURL}
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != cfg.Count {
		t.Fatalf("loadgen: %d of %d accepted, errors %v", res.Accepted, cfg.Count, res.ErrorsByStatus)
	}
	st := openStore(t, e.DatasetRoot)
	all := waitRows(t, st, "extracted_events", res.Accepted, 2*time.Minute)
	exactlyOnce(t, "extracted_events", all)
	byType, byUser, byItem, qtyByItem := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int64{}
	for _, r := range all {
		byType[r.EventType]++
		if r.UserName != "" {
			byUser[r.UserName]++
		}
		if r.ItemType != "" {
			byItem[r.ItemType]++
			qtyByItem[r.ItemType] += r.Quantity
		}
	}
	if !maps.Equal(byType, res.ByType) || !maps.Equal(byUser, res.ByUser) || !maps.Equal(byItem, res.ByItem) || !maps.Equal(qtyByItem, res.QuantityByItem) {
		t.Errorf("extracted_events by type %v, user %d players, item %v %v; loadgen reports %v, %d players, %v %v",
			byType, len(byUser), byItem, qtyByItem, res.ByType, len(res.ByUser), res.ByItem, res.QuantityByItem)
	}
	for dataset, want := range map[string]int{
		"default_hits": res.ByType["default"], "guild_joins": res.ByType["join_a_guild"],
		"sword_purchases_hits": res.ByItem["sword"], "shield_purchases": res.ByItem["shield"],
	} {
		got := waitRows(t, st, dataset, want, time.Minute)
		if ids := exactlyOnce(t, dataset, got); len(ids) != want {
			t.Errorf("%s holds %d events, want %d", dataset, len(ids), want)
		}
	}

	// Each player's inventory is the sum of their purchases in the plan.
	owned := map[string]map[string]int64{}
	for _, a := range loadgen.Plan(cfg.Population, cfg.Count, cfg.Seed) {
		if a.Item != "" {
			if owned[a.User] == nil {
				owned[a.User] = map[string]int64{}
			}
			owned[a.User][a.Item] += a.Quantity
		}
	}
	for user, want := range owned {
		eventually(t, time.Minute, "the inventory of "+user, func() (bool, string) {
			r := request(t, "GET", e.APIURL+"/inventory/"+user, "")
			var inv struct{ Items map[string]int64 }
			json.Unmarshal([]byte(r.body), &inv)
			return r.status == 200 && maps.Equal(inv.Items, want), r.body
		})
	}
}
