package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// kcatProduce writes "key:value" lines to the topic with kcat, whose
// librdkafka partitioner (CRC32 of the key) is not the API's murmur2.
func kcatProduce(t *testing.T, broker, topic string, lines []string) {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kcat is not installed (apt-get install kcat)")
		}
		t.Skip("kcat is not installed (apt-get install kcat); CI fails here")
	}
	cmd := exec.Command("kcat", "-P", "-b", broker, "-t", topic, "-K", "\t")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
}

// The reproduction: purchases produced with `kcat -K` (keyed by
// user, librdkafka's partitioner) are in every player's inventory, read
// through the emulated API.
func TestInventoryOfPurchasesProducedByKcat(t *testing.T) {
	cfg := config(t)
	cfg.Functions = []string{"InventoryFunction", "ApiInventoryFunction"}
	e := start(t, cfg, everything)
	players := []string{"divya", "raaga", "player-1", "player-2", "player-3", "x", "yy", "zed", "kcat-user"}
	var lines []string
	for i, user := range players {
		for _, item := range []string{"sword", "potion"} {
			v, _ := json.Marshal(map[string]any{
				"schema_version": 1, "event_id": fmt.Sprintf("kcat-%d-%s", i, item), "event_type": "purchase_item",
				"event_time": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "user_name": user,
				"item_type": item, "quantity": 1, "price_cents": 100, "currency": "gold",
			})
			lines = append(lines, user+"\t"+string(v))
		}
	}
	kcatProduce(t, e.Brokers[0], "game-events", lines)
	for _, user := range players {
		eventually(t, 60*time.Second, user+"'s inventory", func() (bool, string) {
			r := request(t, "GET", e.APIURL+"/inventory/"+user, "")
			var inv struct{ Items map[string]int64 }
			json.Unmarshal([]byte(r.body), &inv)
			return r.status == 200 && inv.Items["sword"] == 1 && inv.Items["potion"] == 1, fmt.Sprint(r.status, " ", r.body)
		})
	}
}
