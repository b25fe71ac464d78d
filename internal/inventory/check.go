package inventory

import (
	"encoding/json"
	"fmt"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
)

// CheckPurchase reports why a purchase event cannot be folded: a player
// without a name, an item type not in the catalog, a quantity, price or
// currency out of bounds. What it accepts keeps a State bounded: at most
// one entry per catalog item, per currency and per event partition.
func CheckPurchase(e *event.Event) error {
	switch {
	case e.UserName == "":
		return fmt.Errorf("a %s without user_name", e.EventType)
	case !inCatalog(e.ItemType):
		return fmt.Errorf("item_type %.64q is not in the catalog (%s)", e.ItemType, catalog.Types())
	case !catalog.ValidQuantity(quantityOf(e)):
		return fmt.Errorf("quantity %d is not %d-%d", e.Quantity, catalog.MinQuantity, catalog.MaxQuantity)
	case !catalog.ValidPrice(e.PriceCents):
		return fmt.Errorf("price_cents %d is not 0-%d", e.PriceCents, catalog.MaxPriceCents)
	case e.Currency == "" && e.PriceCents != 0:
		return fmt.Errorf("price_cents %d without a currency", e.PriceCents)
	case e.Currency != "" && !catalog.ValidCurrency(e.Currency):
		return fmt.Errorf("currency %.16q is not one of %v", e.Currency, catalog.Currencies)
	}
	return nil
}

func inCatalog(itemType string) bool {
	_, ok := catalog.Lookup(itemType)
	return ok
}

// quantityOf is a purchase's quantity: one when the event has none.
func quantityOf(e *event.Event) int64 {
	if e.Quantity == 0 {
		return 1
	}
	return e.Quantity
}

// Sizes of a Kafka record batch's framing, which max.message.bytes counts:
// the v2 batch header, and at most this much per record besides its key
// and value (length, attributes, deltas, key and value lengths, headers).
const (
	batchOverhead  = 61
	recordOverhead = 40
)

// MaxStateBytes bounds a player's state record whatever the topic allows.
// A valid state is well under 2 KB (see CheckPurchase).
const MaxStateBytes = 64 << 10

// recordSize is what a player's state costs of the topic's
// max.message.bytes as a record of its own.
func recordSize(s *State) (int, error) {
	value, err := json.Marshal(s)
	return batchOverhead + recordOverhead + len(s.UserName) + len(value), err
}
