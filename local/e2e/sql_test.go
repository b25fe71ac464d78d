package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/lake"
	"github.com/questlog/questlog/local/loadgen"
)

// Every report's figures equal what loadgen's plan and result say was
// accepted: the oracle is the generator, never SQL. Loadgen writes
// straight to Kafka, one batch at a time, so each player's events are in
// plan order; two records that are not events go to every job's dead
// letters, except the job whose mapping's FilterCriteria drops them.
func TestReportsMatchLoadgen(t *testing.T) {
	cfg := config(t)
	e := start(t, cfg, emulator.Serve{Mappings: true})
	gen := loadgen.Config{Population: loadgen.Population{Players: 60, Guilds: 6}, Count: 1500, Concurrency: 1, Seed: 11,
		Brokers: e.Brokers, Topic: "game-events"}
	res, err := loadgen.Run(context.Background(), gen)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != gen.Count {
		t.Fatalf("loadgen: %d of %d accepted", res.Accepted, gen.Count)
	}
	w := &kafka.Writer{Addr: kafka.TCP(e.Brokers...), Topic: "game-events", RequiredAcks: kafka.RequireAll}
	if err := w.WriteMessages(context.Background(), kafka.Message{Value: []byte("not an event")}, kafka.Message{Value: []byte(`{"schema_version":99}`)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	o := newOracle(loadgen.Plan(gen.Population, gen.Count, gen.Seed))

	c, err := lake.Open(context.Background(), lake.Config{ProjectDir: projectDir(), DataDir: cfg.DataDir, DatasetRoot: e.DatasetRoot, Engine: engineBin, Logger: cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	report := func(name string) []map[string]any {
		t.Helper()
		r, err := c.Report(context.Background(), name, time.Time{})
		if err != nil {
			t.Fatalf("report %s: %v", name, err)
		}
		var rows []map[string]any
		for _, row := range r.Rows {
			m := map[string]any{}
			for i, col := range r.Columns {
				m[col.Name] = row[i]
			}
			rows = append(rows, m)
		}
		return rows
	}

	// pipeline_health, once every job has landed everything.
	wantRows := map[string]int64{
		"extracted_events": int64(res.Accepted), "extracted_events_munged": int64(res.Accepted),
		"default_hits": int64(res.ByType["default"]), "guild_joins": int64(res.ByType["join_a_guild"]),
		"sword_purchases_hits": int64(res.ByItem["sword"]), "shield_purchases": int64(res.ByItem["shield"]),
		"rare_purchases": o.rare, "joined_guilds_user": o.joins["masadons"], "sword_purchases_hits_divya": 0,
	}
	var health []map[string]any
	eventually(t, 3*time.Minute, "every dataset and dead letter landed", func() (bool, string) {
		health = report("pipeline_health")
		done := len(health) == len(wantRows)+1
		for _, h := range health {
			name := h["dataset"].(string)
			wantDead := int64(2)
			if name == "guild_joins" {
				wantDead = 0
			}
			if want, ok := wantRows[name]; ok && h["rows"] != want || h["dead_letters"] != wantDead || name == "inventory" && h["rows"] == int64(0) {
				done = false
			}
		}
		return done, fmt.Sprint(health)
	})
	for _, h := range health {
		if h["rows"] != int64(0) && (h["newest_event"] == nil || h["lag_seconds"] == nil) {
			t.Errorf("pipeline_health of %s: no freshness: %v", h["dataset"], h)
		}
		if h["dead_letters"] == int64(2) {
			if byReason, ok := h["dead_letters_by_reason"].(map[string]any); !ok || len(byReason) != 2 {
				t.Errorf("pipeline_health of %s: dead letters by reason = %v, want two reasons", h["dataset"], h["dead_letters_by_reason"])
			}
		}
	}

	// events_by_type and daily_active_players: the test may straddle a
	// UTC midnight, so totals are summed over days.
	byType := map[string]int{}
	events, players := int64(0), map[string]bool{}
	for _, r := range report("events_by_type") {
		byType[r["event_type"].(string)] += int(r["events"].(int64))
	}
	if !maps.Equal(byType, res.ByType) {
		t.Errorf("events_by_type totals %v, loadgen accepted %v", byType, res.ByType)
	}
	daily := report("daily_active_players")
	for _, r := range daily {
		events += r["events"].(int64)
	}
	for u := range res.ByUser {
		players[u] = true
	}
	if want := int64(res.Accepted - res.ByType["default"]); events != want {
		t.Errorf("daily_active_players: %d events of players, want %d", events, want)
	}
	if len(daily) == 1 && daily[0]["players"] != int64(len(players)) {
		t.Errorf("daily_active_players: %v players, loadgen's players: %d", daily[0]["players"], len(players))
	}

	// purchases_by_item: per item and currency, against the plan; per
	// item, against loadgen's result.
	items, qty := map[string]int{}, map[string]int64{}
	for _, r := range report("purchases_by_item") {
		k := r["currency"].(string) + "/" + r["item_type"].(string)
		want := o.byItem[k]
		got := sale{count: r["purchases"].(int64), quantity: r["quantity"].(int64), cents: want.cents}
		if got != want || r["revenue"] != float64(want.cents)/100 {
			t.Errorf("purchases_by_item %s = %+v, revenue %v; want %+v", k, got, r["revenue"], want)
		}
		items[r["item_type"].(string)] += int(got.count)
		qty[r["item_type"].(string)] += got.quantity
		if name, _ := catalog.Lookup(r["item_type"].(string)); r["item_name"] != name.Name || r["item_rarity"] != name.Rarity {
			t.Errorf("purchases_by_item %s: name and rarity %v %v", k, r["item_name"], r["item_rarity"])
		}
	}
	if !maps.Equal(items, res.ByItem) || !maps.Equal(qty, res.QuantityByItem) {
		t.Errorf("purchases_by_item totals %v %v, loadgen accepted %v %v", items, qty, res.ByItem, res.QuantityByItem)
	}

	// sword_purchases_by_player
	swords := map[string]sale{}
	for _, r := range report("sword_purchases_by_player") {
		swords[r["user_name"].(string)] = sale{count: r["purchases"].(int64), quantity: r["swords"].(int64)}
	}
	if !maps.Equal(swords, o.swords) {
		t.Errorf("sword_purchases_by_player %v, plan %v", swords, o.swords)
	}

	// top_spenders
	var top []string
	for _, r := range report("top_spenders") {
		top = append(top, fmt.Sprintf("%s #%d %s %d %d %.2f", r["currency"], r["rank"], r["user_name"], r["purchases"], r["items"], r["spent"]))
	}
	if want := o.topSpenders(10); !slices.Equal(top, want) {
		t.Errorf("top_spenders\n%s\nplan\n%s", strings.Join(top, "\n"), strings.Join(want, "\n"))
	}

	// guild_membership
	for _, r := range report("guild_membership") {
		g := r["guild_name"].(string)
		if r["joins"] != o.joins[g] || r["members"] != int64(len(o.members[g])) {
			t.Errorf("guild_membership %s: %v joins, %v members; plan %d, %d", g, r["joins"], r["members"], o.joins[g], len(o.members[g]))
		}
	}

	// guild_to_purchase
	for _, r := range report("guild_to_purchase") {
		g := r["guild_name"].(string)
		want := o.afterJoin[g]
		if r["players_joined"] != want[0] || r["bought_after_joining"] != want[1] {
			t.Errorf("guild_to_purchase %s: %v joined, %v bought after; plan %v", g, r["players_joined"], r["bought_after_joining"], want)
		}
	}

	// inventory_leaderboard: the latest snapshot of every player who
	// bought something; the fold job lands them after the events.
	eventually(t, time.Minute, "the inventories", func() (bool, string) {
		board := map[string]sale{}
		for _, r := range report("inventory_leaderboard") {
			board[r["user_name"].(string)] = sale{count: r["purchases"].(int64), quantity: r["items_owned"].(int64)}
		}
		return maps.Equal(board, o.owned), fmt.Sprintf("leaderboard %v\nplan %v", board, o.owned)
	})
}

// sale is a count of purchases, of items, and what they cost.
type sale struct {
	count, quantity, cents int64
}

// oracle is what a plan's actions add up to.
type oracle struct {
	byItem    map[string]sale            // currency/item
	swords    map[string]sale            // user → sword purchases
	owned     map[string]sale            // user → purchases, items
	spent     map[string]map[string]sale // currency → user
	joins     map[string]int64           // guild → joins
	members   map[string]map[string]bool // guild → users
	afterJoin map[string][2]int64        // guild of first join → players, players who bought afterwards
	rare      int64
}

func newOracle(plan []loadgen.Action) *oracle {
	o := &oracle{byItem: map[string]sale{}, swords: map[string]sale{}, owned: map[string]sale{}, spent: map[string]map[string]sale{},
		joins: map[string]int64{}, members: map[string]map[string]bool{}, afterJoin: map[string][2]int64{}}
	firstJoin, bought := map[string]string{}, map[string]bool{}
	add := func(s sale, a loadgen.Action) sale {
		return sale{s.count + 1, s.quantity + a.Quantity, s.cents + a.Price}
	}
	for _, a := range plan {
		switch {
		case a.Item != "":
			o.byItem[a.Currency+"/"+a.Item] = add(o.byItem[a.Currency+"/"+a.Item], a)
			o.owned[a.User] = add(o.owned[a.User], a)
			if o.spent[a.Currency] == nil {
				o.spent[a.Currency] = map[string]sale{}
			}
			o.spent[a.Currency][a.User] = add(o.spent[a.Currency][a.User], a)
			if a.Item == "sword" {
				o.swords[a.User] = add(o.swords[a.User], a)
			}
			if item, _ := catalog.Lookup(a.Item); item.Rarity == "epic" || item.Rarity == "legendary" {
				o.rare++
			}
			if _, joined := firstJoin[a.User]; joined {
				bought[a.User] = true
			}
		case a.Guild != "":
			o.joins[a.Guild]++
			if o.members[a.Guild] == nil {
				o.members[a.Guild] = map[string]bool{}
			}
			o.members[a.Guild][a.User] = true
			if _, joined := firstJoin[a.User]; !joined {
				firstJoin[a.User] = a.Guild
			}
		}
	}
	for user, guild := range firstJoin {
		for _, g := range []string{guild, "(all guilds)"} {
			v := o.afterJoin[g]
			v[0]++
			if bought[user] {
				v[1]++
			}
			o.afterJoin[g] = v
		}
	}
	for k, s := range o.owned { // the leaderboard has no revenue
		o.owned[k] = sale{count: s.count, quantity: s.quantity}
	}
	for k, s := range o.swords {
		o.swords[k] = sale{count: s.count, quantity: s.quantity}
	}
	return o
}

// topSpenders ranks each currency's players by what they spent, then name.
func (o *oracle) topSpenders(n int) []string {
	var out []string
	for _, currency := range slices.Sorted(maps.Keys(o.spent)) {
		users := slices.Collect(maps.Keys(o.spent[currency]))
		slices.SortFunc(users, func(a, b string) int {
			sa, sb := o.spent[currency][a].cents, o.spent[currency][b].cents
			if sa != sb {
				if sa > sb {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		})
		for i, u := range users[:min(n, len(users))] {
			s := o.spent[currency][u]
			out = append(out, fmt.Sprintf("%s #%d %s %d %d %.2f", currency, i+1, u, s.count, s.quantity, float64(s.cents)/100))
		}
	}
	return out
}

// questlog sql, report and ddl as a user types them, against a running
// emulator's data directory.
func TestSQLCommands(t *testing.T) {
	cfg := config(t)
	e := start(t, cfg, emulator.Serve{API: true, Mappings: true})
	for _, path := range []string{"/purchase_a_sword/divya", "/purchase_a_sword/divya", "/join_a_guild/divya/masadons", "/"} {
		if r := request(t, "GET", e.APIURL+path, ""); r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	dir := []string{"--data-dir", cfg.DataDir}
	run := func(stdin string, args ...string) (string, string, int) {
		cmd := exec.Command(questlogBin, append(args, dir...)...)
		cmd.Dir = projectDir()
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}

	eventually(t, time.Minute, "the purchases landed", func() (bool, string) {
		out, errs, _ := run("", "sql", "--format", "csv", "select user_name, count(*) from sword_purchases_hits group by 1")
		return out == "user_name,count_star()\ndivya,2\n", out + errs
	})
	out, _, code := run("", "sql", "select event_type, count(*) as n from extracted_events group by 1 order by 1")
	if code != 0 || !strings.Contains(out, "|purchase_sword|  2|") || !strings.Contains(out, "|  join_a_guild|  1|") {
		t.Errorf("sql (table):\n%s", out)
	}
	out, _, _ = run("select guild_name from guild_joins;\n", "sql", "--format", "jsonl")
	if out != `{"guild_name":"masadons"}`+"\n" {
		t.Errorf("sql from stdin: %q", out)
	}
	out, _, _ = run("", "sql", "--tables", "--format", "csv")
	if !strings.Contains(out, "\nextracted_events,4,") || !strings.Contains(out, "\nrejected,0,0,0,9\n") {
		t.Errorf("sql --tables:\n%s", out)
	}
	out, _, _ = run("", "sql", "--schema", "inventory", "--format", "csv")
	if !strings.HasPrefix(out, "column_name,data_type\nuser_name,VARCHAR\nitems,\"MAP(VARCHAR, BIGINT)\"\n") {
		t.Errorf("sql --schema inventory:\n%s", out)
	}

	// A failing query exits 1, says what exists, and writes nothing.
	file := filepath.Join(t.TempDir(), "out.csv")
	out, errs, code := run("", "sql", "select purchase_user from extracted_events", "--format", "csv", "--out", file)
	if code != 1 || out != "" || !strings.Contains(errs, "Binder Error") || !strings.Contains(errs, "columns of extracted_events: event_id VARCHAR") {
		t.Errorf("failing query: exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("--out written by a failing query: %v", err)
	}
	if _, errs, code := run("", "sql", "copy extracted_events to '/tmp/stolen.csv'"); code != 1 || !strings.Contains(errs, "COPY is refused") {
		t.Errorf("COPY: exit %d: %s", code, errs)
	}
	if _, _, code := run("", "sql", "select * from extracted_events", "--format", "parquet", "--out", file); code != 0 {
		t.Errorf("--format parquet --out: exit %d", code)
	}
	if data, err := os.ReadFile(file); err != nil || !bytes.HasPrefix(data, []byte("PAR1")) {
		t.Errorf("--out holds %d bytes (%v), want a Parquet file", len(data), err)
	}

	out, _, _ = run("", "report")
	if n := strings.Count(out, "\n"); n != len(lake.Reports())+1 || !strings.Contains(out, "\n  guild_to_purchase ") {
		t.Errorf("report (the list):\n%s", out)
	}
	out, _, code = run("", "report", "sword_purchases_by_player", "--format", "json", "--since", time.Now().UTC().Format(time.DateOnly))
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 || rows[0]["user_name"] != "divya" || rows[0]["swords"] != 2.0 {
		t.Errorf("report sword_purchases_by_player: %v\n%s", err, out)
	}
	out, _, _ = run("", "report", "sword_purchases_by_player", "--format", "csv", "--since", "2999-01-01")
	if out != "user_name,purchases,swords,first_purchase,last_purchase\n" {
		t.Errorf("a report since a future date: %q", out)
	}
	if out, _, _ = run("", "report", "top_spenders", "--sql"); !strings.HasPrefix(out, "-- Top spenders\n") {
		t.Errorf("report --sql: %s", out)
	}
	out, _, _ = run("", "ddl", "--dialect", "trino")
	if !strings.Contains(out, "external_location = '"+e.DatasetRoot+"/extracted_events'") {
		t.Errorf("ddl --dialect trino does not point at %s:\n%s", e.DatasetRoot, out)
	}
}
