package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/inventory"
)

// expectedInventory is what a player's purchases add up to, computed here
// from the topic rather than by the code under test.
type expectedInventory struct {
	Items      map[string]int64
	SpentCents map[string]int64
	Purchases  int64
}

// validPurchase reports whether a purchase may change an inventory, by the
// rule the fold and the API share (inventory.CheckPurchase); the sums are
// computed here, not by the code under test.
func validPurchase(e *event.Event) bool {
	return inventory.IsPurchase(e) && inventory.CheckPurchase(e) == nil
}

// expectedInventories folds the valid purchases of the topic, for every
// player who appears in a purchase event at all (one whose purchases were
// all invalid must have no inventory).
func expectedInventories(topic *eventsTopic) map[string]expectedInventory {
	want := map[string]expectedInventory{}
	for i := range topic.records {
		e := &topic.records[i].event
		if !topic.records[i].valid || e.UserName == "" || !inventory.IsPurchase(e) {
			continue
		}
		w := want[e.UserName]
		if w.Items == nil {
			w.Items, w.SpentCents = map[string]int64{}, map[string]int64{}
		}
		if validPurchase(e) {
			w.Items[e.ItemType] += max(e.Quantity, 1) // a purchase without a quantity is of one item
			if e.Currency != "" {
				w.SpentCents[e.Currency] += e.PriceCents
			}
			w.Purchases++
		}
		want[e.UserName] = w
	}
	return want
}

func (w expectedInventory) equal(items, spent map[string]int64, purchases int64) bool {
	return purchases == w.Purchases && maps.Equal(nonZero(items), nonZero(w.Items)) && maps.Equal(nonZero(spent), nonZero(w.SpentCents))
}

// amounts writes {shield:2 sword:1}, long keys cut short.
func amounts(m map[string]int64) string {
	m = nonZero(m)
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%d", clip(k, 20), m[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// inventoryCheck is GET /inventory/{user} against the expected inventory
// of every player.
type inventoryCheck struct {
	Players, Mismatched int
	Examples            []string
}

// checkInventories asks the API for every player's inventory. A mismatch
// is asked again once, a few seconds later, before it counts.
func checkInventories(ctx context.Context, apiURL string, want map[string]expectedInventory) inventoryCheck {
	client := &http.Client{Timeout: 15 * time.Second}
	users := slices.Sorted(maps.Keys(want))
	check := func(users []string) map[string]string {
		var mu sync.Mutex
		wrong := map[string]string{}
		work := make(chan string)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for u := range work {
					if why := compareInventory(ctx, client, apiURL, u, want[u]); why != "" {
						mu.Lock()
						wrong[u] = why
						mu.Unlock()
					}
				}
			})
		}
		for _, u := range users {
			work <- u
		}
		close(work)
		wg.Wait()
		return wrong
	}
	wrong := check(users)
	if len(wrong) > 0 {
		time.Sleep(3 * time.Second)
		wrong = check(slices.Sorted(maps.Keys(wrong)))
	}
	c := inventoryCheck{Players: len(users), Mismatched: len(wrong)}
	for _, u := range slices.Sorted(maps.Keys(wrong)) {
		if len(c.Examples) == 5 {
			break
		}
		c.Examples = append(c.Examples, wrong[u])
	}
	return c
}

// compareInventory returns why the API's inventory of user is not w, or "".
func compareInventory(ctx context.Context, client *http.Client, apiURL, user string, w expectedInventory) string {
	req, err := http.NewRequestWithContext(ctx, "GET", apiURL+"/inventory/"+pathSegment(user), nil)
	if err != nil {
		return fmt.Sprintf("%s: %v", user, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Sprintf("%s: %v", user, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	want := fmt.Sprintf("%d purchases %s spent %s", w.Purchases, amounts(w.Items), amounts(w.SpentCents))
	switch {
	case resp.StatusCode == http.StatusNotFound && w.Purchases == 0:
		return ""
	case resp.StatusCode != http.StatusOK:
		return clip(fmt.Sprintf("%s: want %s, got %d %s", user, want, resp.StatusCode, body), 300)
	}
	var got struct {
		Items      map[string]int64 `json:"items"`
		SpentCents map[string]int64 `json:"spent_cents"`
		Purchases  int64            `json:"purchases"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Sprintf("%s: the answer is not an inventory: %v", user, err)
	}
	if w.equal(got.Items, got.SpentCents, got.Purchases) {
		return ""
	}
	return clip(fmt.Sprintf("%s: want %s, got %d purchases %s spent %s", user, want, got.Purchases, amounts(got.Items), amounts(got.SpentCents)), 300)
}

// pathSegment escapes a user name for a URL path. Names are letters,
// digits, '_', '-' and '.', which need no escaping, except that a name of
// only dots would be taken for "this" or "the parent" directory.
func pathSegment(name string) string {
	switch name {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return name
}
