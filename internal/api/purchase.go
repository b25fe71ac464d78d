package api

import (
	"bytes"
	"encoding/json"
	"errors"
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
// (the total paid, 0–catalog.MaxPriceCents) to the catalog price times the
// quantity, currency to gold.
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
			p, err := decodePurchase(r.Body)
			if err != nil {
				return nil, err
			}
			return p.draft(r)
		},
	}
)

// purchase is the request of both purchase routes; nil means "not given".
type purchase struct {
	ItemType   string
	Quantity   *int64
	PriceCents *int64
	Currency   string
	StoreID    string
	CartID     string
}

// field returns where the JSON field name goes, and what it must be; nil
// for a name that is not a field.
func (p *purchase) field(name string) (dst any, kind string) {
	switch name {
	case "item_type":
		return &p.ItemType, "a string"
	case "quantity":
		return &p.Quantity, "an integer"
	case "price_cents":
		return &p.PriceCents, "an integer"
	case "currency":
		return &p.Currency, "a string"
	case "store_id":
		return &p.StoreID, "a string"
	case "cart_id":
		return &p.CartID, "a string"
	}
	return nil, ""
}

const purchaseFields = "item_type, quantity, price_cents, currency, store_id, cart_id"

// decodePurchase reads a JSON purchase strictly: one object whose keys are
// the field names exactly (encoding/json would also take "ITEM_TYPE"), each
// at most once (encoding/json would keep the last). The error names the
// offending field.
func decodePurchase(body []byte) (purchase, error) {
	var p purchase
	dec := json.NewDecoder(bytes.NewReader(body))
	malformed := func(err error) error {
		return &BadRequest{Field: "body", Reason: "body must be a JSON object with the fields " + purchaseFields + ": " + err.Error()}
	}
	if tok, err := dec.Token(); err != nil {
		return p, malformed(err)
	} else if tok != json.Delim('{') {
		return p, malformed(fmt.Errorf("found %v", tok))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p, malformed(err)
		}
		name := tok.(string) // object keys are strings
		dst, kind := p.field(name)
		switch {
		case dst == nil:
			return p, &BadRequest{Field: name, Reason: fmt.Sprintf("unknown field %q: the fields are %s (exactly so, in lower case)", name, purchaseFields)}
		case seen[name]:
			return p, &BadRequest{Field: name, Reason: fmt.Sprintf("field %q given twice", name)}
		}
		seen[name] = true
		if err := dec.Decode(dst); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return p, &BadRequest{Field: name, Reason: fmt.Sprintf("%s must be %s, got %s", name, kind, typeErr.Value)}
			}
			return p, malformed(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return p, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, &BadRequest{Field: "body", Reason: "body must hold exactly one JSON object"}
	}
	return p, nil
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
	user := r.PathValue("username")
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
	if !catalog.ValidPrice(price) {
		return nil, &BadRequest{Field: "price_cents", Reason: fmt.Sprintf("price_cents %d must be at most %d", price, catalog.MaxPriceCents)}
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
