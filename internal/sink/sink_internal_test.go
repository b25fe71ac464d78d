package sink

import (
	"testing"
	"time"
)

func TestDayOfMatchesTheDate(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 23, 59, 59, 999e6, time.UTC),
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 23, 30, 0, 0, time.FixedZone("x", -5*3600)),
	} {
		next := at.Add(24 * time.Hour)
		if (dayOf(at) == dayOf(next)) || (dateOf(at) == dateOf(next)) {
			t.Fatalf("days of %v and %v", at, next)
		}
		same := time.Date(at.UTC().Year(), at.UTC().Month(), at.UTC().Day(), 12, 0, 0, 0, time.UTC)
		if dayOf(at) != dayOf(same) || dateOf(at) != dateOf(same) {
			t.Errorf("dayOf(%v) = %d, dayOf(%v) = %d", at, dayOf(at), same, dayOf(same))
		}
	}
}
