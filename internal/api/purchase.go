package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
)

// Purchases of any catalog item, with parameters:
//
//	GET  /purchase/{username}/{item_type}?quantity=2&price_cents=2400&currency=gold&store_id=main&cart_id=c-17
//	POST /purchase/{username}  {"item_type":"shield","quantity":2,"price_cents":2400,"currency":"gold","store_id":"main","cart_id":"c-17"}
//
// Only item_type is required. quantity defaults to 1 (1–99), price_cents
// (the total paid, ≥ 0) to the catalog price times the quantity, currency
// to gold.
var (
	PurchaseItem = Route{
		Pattern: "GET /purchase/{username}/{item_type}",
		Build: func(r *Request) (*Draft, error) {
			q := r.URL.Query()
			p := purchase{ItemType: r.PathValue("item_type"), Currency: q.Get("currency"), StoreID: q.Get("store_id"), CartID: q.Get("cart_id")}
			var err error
			if p.Quantity, err = queryInt(q, "quantity"); err != nil {
				return nil, err
			}
			if p.PriceCents, err = queryInt(q, "price_cents"); err != nil {
				return nil, err
			}
			return p.draft(r)
		},
	}

	PurchaseItemJSON = Route{
		Pattern: "POST /purchase/{username}",
		Build: func(r *Request) (*Draft, error) {
			var p purchase
			dec := json.NewDecoder(bytes.NewReader(r.Body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				return nil, &BadRequest{Field: "body", Reason: "body must be a JSON purchase object: " + err.Error()}
			}
			if _, err := dec.Token(); err != io.EOF {
				return nil, &BadRequest{Field: "body", Reason: "body must hold exactly one JSON object"}
			}
			return p.draft(r)
		},
	}
)

// purchase is the request of both purchase routes; nil means "not given".
type purchase struct {
	ItemType   string `json:"item_type"`
	Quantity   *int64 `json:"quantity"`
	PriceCents *int64 `json:"price_cents"`
	Currency   string `json:"currency"`
	StoreID    string `json:"store_id"`
	CartID     string `json:"cart_id"`
}

func queryInt(q url.Values, key string) (*int64, error) {
	if !q.Has(key) {
		return nil, nil
	}
	n, err := strconv.ParseInt(q.Get(key), 10, 64)
	if err != nil {
		return nil, &BadRequest{Field: key, Reason: fmt.Sprintf("%s %q is not an integer", key, q.Get(key))}
	}
	return &n, nil
}

// draft validates the purchase against the catalog.
func (p purchase) draft(r *Request) (*Draft, error) {
	user, err := name(r, "username")
	if err != nil {
		return nil, err
	}
	item, ok := catalog.Lookup(p.ItemType)
	if !ok {
		return nil, &BadRequest{Field: "item_type", Reason: fmt.Sprintf("unknown item_type %q; the catalog has %s", p.ItemType, catalog.Types())}
	}
	quantity := int64(1)
	if p.Quantity != nil {
		quantity = *p.Quantity
	}
	if !catalog.ValidQuantity(quantity) {
		return nil, &BadRequest{Field: "quantity", Reason: fmt.Sprintf("quantity %d must be %d-%d", quantity, catalog.MinQuantity, catalog.MaxQuantity)}
	}
	price := item.PriceCents * quantity
	if p.PriceCents != nil {
		price = *p.PriceCents
	}
	if price < 0 {
		return nil, &BadRequest{Field: "price_cents", Reason: fmt.Sprintf("price_cents %d must not be negative", price)}
	}
	currency := p.Currency
	if currency == "" {
		currency = catalog.DefaultCurrency
	}
	if !catalog.ValidCurrency(currency) {
		return nil, &BadRequest{Field: "currency", Reason: fmt.Sprintf("currency %q must be one of %v", currency, catalog.Currencies)}
	}
	for field, v := range map[string]string{"store_id": p.StoreID, "cart_id": p.CartID} {
		if v != "" && !event.ValidName(v) {
			return nil, &BadRequest{Field: field, Reason: fmt.Sprintf("%s %q must be %s", field, v, event.NameRule)}
		}
	}
	return &Draft{
		Event: event.Event{
			EventType: event.TypePurchaseItem, UserName: user,
			ItemType: item.Type, ItemName: item.Name, ItemRarity: item.Rarity,
			Quantity: quantity, PriceCents: price, Currency: currency, StoreID: p.StoreID, CartID: p.CartID,
		},
		Reply: fmt.Sprintf("Hello %s!! You purchased %d × %s for %d.%02d %s successfully!\n", user, quantity, item.Name, price/100, price%100, currency),
	}, nil
}
