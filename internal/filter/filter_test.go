package filter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/filter"
)

func TestMatch(t *testing.T) {
	e := &event.Event{
		SchemaVersion: 1, EventID: "x", EventType: event.TypeJoinGuild, UserName: "divya", GuildName: "masadons",
		EventTime: event.MillisOf(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)), Quantity: 3,
		Headers: map[string]string{"Accept-Language": "en-US"},
	}
	for expr, want := range map[string]bool{
		`event_type == "join_a_guild"`:                             true,
		`event_type == "purchase_sword"`:                           false,
		`user_name == "divya"`:                                     true,
		`event_type == "join_a_guild" && guild_name == "masadons"`: true,
		`guild_name == "wildhorses"`:                               false,
		`item_type == ""`:                                          true,
		`quantity >= 2 && quantity <= 99`:                          true,
		`headers["Accept-Language"].startsWith("en")`:              true,
		`"X-Missing" in headers`:                                   false,
		`event_time >= timestamp("2026-11-01T00:00:00Z")`:          true,
		`user_name in ["raaga", "divya"]`:                          true,
	} {
		p, err := filter.Compile(expr)
		if err != nil {
			t.Fatalf("Compile(%s): %v", expr, err)
		}
		got, err := p.Match(e)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
}

func TestCompileRejects(t *testing.T) {
	for expr, reason := range map[string]string{
		`event_type ==`:   "Syntax error",
		`user == "divya"`: "undeclared reference to 'user'",
		`user_name`:       "must be a boolean expression",
		`quantity == "1"`: "no matching overload",
		``:                "Syntax error",
	} {
		_, err := filter.Compile(expr)
		if err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("Compile(%q) = %v, want error containing %q", expr, err, reason)
		}
	}
}

func TestMissingHeaderIsAnError(t *testing.T) {
	p, err := filter.Compile(`headers["X-Missing"] == "1"`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Match(&event.Event{}); err == nil || !strings.Contains(err.Error(), "no such key") {
		t.Errorf("Match = %v, want a no such key error", err)
	}
}

func BenchmarkMatch(b *testing.B) {
	p, _ := filter.Compile(`event_type == "purchase_sword" && user_name == "divya"`)
	e := &event.Event{EventType: event.TypePurchaseSword, UserName: "divya"}
	for b.Loop() {
		if ok, _ := p.Match(e); !ok {
			b.Fatal("no match")
		}
	}
}
