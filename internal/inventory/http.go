package inventory

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/questlog/questlog/internal/api"
)

// Inventory is the answer of GET /inventory/{username}.
type Inventory struct {
	UserName   string           `json:"user_name"`
	Items      map[string]int64 `json:"items"`
	SpentCents map[string]int64 `json:"spent_cents"`
	Purchases  int64            `json:"purchases"`
	UpdatedAt  string           `json:"updated_at"`
}

// Handler answers GET /inventory/{username} with the player's inventory as
// of the request: it first reads what the fold jobs appended to the
// player's state partition since the last request.
func Handler(t *Table, log *slog.Logger) http.Handler {
	return api.Handle("GET /inventory/{username}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.PathValue("username")
		p, err := t.PartitionOf(r.Context(), user)
		if err == nil {
			err = t.CatchUp(r.Context(), p)
		}
		if err != nil {
			log.Warn("inventory unavailable", "user", user, "err", err)
			w.Header().Set("Retry-After", "1")
			api.WriteError(w, http.StatusServiceUnavailable, "inventory unavailable, try again: "+err.Error(), "")
			return
		}
		st, ok := t.Get(p, user)
		if !ok {
			api.WriteError(w, http.StatusNotFound, fmt.Sprintf("no inventory for player %q: they have bought nothing yet", user), "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Inventory{
			UserName: st.UserName, Items: st.Items, SpentCents: st.SpentCents, Purchases: st.Purchases,
			UpdatedAt: st.UpdatedAt.Time().Format(time.RFC3339Nano),
		})
	}))
}
