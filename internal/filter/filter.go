// Package filter compiles the predicates that declare filter jobs.
//
// A predicate is a CEL expression (https://cel.dev, the language of
// Kubernetes validation rules and Google's IAM conditions) over the event's
// fields, named as in the wire format:
//
//	event_type == "purchase_sword"
//	user_name == "divya"
//	event_type == "join_a_guild" && guild_name == "masadons"
//	item_type in ["shield", "armor"] && quantity >= 2
//	headers["Accept-Language"].startsWith("en")
//	event_time > timestamp("2026-11-01T00:00:00Z")
//
// Strings are "" and numbers 0 when the event does not set them.
package filter

import (
	"fmt"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"

	"github.com/questlog/questlog/internal/event"
)

// Predicate decides which events a filter job keeps.
type Predicate struct {
	expr string
	prg  cel.Program
}

// variables are the names a predicate may use, with their CEL types.
var variables = []cel.EnvOption{
	cel.Variable("schema_version", cel.IntType),
	cel.Variable("event_id", cel.StringType),
	cel.Variable("event_type", cel.StringType),
	cel.Variable("event_time", cel.TimestampType),
	cel.Variable("user_name", cel.StringType),
	cel.Variable("guild_name", cel.StringType),
	cel.Variable("item_type", cel.StringType),
	cel.Variable("item_name", cel.StringType),
	cel.Variable("item_rarity", cel.StringType),
	cel.Variable("quantity", cel.IntType),
	cel.Variable("price_cents", cel.IntType),
	cel.Variable("currency", cel.StringType),
	cel.Variable("store_id", cel.StringType),
	cel.Variable("cart_id", cel.StringType),
	cel.Variable("remote_ip", cel.StringType),
	cel.Variable("user_agent", cel.StringType),
	cel.Variable("host", cel.StringType),
	cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
}

var env = func() *cel.Env {
	e, err := cel.NewEnv(variables...)
	if err != nil {
		panic(err)
	}
	return e
}()

// Compile parses and type-checks expr, which must be a boolean expression.
func Compile(expr string) (*Predicate, error) {
	ast, issues := env.Compile(expr)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, issues.Err())
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("filter %q: must be a boolean expression, is %s", expr, ast.OutputType())
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return &Predicate{expr: expr, prg: prg}, nil
}

// String returns the expression.
func (p *Predicate) String() string { return p.expr }

// Match evaluates the predicate on e. An evaluation error (a missing
// header key, say) is returned, not taken as false.
func (p *Predicate) Match(e *event.Event) (bool, error) {
	out, _, err := p.prg.Eval(activation{e})
	if err != nil {
		return false, fmt.Errorf("filter %q: %w", p.expr, err)
	}
	keep, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("filter %q returned %v, not a bool", p.expr, out)
	}
	return keep, nil
}

// activation resolves variables straight from the event, without building
// a map per record.
type activation struct{ e *event.Event }

func (a activation) ResolveName(name string) (any, bool) {
	e := a.e
	switch name {
	case "schema_version":
		return int64(e.SchemaVersion), true
	case "event_id":
		return e.EventID, true
	case "event_type":
		return e.EventType, true
	case "event_time":
		return time.UnixMilli(int64(e.EventTime)).UTC(), true
	case "user_name":
		return e.UserName, true
	case "guild_name":
		return e.GuildName, true
	case "item_type":
		return e.ItemType, true
	case "item_name":
		return e.ItemName, true
	case "item_rarity":
		return e.ItemRarity, true
	case "quantity":
		return e.Quantity, true
	case "price_cents":
		return e.PriceCents, true
	case "currency":
		return e.Currency, true
	case "store_id":
		return e.StoreID, true
	case "cart_id":
		return e.CartID, true
	case "remote_ip":
		return e.RemoteIP, true
	case "user_agent":
		return e.UserAgent, true
	case "host":
		return e.Host, true
	case "headers":
		if e.Headers == nil {
			return map[string]string{}, true
		}
		return e.Headers, true
	}
	return nil, false
}

func (activation) Parent() interpreter.Activation { return nil }
