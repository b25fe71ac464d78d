package lake_test

import (
	"testing"
	"time"

	"github.com/questlog/questlog/local/lake"
)

func TestSmoke(t *testing.T) {
	root, st := fileRoot(t)
	landEvents(t, st, "extracted_events", planEvents(100, 1), 30)
	c := open(t, root)
	for _, r := range lake.Reports() {
		res, err := c.Report(t.Context(), r.Name, time.Time{})
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
			continue
		}
		t.Logf("%s (%s: %s): %v %v", r.Name, r.Title, r.Description, res.Columns, res.Rows)
	}
}
