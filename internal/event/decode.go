package event

import (
	"errors"
	"fmt"

	"github.com/questlog/questlog/internal/jsonscan"
)

// Decoder decodes wire events, several times faster than encoding/json for
// this one schema (the jobs decode every record they read). A Decoder is
// not safe for concurrent use; the zero value is ready.
type Decoder struct {
	buf []byte // scratch for unescaping
}

// Decode parses one wire event and validates it. It follows encoding/json's
// rules for this schema (null leaves a field empty, unknown keys are
// ignored, invalid UTF-8 becomes U+FFFD) except that keys match exactly.
func (d *Decoder) Decode(data []byte) (Event, error) {
	return d.decode(data, false)
}

// DecodeOwned is Decode for a buffer the caller hands over: the event's
// strings point into data instead of being copied, so data must never be
// modified afterwards. It saves an allocation per field.
func (d *Decoder) DecodeOwned(data []byte) (Event, error) {
	return d.decode(data, true)
}

func (d *Decoder) decode(data []byte, owned bool) (Event, error) {
	var e Event
	s := jsonscan.Scanner{Data: data, Owned: owned, Buf: d.buf}
	err := object(&s, &e)
	if err == nil {
		err = s.End()
	}
	d.buf = s.Buf
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Decode parses and validates one wire event with a throwaway Decoder.
func Decode(data []byte) (Event, error) {
	var d Decoder
	return d.Decode(data)
}

func object(s *jsonscan.Scanner, e *Event) error {
	return s.Members(func(key []byte) error {
		var err error
		switch string(key) {
		case "schema_version":
			var v int64
			v, err = s.IntOrNull(key)
			e.SchemaVersion = int(v)
		case "event_id":
			e.EventID, err = s.StringOrNull(key)
		case "event_type":
			e.EventType, err = s.StringOrNull(key)
		case "event_time":
			var t string
			if t, err = s.StringOrNull(key); err == nil && t != "" {
				e.EventTime, err = ParseMillis(t)
			}
		case "user_name":
			e.UserName, err = s.StringOrNull(key)
		case "guild_name":
			e.GuildName, err = s.StringOrNull(key)
		case "item_type":
			e.ItemType, err = s.StringOrNull(key)
		case "item_name":
			e.ItemName, err = s.StringOrNull(key)
		case "item_rarity":
			e.ItemRarity, err = s.StringOrNull(key)
		case "quantity":
			e.Quantity, err = s.IntOrNull(key)
		case "price_cents":
			e.PriceCents, err = s.IntOrNull(key)
		case "currency":
			e.Currency, err = s.StringOrNull(key)
		case "store_id":
			e.StoreID, err = s.StringOrNull(key)
		case "cart_id":
			e.CartID, err = s.StringOrNull(key)
		case "remote_ip":
			e.RemoteIP, err = s.StringOrNull(key)
		case "user_agent":
			e.UserAgent, err = s.StringOrNull(key)
		case "host":
			e.Host, err = s.StringOrNull(key)
		case "headers":
			e.Headers, err = headers(s)
		default:
			err = s.Skip()
		}
		return err
	})
}

func headers(s *jsonscan.Scanner) (map[string]string, error) {
	if s.Null() {
		return nil, nil
	}
	if c, err := s.Peek(); err != nil {
		return nil, err
	} else if c != '{' {
		return nil, errors.New("headers must be an object of strings")
	}
	h := make(map[string]string, 8)
	err := s.Members(func(key []byte) error {
		name := s.String(key)
		v, err := s.StringOrNull(key)
		if err != nil {
			return fmt.Errorf("headers.%w", err) // the error starts with the key
		}
		h[name] = v
		return nil
	})
	if len(h) == 0 {
		h = nil // as omitempty writes it
	}
	return h, err
}
