// Package loadgen plays a population of players against the game API, or
// straight into Kafka, and reports what was accepted.
package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
)

// Action is one request of the plan.
type Action struct {
	Method, Path, Query string
	Body                string // JSON, for POST
	// The event the request records when accepted.
	Type     string
	User     string
	Guild    string
	Item     string
	Quantity int64
	Price    int64
	Currency string
}

// guildNames seed the guild population; more guilds get a number.
var guildNames = []string{"masadons", "wildhorses", "ironwolves", "stormcrows", "emberfall", "nightowls", "goldleaf", "frostbite"}

// Population is the players and guilds, with Zipf-like popularity: the
// k-th most popular item or guild is picked with weight 1/k^s.
type Population struct {
	Players, Guilds int
	// ZipfS is the Zipf exponent (> 0); larger is more skewed. Default 1.1.
	ZipfS float64
	// Mix weights the kinds of actions after a session's default hit.
	PurchaseWeight, JoinWeight, DefaultWeight float64
}

func (p Population) zipf() float64 {
	if p.ZipfS > 0 {
		return p.ZipfS
	}
	return 1.1
}

// Player returns the name of player i.
func Player(i int) string { return fmt.Sprintf("player-%04d", i) }

// Guild returns the name of guild i.
func Guild(i int) string {
	if i < len(guildNames) {
		return guildNames[i]
	}
	return fmt.Sprintf("%s-%d", guildNames[i%len(guildNames)], i/len(guildNames))
}

// weighted picks from a cumulative Zipf table.
type weighted []float64

func zipfTable(n int, s float64) weighted {
	w := make(weighted, n)
	sum := 0.0
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), s)
		w[k] = sum
	}
	return w
}

func (w weighted) pick(r *rand.Rand) int {
	x := r.Float64() * w[len(w)-1]
	lo, hi := 0, len(w)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if w[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Generator yields the actions of a population, the same sequence for the
// same seed. Players play sessions: a default hit, then a few actions,
// mostly purchases of popular items and joins of popular guilds.
type Generator struct {
	pop                    Population
	r                      *rand.Rand
	items, guilds, players weighted
	pending                []Action
}

// NewGenerator returns a generator for pop seeded with seed.
func NewGenerator(pop Population, seed uint64) *Generator {
	if pop.Players <= 0 {
		pop.Players = 1000
	}
	if pop.Guilds <= 0 {
		pop.Guilds = 20
	}
	if pop.PurchaseWeight+pop.JoinWeight+pop.DefaultWeight <= 0 {
		pop.PurchaseWeight, pop.JoinWeight, pop.DefaultWeight = 6, 2, 1
	}
	return &Generator{
		pop:     pop,
		r:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		items:   zipfTable(len(catalog.Items), pop.zipf()),
		guilds:  zipfTable(pop.Guilds, pop.zipf()),
		players: zipfTable(pop.Players, 0.6), // some players play far more than others
	}
}

// Next returns the next action.
func (g *Generator) Next() Action {
	if len(g.pending) == 0 {
		g.session()
	}
	a := g.pending[0]
	g.pending = g.pending[1:]
	return a
}

func (g *Generator) session() {
	r, pop := g.r, g.pop
	user := Player(g.players.pick(r))
	g.pending = append(g.pending, Action{Method: "GET", Path: "/", Type: event.TypeDefault})
	for n := 1 + r.IntN(5); n > 0; n-- {
		total := pop.PurchaseWeight + pop.JoinWeight + pop.DefaultWeight
		switch x := r.Float64() * total; {
		case x < pop.PurchaseWeight:
			g.pending = append(g.pending, purchase(r, user, catalog.Items[g.items.pick(r)]))
		case x < pop.PurchaseWeight+pop.JoinWeight:
			guild := Guild(g.guilds.pick(r))
			g.pending = append(g.pending, Action{Method: "GET", Path: "/join_a_guild/" + user + "/" + guild, Type: event.TypeJoinGuild, User: user, Guild: guild})
		default:
			g.pending = append(g.pending, Action{Method: "GET", Path: "/", Type: event.TypeDefault})
		}
	}
}

// Plan returns the first count actions of a generator.
func Plan(pop Population, count int, seed uint64) []Action {
	g := NewGenerator(pop, seed)
	actions := make([]Action, count)
	for i := range actions {
		actions[i] = g.Next()
	}
	return actions
}

// purchase buys item through one of the three purchase routes.
func purchase(r *rand.Rand, user string, item catalog.Item) Action {
	a := Action{User: user, Item: item.Type, Quantity: 1, Price: item.PriceCents, Currency: catalog.DefaultCurrency}
	if item.Type == "sword" && r.IntN(2) == 0 {
		a.Method, a.Path, a.Type = "GET", "/purchase_a_sword/"+user, event.TypePurchaseSword
		return a
	}
	a.Type = event.TypePurchaseItem
	a.Quantity = int64(1 + r.IntN(3)*r.IntN(3)) // mostly 1, sometimes up to 5
	a.Price = item.PriceCents * a.Quantity
	if r.IntN(5) == 0 {
		a.Price = a.Price * 8 / 10 // a discount
	}
	if r.IntN(2) == 0 {
		q := url.Values{"quantity": {fmt.Sprint(a.Quantity)}, "price_cents": {fmt.Sprint(a.Price)}, "store_id": {"web"}}
		a.Method, a.Path, a.Query = "GET", "/purchase/"+user+"/"+item.Type, q.Encode()
		return a
	}
	a.Method, a.Path = "POST", "/purchase/"+user
	a.Body = fmt.Sprintf(`{"item_type":%q,"quantity":%d,"price_cents":%d,"currency":%q,"store_id":"app","cart_id":"c-%d"}`,
		item.Type, a.Quantity, a.Price, a.Currency, r.IntN(1_000_000))
	return a
}
