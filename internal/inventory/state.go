// Package inventory folds purchase events into each player's inventory,
// exactly once, and keeps it where the rest of the stack already is: a
// compacted Kafka topic holding one record per player (key: the user name,
// value: the State as JSON).
//
// Why a compacted topic: it is durable and replicated like the events
// themselves, needs no other database, survives restarts, and compaction
// keeps it at one record per player.
//
// Where a player's state lives does not depend on where their events are:
// it is in partition murmur2(user name) of the inventory topic, while their
// events may be on any partition of the events topic (another client's
// partitioner, or none). A fold of one event partition locks the state
// partitions its batch touches (store locks, in ascending order), reads
// them to their end, folds, and writes the new states, so concurrent folds
// of different event partitions never lose each other's updates.
//
// Exactly once: a State remembers the last event offset it applied per
// event partition; an event at or below it is a redelivery and is skipped.
package inventory

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/questlog/questlog/internal/event"
)

// State is one player's inventory.
type State struct {
	UserName string `json:"user_name"`
	// Items counts what the player owns, by item type.
	Items map[string]int64 `json:"items"`
	// SpentCents totals what the player paid, by currency.
	SpentCents map[string]int64 `json:"spent_cents"`
	Purchases  int64            `json:"purchases"`
	// UpdatedAt is the event time of the last purchase applied.
	UpdatedAt event.Millis `json:"updated_at"`
	// Applied maps an event partition to the last offset applied from it.
	Applied map[string]int64 `json:"applied"`
}

// IsPurchase reports whether e is a purchase, which changes an inventory
// if CheckPurchase accepts it.
func IsPurchase(e *event.Event) bool {
	return e.EventType == event.TypePurchaseSword || e.EventType == event.TypePurchaseItem
}

// Apply folds the purchase at partition/offset into s, unless s already
// holds it (applied is false). It refuses, with the reason, a purchase
// CheckPurchase refuses or one that would overflow a total; s is then
// unchanged.
func (s *State) Apply(e *event.Event, partition int32, offset int64) (applied bool, err error) {
	if !IsPurchase(e) {
		return false, nil
	}
	if err := CheckPurchase(e); err != nil {
		return false, err
	}
	key := strconv.Itoa(int(partition))
	if last, ok := s.Applied[key]; ok && offset <= last {
		return false, nil // a redelivered or replayed event
	}
	items, ok1 := addChecked(s.Items[e.ItemType], quantityOf(e))
	spent, ok2 := addChecked(s.SpentCents[e.Currency], e.PriceCents)
	purchases, ok3 := addChecked(s.Purchases, 1)
	switch {
	case !ok1:
		return false, fmt.Errorf("%s's count of %s would overflow", e.UserName, e.ItemType)
	case !ok2:
		return false, fmt.Errorf("%s's spent_cents in %s would overflow", e.UserName, e.Currency)
	case !ok3:
		return false, fmt.Errorf("%s's purchases would overflow", e.UserName)
	}
	if s.Items == nil {
		s.Items, s.SpentCents, s.Applied = map[string]int64{}, map[string]int64{}, map[string]int64{}
	}
	s.UserName = e.UserName
	s.Items[e.ItemType] = items
	if e.Currency != "" {
		s.SpentCents[e.Currency] = spent
	}
	s.Purchases = purchases
	s.UpdatedAt = max(s.UpdatedAt, e.EventTime)
	s.Applied[key] = offset
	return true, nil
}

// addChecked returns a+b, false if the sum of these non-negative amounts
// overflows.
func addChecked(a, b int64) (int64, bool) {
	sum := a + b
	return sum, sum >= a
}

// Clone returns a deep copy, so a fold can be abandoned on error.
func (s State) Clone() State {
	s.Items = maps.Clone(s.Items)
	s.SpentCents = maps.Clone(s.SpentCents)
	s.Applied = maps.Clone(s.Applied)
	return s
}
