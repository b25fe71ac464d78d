package event

import (
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is the version of the wire format this package writes and
// the only one it reads.
const SchemaVersion = 1

// Event types. The first three keep the reference pipeline's names.
const (
	TypeDefault       = "default"
	TypePurchaseSword = "purchase_sword"
	TypeJoinGuild     = "join_a_guild"
	TypePurchaseItem  = "purchase_item"
)

// Event is one game event on the Kafka wire.
type Event struct {
	SchemaVersion int    `json:"schema_version"`
	EventID       string `json:"event_id"`
	EventType     string `json:"event_type"`
	EventTime     Millis `json:"event_time"`

	UserName  string `json:"user_name,omitempty"`
	GuildName string `json:"guild_name,omitempty"`

	// Purchase details, set on purchase events.
	ItemType   string `json:"item_type,omitempty"`
	ItemName   string `json:"item_name,omitempty"`
	ItemRarity string `json:"item_rarity,omitempty"`
	Quantity   int64  `json:"quantity,omitempty"`
	// PriceCents is the total price paid, in hundredths of Currency.
	PriceCents int64  `json:"price_cents,omitempty"`
	Currency   string `json:"currency,omitempty"`
	StoreID    string `json:"store_id,omitempty"`
	CartID     string `json:"cart_id,omitempty"`

	RemoteIP  string `json:"remote_ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Host      string `json:"host,omitempty"`
	// Headers are the request headers that are neither credentials nor
	// hop-by-hop headers, canonical names, repeated values joined by ", ".
	Headers map[string]string `json:"headers,omitempty"`
}

// Errors returned by Validate and Decode; test with errors.Is.
var (
	ErrInvalid            = errors.New("invalid event")
	ErrUnsupportedVersion = errors.New("unsupported schema_version")
)

// ValidName reports whether s is a valid user or guild name: 1–64 letters,
// digits, '_', '-' or '.', other than "." and "..", which name directories
// in paths and URLs.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 64 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// NameRule describes ValidName for error messages.
const NameRule = "1-64 characters of letters, digits, '_', '-' or '.', other than '.' and '..'"

// Validate checks the fields every consumer relies on.
func (e *Event) Validate() error {
	switch {
	case e.SchemaVersion != SchemaVersion:
		return fmt.Errorf("%w %d (this build reads %d)", ErrUnsupportedVersion, e.SchemaVersion, SchemaVersion)
	case e.EventID == "":
		return fmt.Errorf("%w: event_id is missing", ErrInvalid)
	case e.EventType == "":
		return fmt.Errorf("%w: event_type is missing", ErrInvalid)
	case e.EventTime.IsZero():
		return fmt.Errorf("%w: event_time is missing", ErrInvalid)
	case e.EventTime < minTime || e.EventTime > maxTime:
		return fmt.Errorf("%w: event_time %s is outside 1970-9999", ErrInvalid, e.EventTime)
	case e.UserName != "" && !ValidName(e.UserName):
		return fmt.Errorf("%w: user_name %q is not %s", ErrInvalid, e.UserName, NameRule)
	case e.GuildName != "" && !ValidName(e.GuildName):
		return fmt.Errorf("%w: guild_name %q is not %s", ErrInvalid, e.GuildName, NameRule)
	case e.Quantity < 0:
		return fmt.Errorf("%w: quantity %d is negative", ErrInvalid, e.Quantity)
	case e.PriceCents < 0:
		return fmt.Errorf("%w: price_cents %d is negative", ErrInvalid, e.PriceCents)
	}
	return nil
}

// Millis is a UTC instant with millisecond precision, written on the wire
// as RFC 3339 with exactly three fractional digits ("2006-01-02T15:04:05.000Z").
type Millis int64

// MillisOf truncates t to milliseconds.
func MillisOf(t time.Time) Millis { return Millis(t.UnixMilli()) }

// Time returns the instant in UTC.
func (m Millis) Time() time.Time { return time.UnixMilli(int64(m)).UTC() }

// IsZero reports whether m is unset.
func (m Millis) IsZero() bool { return m == 0 }

// The range of event_time: it names date partitions, so it must format as
// a four-digit year.
var (
	minTime = MillisOf(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC))
	maxTime = MillisOf(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC))
)

const millisLayout = "2006-01-02T15:04:05.000Z"

func (m Millis) String() string { return m.Time().Format(millisLayout) }

// MarshalJSON writes the quoted RFC 3339 form.
func (m Millis) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(millisLayout)+2)
	b = append(b, '"')
	b = m.Time().AppendFormat(b, millisLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts any RFC 3339 timestamp and truncates it to milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("event_time must be an RFC 3339 string, got %s", b)
	}
	v, err := ParseMillis(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMillis parses an RFC 3339 timestamp, fast for the canonical form.
func ParseMillis(s string) (Millis, error) {
	if v, ok := parseCanonical(s); ok {
		return v, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("event_time %q is not RFC 3339: %w", s, err)
	}
	return MillisOf(t), nil
}

// parseCanonical parses exactly "YYYY-MM-DDTHH:MM:SS.mmmZ" without time.Parse.
func parseCanonical(s string) (Millis, bool) {
	if len(s) != len(millisLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return 0, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	ms, ok7 := num(20, 23)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	if t.Day() != day { // e.g. February 30th
		return 0, false
	}
	return MillisOf(t), true
}
