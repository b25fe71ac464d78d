package event

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Munge returns the cleaned form of e that the munge job writes. It is
// deterministic and idempotent (Munge(Munge(e)) == Munge(e)):
//
//   - every string value is trimmed of surrounding white space;
//   - header names are put in canonical form ("x-forwarded-for" →
//     "X-Forwarded-For"); names that collapse into one keep all their values,
//     joined with ", " in the order of their original names;
//   - headers whose value is empty are dropped, and so are User-Agent and
//     Host, which already have their own columns;
//   - remote_ip is normalized (an IPv4-mapped IPv6 address becomes IPv4,
//     IPv6 is written in its RFC 5952 form); a value that is not an IP is kept
//     as it is.
//
// The reference pipeline's demonstration overwrite of Host is not kept.
func Munge(e Event) Event {
	mungeScalars(&e)
	e.Headers = mungeHeaders(e.Headers)
	return e
}

// MungeInPlace is Munge for an event the caller owns, headers map included:
// it edits the map instead of building a new one when it can, which the
// jobs, munging every record, save an allocation on.
func MungeInPlace(e *Event) {
	mungeScalars(e)
	if !canonicalNames(e.Headers) {
		e.Headers = mungeHeaders(e.Headers)
		return
	}
	for name, value := range e.Headers {
		if _, trimmed, keep := mungeHeader(name, value); !keep {
			delete(e.Headers, name)
		} else if trimmed != value {
			e.Headers[name] = trimmed
		}
	}
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
}

// canonicalNames reports whether every header name is already trimmed and
// canonical, so no two can collapse into one.
func canonicalNames(h map[string]string) bool {
	for name := range h {
		if name == "" || http.CanonicalHeaderKey(name) != name || strings.TrimSpace(name) != name {
			return false
		}
	}
	return true
}

func mungeScalars(e *Event) {
	trim := strings.TrimSpace
	e.EventID = trim(e.EventID)
	e.EventType = trim(e.EventType)
	e.UserName = trim(e.UserName)
	e.GuildName = trim(e.GuildName)
	e.ItemType = trim(e.ItemType)
	e.ItemName = trim(e.ItemName)
	e.ItemRarity = trim(e.ItemRarity)
	e.Currency = trim(e.Currency)
	e.StoreID = trim(e.StoreID)
	e.CartID = trim(e.CartID)
	e.UserAgent = trim(e.UserAgent)
	e.Host = trim(e.Host)
	e.RemoteIP = normalizeIP(trim(e.RemoteIP))
}

func normalizeIP(s string) string {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return addr.Unmap().WithZone("").String()
}

func mungeHeaders(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for name, value := range in {
		canonical, value, ok := mungeHeader(name, value)
		if !ok {
			continue
		}
		if _, collides := out[canonical]; collides {
			return mergeHeaders(in) // rare: take the slow, ordered path
		}
		out[canonical] = value
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func mungeHeader(name, value string) (canonical, trimmed string, keep bool) {
	trimmed = strings.TrimSpace(value)
	canonical = http.CanonicalHeaderKey(strings.TrimSpace(name))
	keep = trimmed != "" && canonical != "" && canonical != "User-Agent" && canonical != "Host"
	return canonical, trimmed, keep
}

// mergeHeaders handles names that collapse into one canonical name: their
// values are joined in the order of the original names, so the result does
// not depend on map iteration order.
func mergeHeaders(in map[string]string) map[string]string {
	names := make([]string, 0, len(in))
	for name := range in {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make(map[string]string, len(in))
	for _, name := range names {
		canonical, value, ok := mungeHeader(name, in[name])
		if !ok {
			continue
		}
		if prev, found := out[canonical]; found {
			value = prev + ", " + value
		}
		out[canonical] = value
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
