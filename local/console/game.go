package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/questlog/questlog/internal/event"
)

// gamePanels are the studio's dashboard: one query each over the lake.
// Prices are in the currency's units (price_cents / 100); revenue is in
// gold, the currency most purchases use, so that sums mean something.
var gamePanels = map[string]string{
	// The last hour of the lake's events, by minute and type.
	"events_per_minute": `
SELECT date_trunc('minute', event_time) AS minute, event_type, count(*) AS events
FROM extracted_events
WHERE event_time >= (SELECT max(event_time) FROM extracted_events) - INTERVAL 60 MINUTE
GROUP BY ALL
ORDER BY minute, event_type`,
	"purchases_by_item": `
SELECT item_type, count(*) AS purchases, sum(quantity)::BIGINT AS items,
       round(sum(price_cents) FILTER (WHERE currency = 'gold') / 100, 2) AS revenue_gold
FROM extracted_events
WHERE event_type IN ('purchase_sword', 'purchase_item')
GROUP BY item_type
ORDER BY revenue_gold DESC NULLS LAST, item_type`,
	"revenue_by_rarity": `
SELECT item_rarity, count(*) AS purchases,
       round(sum(price_cents) FILTER (WHERE currency = 'gold') / 100, 2) AS revenue_gold
FROM extracted_events
WHERE event_type IN ('purchase_sword', 'purchase_item')
GROUP BY item_rarity
ORDER BY revenue_gold DESC NULLS LAST, item_rarity`,
	"guild_joins": `
SELECT guild_name, count(*) AS joins, count(DISTINCT user_name) AS players
FROM guild_joins
GROUP BY guild_name
ORDER BY joins DESC, guild_name`,
	"daily_active_players": `
SELECT dt, count(DISTINCT user_name) AS players, count(*) AS events
FROM extracted_events
WHERE user_name IS NOT NULL
GROUP BY dt
ORDER BY dt`,
	"top_spenders": `
SELECT user_name, count(*) AS purchases, round(sum(price_cents) / 100, 2) AS spent_gold
FROM extracted_events
WHERE event_type IN ('purchase_sword', 'purchase_item') AND currency = 'gold'
GROUP BY user_name
ORDER BY spent_gold DESC, user_name
LIMIT 10`,
}

// playerEvents are a player's newest events; the name is a variable, never
// spliced into the text.
const playerEvents = `
SELECT event_time, event_type, item_type, item_name, item_rarity, quantity,
       round(price_cents / 100, 2) AS price, currency, guild_name
FROM extracted_events
WHERE user_name = getvariable('player')
ORDER BY event_time DESC
LIMIT 20`

// handleGamePanel runs one panel of the dashboard.
func (s *Server) handleGamePanel(w http.ResponseWriter, r *http.Request) {
	sql, ok := gamePanels[r.PathValue("panel")]
	if !ok {
		writeError(w, http.StatusNotFound, "no panel "+strconv.Quote(r.PathValue("panel")))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	res, err := s.run(ctx, sql, nil)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	writeJSON(w, map[string]any{"sql": sql, "result": res})
}

// handlePlayer looks a player up: the inventory as the API's inventory
// route answers it, and the newest events in the lake.
func (s *Server) handlePlayer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !event.ValidName(name) {
		writeError(w, http.StatusBadRequest, "a player name is "+event.NameRule)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	out := map[string]any{"player": name}
	if inv, status, err := s.inventory(ctx, name); err != nil {
		out["inventory_error"] = err.Error()
	} else {
		out["inventory"], out["inventory_status"] = inv, status
	}
	// ValidName allows letters, digits, '_', '-' and '.': safe in quotes.
	res, err := s.run(ctx, playerEvents, map[string]string{"player": "'" + name + "'"})
	if err != nil {
		writeQueryError(w, err)
		return
	}
	out["events"] = res
	writeJSON(w, out)
}

// inventory asks the API's inventory route, as the game would.
func (s *Server) inventory(ctx context.Context, name string) (json.RawMessage, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.APIURL+"/inventory/"+url.PathEscape(name), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, err
	}
	if !json.Valid(body) {
		body, _ = json.Marshal(string(body))
	}
	return body, resp.StatusCode, nil
}
