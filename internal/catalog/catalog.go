// Package catalog is the game's item catalog, defined once and used by the
// API (to validate and price purchases), the load generator (to buy things)
// and the jobs (filters name item types from here).
package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Item is one thing a player can buy.
type Item struct {
	Type   string `json:"item_type"` // what purchases name, e.g. "shield"
	Name   string `json:"item_name"`
	Rarity string `json:"item_rarity"`
	// PriceCents is the unit price in hundredths of DefaultCurrency.
	PriceCents int64 `json:"price_cents"`
}

// DefaultCurrency is the currency prices are in and purchases default to.
const DefaultCurrency = "gold"

// Currencies a purchase may be paid in.
var Currencies = []string{"gold", "gems", "usd", "eur"}

// Rarities, from the most to the least common.
var Rarities = []string{"common", "uncommon", "rare", "epic", "legendary"}

// Items is the catalog, in the order the README lists it.
var Items = []Item{
	{Type: "sword", Name: "Iron Sword", Rarity: "common", PriceCents: 1500},
	{Type: "shield", Name: "Oak Shield", Rarity: "common", PriceCents: 1200},
	{Type: "armor", Name: "Chainmail Armor", Rarity: "uncommon", PriceCents: 4500},
	{Type: "helmet", Name: "Steel Helm", Rarity: "uncommon", PriceCents: 2000},
	{Type: "boots", Name: "Swift Boots", Rarity: "rare", PriceCents: 3500},
	{Type: "bow", Name: "Elven Longbow", Rarity: "rare", PriceCents: 6000},
	{Type: "arrows", Name: "Quiver of Arrows", Rarity: "common", PriceCents: 300},
	{Type: "potion", Name: "Healing Potion", Rarity: "common", PriceCents: 250},
	{Type: "staff", Name: "Staff of Embers", Rarity: "epic", PriceCents: 12000},
	{Type: "ring", Name: "Ring of Echoes", Rarity: "legendary", PriceCents: 50000},
}

// Lookup returns the catalog item of a type.
func Lookup(itemType string) (Item, bool) {
	i := slices.IndexFunc(Items, func(it Item) bool { return it.Type == itemType })
	if i < 0 {
		return Item{}, false
	}
	return Items[i], true
}

// Types lists the item types, for error messages.
func Types() string {
	types := make([]string, len(Items))
	for i, it := range Items {
		types[i] = it.Type
	}
	return strings.Join(types, ", ")
}

// Quantity limits of one purchase.
const (
	MinQuantity = 1
	MaxQuantity = 99
)

// ValidQuantity reports whether q is a purchasable quantity.
func ValidQuantity(q int64) bool { return q >= MinQuantity && q <= MaxQuantity }

// MaxPriceCents bounds what one purchase may cost (100,000.00 in any
// currency; the dearest catalog purchase, 99 rings, is 49,500.00), so sums
// of prices stay far from overflowing.
const MaxPriceCents = 10_000_000

// ValidPrice reports whether p is a price one purchase may have.
func ValidPrice(p int64) bool { return p >= 0 && p <= MaxPriceCents }

// ValidCurrency reports whether c is an accepted currency.
func ValidCurrency(c string) bool { return slices.Contains(Currencies, c) }

// Check validates the catalog itself: unique types, known rarities,
// positive prices. A test runs it; it panics on nothing at run time.
func Check() error {
	seen := map[string]bool{}
	for _, it := range Items {
		switch {
		case it.Type == "" || it.Name == "":
			return fmt.Errorf("item %+v has no type or name", it)
		case seen[it.Type]:
			return fmt.Errorf("item type %q listed twice", it.Type)
		case !slices.Contains(Rarities, it.Rarity):
			return fmt.Errorf("item %s has unknown rarity %q", it.Type, it.Rarity)
		case it.PriceCents <= 0:
			return fmt.Errorf("item %s has price %d", it.Type, it.PriceCents)
		}
		seen[it.Type] = true
	}
	return nil
}
