package sink

import (
	"math/rand/v2"
	"slices"
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

// Adding ranges keeps them sorted and disjoint and covers exactly the
// offsets of the ranges added, whatever their order and overlaps.
func TestRangesAddCoversWhatWasAdded(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var rs ranges
		covered := map[int64]bool{}
		for range rnd.IntN(12) {
			first := rnd.Int64N(60)
			r := offsetRange{first, first + rnd.Int64N(6)}
			rs.add(r)
			for off := r.first; off <= r.last; off++ {
				covered[off] = true
			}
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].first <= rs[i-1].last+1 {
				t.Fatalf("round %d: %v is not sorted, disjoint and apart", round, rs)
			}
		}
		for off := int64(-1); off < 70; off++ {
			if rs.covers(off) != covered[off] {
				t.Fatalf("round %d: %v covers(%d) = %v", round, rs, off, rs.covers(off))
			}
		}
		if merged := slices.Clone(rs).merged(); !slices.Equal(merged, rs) {
			t.Fatalf("round %d: merged(%v) = %v", round, rs, merged)
		}
	}
}
